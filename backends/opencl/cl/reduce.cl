// Reduction of the trailing (reduced) dimensions of a strided view: work-item g reduces chunk
// g % chunks of output g / chunks and writes out[g] (chunks == 1: one work-item per output).
// meta = [no, nr, kept shape (no), reduced shape (nr), offset, kept strides, reduced strides].
#define ISNAN(v) $ISNAN

__kernel void reduce(const long m, const long k, __global $OUT_T *out,
                     __global const $IN_T *a, __constant long *meta, const long chunks)
{
    const long g = get_global_id(0);
    if (g >= m * chunks) return;
    const long i = g / chunks, per = (k + chunks - 1) / chunks, j0 = (g % chunks) * per;
    const long j1 = min(k, j0 + per);
    const int no = (int)meta[0], nr = (int)meta[1];
    long base = meta[2 + no + nr];
$OUTER
    $ACC_T acc = $INIT;
    long best = 0;
    for (long j = j0; j < j1; ++j) {
        long ia = base;
$INNER
        const $ACC_T x = $LOAD;
        $STEP
    }
    $FINAL
}
