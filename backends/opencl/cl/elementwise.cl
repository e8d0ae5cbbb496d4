// Element-wise map over strided, broadcast operands into a strided output.
// Generated parts (template fields): helper functions, input parameters, the offset
// computation from the linear index i (shapes and strides in meta), the loads and the store.
$HELPERS

__kernel void elementwise(const long n, __global $OUT_T *out $PARAMS, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= n) return;
$INDEX
$LOADS
$STORE
}
