// Average pooling over (planes, h, w) C-contiguous planes (ember.backends.cupy.kernels), with
// PyTorch's divisor rule: the window clipped to the padded input (count_include_pad) or to the
// input, or divisor_override when non-zero. Forward: one thread per output element; backward:
// one thread per input element, gathering from the windows that cover it (no atomics).

// The divisor of the window that starts at (y0, x0) (start may be negative: in the padding).
__device__ long long ember_avg_divisor(int y0, int x0, long long h, long long w, int kh, int kw, int ph, int pw,
                                       int include_pad, long long divisor_override) {
    if (divisor_override) return divisor_override;
    const long long y1 = min((long long)y0 + kh, h + ph), x1 = min((long long)x0 + kw, w + pw);
    if (include_pad) return (y1 - y0) * (x1 - x0);
    return (min(y1, h) - max(y0, 0)) * (min(x1, w) - max(x0, 0));
}

template <typename T>
__global__ void ember_avg_pool2d(const T* x, long long planes, long long h, long long w, long long oh, long long ow,
                                 int kh, int kw, int sh, int sw, int ph, int pw, int include_pad,
                                 long long divisor_override, T* y) {
    typedef typename Acc<T>::type A;
    const long long n = planes * oh * ow, stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const long long ox = k % ow, oy = (k / ow) % oh, plane = k / (ow * oh);
        const int y0 = (int)(oy * sh) - ph, x0 = (int)(ox * sw) - pw;
        const long long ya = max(y0, 0), yb = min((long long)y0 + kh, h);
        const long long xa = max(x0, 0), xb = min((long long)x0 + kw, w);
        const T* p = x + plane * h * w;
        A total = A(0);
        for (long long r = ya; r < yb; ++r)
            for (long long q = xa; q < xb; ++q) total += A(p[r * w + q]);
        y[k] = T(total / A(ember_avg_divisor(y0, x0, h, w, kh, kw, ph, pw, include_pad, divisor_override)));
    }
}

template <typename T>
__global__ void ember_avg_pool2d_backward(const T* grad, long long planes, long long h, long long w, long long oh,
                                          long long ow, int kh, int kw, int sh, int sw, int ph, int pw,
                                          int include_pad, long long divisor_override, T* dx) {
    typedef typename Acc<T>::type A;
    const long long n = planes * h * w, stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const long long xx = k % w, yy = (k / w) % h, plane = k / (w * h);
        // output rows whose window [oy * sh - ph, oy * sh - ph + kh) holds yy (columns alike)
        const long long oy_lo = yy + ph < kh ? 0 : (yy + ph - kh) / sh + 1, oy_hi = min((yy + ph) / sh, oh - 1);
        const long long ox_lo = xx + pw < kw ? 0 : (xx + pw - kw) / sw + 1, ox_hi = min((xx + pw) / sw, ow - 1);
        const T* g = grad + plane * oh * ow;
        A total = A(0);
        for (long long oy = oy_lo; oy <= oy_hi; ++oy)
            for (long long ox = ox_lo; ox <= ox_hi; ++ox) {
                const int y0 = (int)(oy * sh) - ph, x0 = (int)(ox * sw) - pw;
                total += A(g[oy * ow + ox]) /
                         A(ember_avg_divisor(y0, x0, h, w, kh, kw, ph, pw, include_pad, divisor_override));
            }
        dx[k] = T(total);
    }
}
