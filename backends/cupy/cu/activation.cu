// Activations (ember.backends.cupy.kernels), one thread per element over C-contiguous arrays of
// n elements: threshold (ReLU) forward with its mask, GELU forward, and the backward of
// threshold, tanh, sigmoid (from the output) and GELU (from the input), each one launch.
template <typename T>
__global__ void ember_threshold(const T* x, long long n, T threshold, T value, T* y, bool* keep) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const bool pass = !(x[k] <= threshold);  // NaN passes through, as in PyTorch
        keep[k] = pass;
        y[k] = pass ? x[k] : value;
    }
}

template <typename T>
__global__ void ember_threshold_backward(const T* grad, const bool* keep, long long n, T* out) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride)
        out[k] = keep[k] ? grad[k] : T(0);
}

template <typename T>
__global__ void ember_tanh_backward(const T* grad, const T* y, long long n, T* out) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride)
        out[k] = grad[k] * (T(1) - y[k] * y[k]);
}

template <typename T>
__global__ void ember_sigmoid_backward(const T* grad, const T* y, long long n, T* out) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride)
        out[k] = grad[k] * (y[k] * (T(1) - y[k]));
}

// approximate: 0 for x Phi(x) through erf, 1 for the tanh approximation
template <typename T>
__global__ void ember_gelu(const T* x, long long n, int approximate, T* y) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const T v = x[k];
        if (approximate) {
            const T inner = (v + v * v * v * T(0.044715)) * T(0.7978845608028654);
            y[k] = v * T(0.5) * (T(1) + tanh(inner));
        } else {
            y[k] = v * T(0.5) * (T(1) + erf(v * T(0.7071067811865476)));
        }
    }
}

template <typename T>
__global__ void ember_gelu_backward(const T* grad, const T* x, long long n, int approximate, T* out) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const T v = x[k];
        T slope;
        if (approximate) {
            const T t = tanh((v + v * v * v * T(0.044715)) * T(0.7978845608028654));
            const T inner = (T(1) + v * v * T(3 * 0.044715)) * T(0.7978845608028654);
            slope = T(0.5) * (T(1) + t) + v * T(0.5) * (T(1) - t * t) * inner;
        } else {
            const T cdf = T(0.5) * (T(1) + erf(v * T(0.7071067811865476)));
            slope = cdf + v * exp(v * v * T(-0.5)) * T(0.3989422804014327);
        }
        out[k] = grad[k] * slope;
    }
}
