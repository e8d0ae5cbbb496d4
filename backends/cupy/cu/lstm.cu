// LSTM cell gate math (ember.backends.cupy.kernels), one thread per (row, hidden unit).
// The forward sums the gate pre-activations itself: gx (input part, with its bias) + gh
// (h @ w_hh^T) + bias (b_hh, when has_bias), all (rows, 4 * hidden) in PyTorch's order i, f, g,
// o except the bias (4 * hidden); every other array is (rows, hidden), C-contiguous. It saves
// the activated gates and tanh(c') for the backward.
template <typename T>
__device__ T sigmoid(T x) { return T(1) / (T(1) + exp(-x)); }

template <typename T>
__global__ void ember_lstm_gates(const T* gx, const T* gh, const T* bias, int has_bias, const T* c, long long n,
                                 long long hidden, T* h_new, T* c_new, T* ig, T* fg, T* gg, T* og, T* tanh_c) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const long long row = k / hidden, col = k % hidden;
        T g[4];
        for (int q = 0; q < 4; ++q) {
            const long long at = row * 4 * hidden + q * hidden + col;
            g[q] = gx[at] + gh[at] + (has_bias ? bias[q * hidden + col] : T(0));
        }
        const T i = sigmoid(g[0]), f = sigmoid(g[1]), z = tanh(g[2]), o = sigmoid(g[3]);
        const T cn = f * c[k] + i * z;
        const T t = tanh(cn);
        ig[k] = i; fg[k] = f; gg[k] = z; og[k] = o;
        c_new[k] = cn; tanh_c[k] = t; h_new[k] = o * t;
    }
}

// The gradient of h' is grad_h + grad_out (the layer output's gradient at this step, when
// has_out; the time loop would otherwise add it with a launch of its own).
template <typename T>
__global__ void ember_lstm_gates_backward(const T* grad_h, const T* grad_out, int has_out, const T* grad_c,
                                          const T* ig, const T* fg, const T* gg, const T* og, const T* c,
                                          const T* tanh_c, long long n, long long hidden, T* grad_gates,
                                          T* grad_c_prev) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const long long row = k / hidden, col = k % hidden;
        T* out = grad_gates + row * 4 * hidden + col;
        const T i = ig[k], f = fg[k], z = gg[k], o = og[k], t = tanh_c[k];
        const T gh = grad_h[k] + (has_out ? grad_out[k] : T(0));
        const T gc = grad_c[k] + gh * o * (T(1) - t * t);
        out[0] = gc * z * i * (T(1) - i);
        out[hidden] = gc * c[k] * f * (T(1) - f);
        out[2 * hidden] = gc * i * (T(1) - z * z);
        out[3 * hidden] = gh * t * o * (T(1) - o);
        grad_c_prev[k] = gc * f;
    }
}
