// Negative log-likelihood of class indices over (rows, classes) log-probabilities, and its
// gradient, one thread per row (forward) or per element (backward). A target equal to
// `ignore` (or outside [0, classes): the device-side index check reports it) contributes
// neither loss, weight nor gradient. `weight` is read only when has_weight.
template <typename T>
__global__ void ember_nll_forward(const T* x, const long long* target, const T* weight, int has_weight,
                                  long long ignore, long long rows, long long classes, T* losses, T* weights) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += stride) {
        const long long t = target[r];
        const bool valid = t != ignore && t >= 0 && t < classes;
        const T w = valid ? (has_weight ? weight[t] : T(1)) : T(0);
        losses[r] = valid ? -x[r * classes + t] * w : T(0);
        weights[r] = w;
    }
}

// grad_x[r, c] = -coeff[r * coeff_stride] * weight[t_r] where c == t_r, else 0
template <typename T>
__global__ void ember_nll_backward(const T* coeff, long long coeff_stride, const long long* target, const T* weight,
                                   int has_weight, long long ignore, long long rows, long long classes, T* grad_x) {
    const long long n = rows * classes, stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long r = i / classes, c = i - r * classes, t = target[r];
        grad_x[i] = (t == c && t != ignore) ? -coeff[r * coeff_stride] * (has_weight ? weight[t] : T(1)) : T(0);
    }
}
