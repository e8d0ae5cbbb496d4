// 2-d max pooling (1-d as height 1) over C-contiguous (planes, H, W) in one pass: one thread per
// output takes the maximum of its window and its flat index h * W + w in the plane. Like
// PyTorch, the first in-bounds element starts the scan and a later one wins when greater or NaN.
template <typename T>
__global__ void ember_max_pool2d(const T* x, long long planes, long long H, long long W, long long OH, long long OW,
                                 int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, T* values,
                                 long long* indices) {
    const long long n = planes * OH * OW, stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long ow = i % OW, oh = (i / OW) % OH, p = i / (OW * OH);
        const T* plane = x + p * H * W;
        T best = T(0);
        long long arg = -1;
        for (int a = 0; a < kh; ++a) {
            const long long h = oh * sh - ph + (long long)a * dh;
            if (h < 0 || h >= H) continue;
            for (int b = 0; b < kw; ++b) {
                const long long w = ow * sw - pw + (long long)b * dw;
                if (w < 0 || w >= W) continue;
                const T v = plane[h * W + w];
                if (arg < 0 || v > best || isnan(v)) {
                    best = v;
                    arg = h * W + w;
                }
            }
        }
        values[i] = arg < 0 ? (T)(-__int_as_float(0x7f800000)) : best;  // -inf: an empty window
        indices[i] = arg < 0 ? 0 : arg;
    }
}
