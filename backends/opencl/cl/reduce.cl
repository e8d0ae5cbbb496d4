// Reduction of the trailing (reduced) dimensions of a strided view, one work-item per output.
// meta = [no, nr, kept shape (no), reduced shape (nr), offset, kept strides, reduced strides].
#define ISNAN(v) $ISNAN

__kernel void reduce(const long m, const long k, __global $OUT_T *out,
                     __global const $IN_T *a, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= m) return;
    const int no = (int)meta[0], nr = (int)meta[1];
    long base = meta[2 + no + nr];
$OUTER
    $ACC_T acc = $INIT;
    long best = 0;
    for (long j = 0; j < k; ++j) {
        long ia = base;
$INNER
        const $ACC_T x = $LOAD;
        $STEP
    }
    $FINAL
}
