// Softmax and log-softmax over the last axis of a C-contiguous (rows, dim) array, and their
// backward: one block of EMBER_BLOCK threads per row (grid-stride over rows), accumulating in
// Acc<T>. take_log selects log-softmax.
template <typename T>
__global__ void ember_softmax_forward(const T* x, long long rows, long long dim, int take_log, T* y) {
    typedef typename Acc<T>::type A;
    __shared__ A shared[EMBER_BLOCK];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* in = x + r * dim;
        T* out = y + r * dim;
        A top = (A)in[0];
        for (long long j = threadIdx.x; j < dim; j += EMBER_BLOCK) {
            const A v = (A)in[j];
            top = v > top ? v : top;
        }
        top = ember_block_reduce(top, shared, true);
        A total = 0;
        for (long long j = threadIdx.x; j < dim; j += EMBER_BLOCK) total += exp((A)in[j] - top);
        total = ember_block_reduce(total, shared, false);
        if (take_log) {
            const A shift = top + log(total);
            for (long long j = threadIdx.x; j < dim; j += EMBER_BLOCK) out[j] = (T)((A)in[j] - shift);
        } else {
            for (long long j = threadIdx.x; j < dim; j += EMBER_BLOCK) out[j] = (T)(exp((A)in[j] - top) / total);
        }
    }
}

// softmax:     grad_x = y * (grad - sum(grad * y))
// log-softmax: grad_x = grad - exp(y) * sum(grad)
template <typename T>
__global__ void ember_softmax_backward(const T* grad, const T* y, long long rows, long long dim, int take_log,
                                       T* grad_x) {
    typedef typename Acc<T>::type A;
    __shared__ A shared[EMBER_BLOCK];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* g = grad + r * dim;
        const T* o = y + r * dim;
        T* out = grad_x + r * dim;
        A total = 0;
        for (long long j = threadIdx.x; j < dim; j += EMBER_BLOCK) total += take_log ? (A)g[j] : (A)g[j] * (A)o[j];
        total = ember_block_reduce(total, shared, false);
        for (long long j = threadIdx.x; j < dim; j += EMBER_BLOCK) {
            out[j] = take_log ? (T)((A)g[j] - exp((A)o[j]) * total) : (T)((A)o[j] * ((A)g[j] - total));
        }
    }
}
