// Element-wise map over strided, broadcast operands into a strided output; instantiated once
// per expression of a family (one program holds them all). Generated parts (template
// fields): the kernel's name, input parameters, the offset computation from the linear
// index i (shapes and strides in meta), the loads and the store.
__kernel void $NAME(const long n, __global $OUT_T *out $PARAMS, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= n) return;
$INDEX
$LOADS
$STORE
}
