// Pooling over x (N, C, *size), nd <= 3 spatial dims. Per spatial dim d, meta holds
// REC(d) = [out, kernel, stride, pad_before, dilation, size, x stride];
// meta = [nd, C, x offset, x n-stride, x c-stride, REC...]. Work-item i owns one run of the
// contiguous output along the last spatial dim (index divisions paid once per run).

#define REC(d) (meta + 5 + 7 * (d))

// Max pooling: values and flat plane indices; in row-major window order a later element
// wins when greater or NaN (the first in-bounds element starts), PyTorch's rule.
__kernel void max_pool(const long total, __global T *values, __global long *indices, __global const T *x,
                       __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const int nd = (int)meta[0];
    __constant long *last = REC(nd - 1);
    long start[3], flat_step[3], kc[3], r = i, outer = 1, fs = last[5];
    for (int d = nd - 2; d >= 0; --d) {
        __constant long *m = REC(d);
        start[d] = (r % m[0]) * m[2] - m[3];
        r /= m[0];
        flat_step[d] = fs;
        fs *= m[5];
        outer *= m[1];
    }
    const long base = meta[2] + (r / meta[1]) * meta[3] + (r % meta[1]) * meta[4];
    const long outw = last[0], kw = last[1], size = last[5], xs = last[6];
    for (long o = 0; o < outw; ++o) {
        const long lstart = o * last[2] - last[3];
        T best = 0;
        long arg = -1;
        for (int d = 0; d < nd - 1; ++d) kc[d] = 0;
        for (long t = 0; t < outer; ++t) {
            long src = base, flat = 0;
            int inside = 1;
            for (int d = 0; d < nd - 1; ++d) {
                __constant long *m = REC(d);
                const long pos = start[d] + kc[d] * m[4];
                inside &= pos >= 0 && pos < m[5];
                src += pos * m[6];
                flat += pos * flat_step[d];
            }
            for (long k = 0; inside && k < kw; ++k) {
                const long pos = lstart + k * last[4];
                if (pos < 0 || pos >= size) continue;
                const T v = x[src + pos * xs];
                if (arg < 0 || v > best || isnan(v)) {
                    best = v;
                    arg = flat + pos;
                }
            }
            for (int d = nd - 2; d >= 0; --d) {  // next outer kernel offset (row-major)
                if (++kc[d] < REC(d)[1]) break;
                kc[d] = 0;
            }
        }
        values[i * outw + o] = best;
        indices[i * outw + o] = arg;
    }
}

// out (planes, p) = zeros with values (planes, q) added at flat plane indices: one
// work-item per plane, serially (no atomics; duplicates accumulate in order).
__kernel void pool_scatter_add(const long planes, const long p, const long q, __global T *out,
                               __global const T *values, const long v_off, __global const long *indices,
                               const long i_off)
{
    const long i = get_global_id(0);
    if (i >= planes) return;
    __global T *dst = out + i * p;
    for (long j = 0; j < p; ++j) dst[j] = 0;
    __global const T *v = values + v_off + i * q;
    __global const long *idx = indices + i_off + i * q;
    for (long j = 0; j < q; ++j) dst[idx[j]] += v[j];
}
