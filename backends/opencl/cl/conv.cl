// Convolution by im2col + GEMM. Per spatial dim d (nd <= 3), meta holds one record
// REC(d) = meta + HEAD + 7 * d: [out, kernel, stride, pad_before, dilation, size, x stride].

#define REC(d) (meta + 9 + 7 * (d))

// Columns of x (N, C, *size) without padding copies: work-item i is one run of column
// elements (n, c * K + k, p .. p + out[nd-1]) along the last spatial dim (the divisions are
// paid once per run); element p goes to cols[n * meta[7] + (c * K + k) * meta[8] + p]
// (meta[7], meta[8]: the layout; the backend writes batch-major (N, C*K, P)).
// meta = [nd, C, K, P, x offset, x n-stride, x c-stride, out n-stride, out ck-stride, REC...]
__kernel void im2col(const long total, __global T *cols, __global const T *x, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const int nd = (int)meta[0];
    const long C = meta[1], K = meta[2], P = meta[3];
    __constant long *last = REC(nd - 1);
    const long width = last[0], runs = P / width;
    const long p0 = (i % runs) * width, ck = (i / runs) % (C * K), n = i / (runs * C * K);
    long src = meta[4] + n * meta[5] + (ck / K) * meta[6];
    long rp = p0 / width, rk = ck % K;
    const long kl = rk % last[1];
    rk /= last[1];
    int inside = 1;
    for (int d = nd - 2; d >= 0; --d) {
        __constant long *m = REC(d);
        const long pos = (rp % m[0]) * m[2] - m[3] + (rk % m[1]) * m[4];
        rp /= m[0];
        rk /= m[1];
        inside &= pos >= 0 && pos < m[5];
        src += pos * m[6];
    }
    __global T *dst = cols + n * meta[7] + ck * meta[8] + p0;
    const long start = kl * last[4] - last[3], size = last[5], step = last[2], xs = last[6];
    for (long o = 0; o < width; ++o) {
        const long pos = start + o * step;
        dst[o] = (inside && pos >= 0 && pos < size) ? x[src + pos * xs] : (T)0;
    }
}

// The adjoint of im2col as a gather (no atomics): work-item i owns one run of the
// contiguous dx (N, C, *size) along the last spatial dim and adds, kernel offset by kernel
// offset (the portable order), every column element that read it. dcols is contiguous
// batch-major (N, C*K, P). meta as for im2col (the strides unused).
__kernel void col2im(const long total, __global T *dx, __global const T *dcols, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const int nd = (int)meta[0];
    const long K = meta[2], P = meta[3];
    __constant long *last = REC(nd - 1);
    const long width = last[5], outw = last[0];
    long pos[3], r = i;
    for (int d = nd - 2; d >= 0; --d) {
        pos[d] = r % REC(d)[5];
        r /= REC(d)[5];
    }
    __global const T *src = dcols + r * K * P;  // r = n * C + c
    __global T *dst = dx + i * width;
    for (long x = 0; x < width; ++x) dst[x] = 0;
    for (long k = 0; k < K; ++k) {
        long rk = k / last[1], p = 0, step = outw;
        int hit = 1;
        for (int d = nd - 2; d >= 0 && hit; --d) {
            __constant long *m = REC(d);
            const long q = pos[d] + m[3] - (rk % m[1]) * m[4];
            rk /= m[1];
            hit = q >= 0 && q % m[2] == 0 && q / m[2] < m[0];
            p += (q / m[2]) * step;
            step *= m[0];
        }
        if (!hit) continue;
        __global const T *col = src + k * P + p;
        const long start = (k % last[1]) * last[4] - last[3];
        for (long o = 0; o < outw; ++o) {
            const long x = start + o * last[2];
            if (x >= 0 && x < width) dst[x] += col[o];
        }
    }
}
