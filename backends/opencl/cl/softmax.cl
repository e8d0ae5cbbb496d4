// Softmax / log-softmax along one axis, one work-item per row (meta = [nd, outer shape,
// offset, outer strides]; rows are strided views:
// row i starts at base(i), its elements are `step` apart; the output is contiguous, so its
// row i starts at (i / inner) * k * inner + i % inner, elements `inner` apart). LOG: log-softmax.
__kernel void softmax(const long rows, const long k, __global T *out, __global const T *x,
                      __constant long *meta, const long step, const long inner)
{
    const long i = get_global_id(0);
    if (i >= rows) return;
    const int nd = (int)meta[0];
    long base = meta[1 + nd];
$OUTER
    __global const T *row = x + base;
    __global T *dst = out + (i / inner) * k * inner + i % inner;
    const long dstep = inner;
    T mx = -INFINITY;
    for (long j = 0; j < k; ++j) mx = fmax(mx, row[j * step]);
    for (long j = 0; j < k; ++j) if (isnan(row[j * step])) mx = row[j * step];
    T s = 0;
    for (long j = 0; j < k; ++j) s += exp(row[j * step] - mx);
#if LOG
    const T ls = log(s);
    for (long j = 0; j < k; ++j) dst[j * dstep] = row[j * step] - mx - ls;
#else
    for (long j = 0; j < k; ++j) dst[j * dstep] = exp(row[j * step] - mx) / s;
#endif
}
