// Pooling over x (N, C, *size), nd <= 3 spatial dims. Per spatial dim d, meta holds
// REC(d) = [out, kernel, stride, pad_before, dilation, size, x stride];
// meta = [nd, C, x offset, x n-stride, x c-stride, REC...]. Work-item i owns one run of the
// contiguous output along the last spatial dim (index divisions paid once per run).

#define REC(d) (meta + 5 + 7 * (d))

// Step the window counters c[0..n) to the next combination in row-major order, each c[d]
// running over [lo[d], hi[d]) and wrapping back to lo[d].
inline void next_window_(long *c, const long *lo, const long *hi, int n)
{
    for (int d = n - 1; d >= 0; --d) {
        if (++c[d] < hi[d]) return;
        c[d] = lo[d];
    }
}

// Max pooling: values and flat plane indices; in row-major window order a later element
// wins when greater or NaN (the first in-bounds element starts), PyTorch's rule.
__kernel void max_pool(const long total, __global T *values, __global long *indices, __global const T *x,
                       __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const int nd = (int)meta[0];
    __constant long *last = REC(nd - 1);
    long start[3], flat_step[3], kc[3], k0[3], k1[3], r = i, outer = 1, fs = last[5];
    for (int d = nd - 2; d >= 0; --d) {
        __constant long *m = REC(d);
        start[d] = (r % m[0]) * m[2] - m[3];
        r /= m[0];
        flat_step[d] = fs;
        fs *= m[5];
        k0[d] = 0;
        k1[d] = m[1];
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
            next_window_(kc, k0, k1, nd - 1);  // next outer kernel offset
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

// The window of output o along one dim: [start, end) clipped to the input, and its divisor
// factor (PyTorch's rule: with count_include_pad the window clipped to the padded input).
inline long window_(long o, __constant long *m, int include_pad, long *lo, long *hi)
{
    const long start = o * m[2] - m[3], end = min(start + m[1], m[5] + m[3]);
    *lo = max(start, 0L);
    *hi = min(end, m[5]);
    return include_pad ? end - start : *hi - *lo;
}

// The divisor of output o along the last dim (whose window [*lo, *hi) it sets), ``factor`` being
// the product of the other dims' window factors: ``divisor`` when nonzero (divisor_override).
inline long divisor_(long o, __constant long *m, int include_pad, long factor, long divisor, long *lo, long *hi)
{
    const long size = factor * window_(o, m, include_pad, lo, hi);
    return divisor ? divisor : size;
}

// Average pooling (dilation 1): the in-bounds sum in row-major window order over the divisor
// (``divisor`` when nonzero: divisor_override).
__kernel void avg_pool(const long total, __global T *out, __global const T *x, __constant long *meta,
                       const int include_pad, const long divisor)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const int nd = (int)meta[0];
    __constant long *last = REC(nd - 1);
    long lo[3], hi[3], kc[3], r = i, outer = 1, factor = 1;
    for (int d = nd - 2; d >= 0; --d) {
        __constant long *m = REC(d);
        factor *= window_(r % m[0], m, include_pad, lo + d, hi + d);
        r /= m[0];
        kc[d] = lo[d];
        outer *= hi[d] - lo[d];
    }
    const long base = meta[2] + (r / meta[1]) * meta[3] + (r % meta[1]) * meta[4];
    const long outw = last[0], xs = last[6];
    for (long o = 0; o < outw; ++o) {
        long l, h;
        const long div = divisor_(o, last, include_pad, factor, divisor, &l, &h);
        T acc = 0;
        for (int d = 0; d < nd - 1; ++d) kc[d] = lo[d];
        for (long t = 0; t < outer; ++t) {
            long src = base;
            for (int d = 0; d < nd - 1; ++d) src += kc[d] * REC(d)[6];
            for (long p = l; p < h; ++p) acc += x[src + p * xs];
            next_window_(kc, lo, hi, nd - 1);
        }
        out[i * outw + o] = acc / (T)div;
    }
}

// The adjoint of avg_pool as a gather: work-item i owns one run of the contiguous dx
// (N, C, *size) along the last dim and adds grad / divisor of every window over it.
// grad is contiguous (N, C, *out) from offset meta[2]; the other strides are unused.
__kernel void avg_pool_backward(const long total, __global T *dx, __global const T *grad, __constant long *meta,
                                const int include_pad, const long divisor)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const int nd = (int)meta[0];
    __constant long *last = REC(nd - 1);
    long first[3], count[3], end[3], oc[3], pos[3], r = i, combos = 1, plane = 1;
    for (int d = nd - 2; d >= 0; --d) {
        __constant long *m = REC(d);
        pos[d] = r % m[5];
        r /= m[5];
        // outputs whose window [o * s - p, o * s - p + k) holds pos
        const long q = pos[d] + m[3];
        first[d] = q >= m[1] ? (q - m[1]) / m[2] + 1 : 0;
        count[d] = max(min(q / m[2], m[0] - 1) - first[d] + 1, 0L);
        end[d] = first[d] + count[d];
        combos *= count[d];
    }
    for (int d = 0; d < nd; ++d) plane *= REC(d)[0];
    __global const T *g = grad + meta[2] + r * plane;  // r = n * C + c
    const long width = last[5], outw = last[0];
    __global T *dst = dx + i * width;
    for (long x = 0; x < width; ++x) dst[x] = 0;
    for (int d = 0; d < nd - 1; ++d) oc[d] = first[d];
    for (long t = 0; t < combos; ++t) {
        long row = 0, factor = 1, l, h;
        for (int d = 0; d < nd - 1; ++d) {
            row = row * REC(d)[0] + oc[d];
            factor *= window_(oc[d], REC(d), include_pad, &l, &h);
        }
        for (long o = 0; o < outw; ++o) {
            const T v = g[row * outw + o] / (T)divisor_(o, last, include_pad, factor, divisor, &l, &h);
            for (long x = l; x < h; ++x) dst[x] += v;
        }
        next_window_(oc, first, end, nd - 1);
    }
}
