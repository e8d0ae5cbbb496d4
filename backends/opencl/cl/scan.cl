// Cumulative sum along the trailing dimension of a strided view, one work-item per row.
// meta = [no, outer shape (no), offset, outer strides, row stride]; out is contiguous with
// rows of length k + $INITIAL.
__kernel void cumsum(const long m, const long k, __global $OUT_T *out,
                     __global const $IN_T *a, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= m) return;
    const int no = (int)meta[0];
    long base = meta[1 + no];
$OUTER
    const long step = meta[2 + 2 * no];
    __global $OUT_T *row = out + i * (k + $INITIAL);
    $OUT_T acc = 0;
    if ($INITIAL) row[0] = 0;
    for (long j = 0; j < k; ++j) {
        acc += ($OUT_T)a[base + j * step];
        row[j + $INITIAL] = acc;
    }
}
