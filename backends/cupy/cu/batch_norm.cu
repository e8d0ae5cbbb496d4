// Batch normalization over a C-contiguous (N, C, S) array, statistics per channel over N and S.
// Forward: ember_bn_partial_stats (grid splits x C: Welford's count/mean/M2 of a slice of one
// channel), ember_bn_finalize (one thread per channel merges its slices: mean, biased var,
// 1/sqrt(var + eps)), ember_bn_normalize (element-wise xhat). Backward: the per-channel sums
// of grad and grad * xhat the same way, then grad_x = invstd * (grad - mean(grad) - xhat *
// mean(grad * xhat)). Slices are merged in double.
__device__ void ember_welford_merge(double& n, double& mean, double& m2, double nb, double mean_b, double m2_b) {
    if (nb == 0) return;
    if (n == 0) {
        n = nb; mean = mean_b; m2 = m2_b;
        return;
    }
    const double total = n + nb, delta = mean_b - mean;
    mean += delta * nb / total;
    m2 += m2_b + delta * delta * n * nb / total;
    n = total;
}

template <typename T>
__global__ void ember_bn_partial_stats(const T* x, long long N, long long C, long long S, double* partial) {
    typedef typename Acc<T>::type A;
    __shared__ double counts[EMBER_BLOCK], means[EMBER_BLOCK], m2s[EMBER_BLOCK];
    const long long c = blockIdx.y, splits = gridDim.x, per_channel = N * S;
    A count = 0, mean = 0, m2 = 0;
    for (long long e = (long long)blockIdx.x * EMBER_BLOCK + threadIdx.x; e < per_channel; e += splits * EMBER_BLOCK) {
        const long long n = e / S;
        const A v = (A)x[(n * C + c) * S + (e - n * S)];
        count += 1;
        const A delta = v - mean;
        mean += delta / count;
        m2 += delta * (v - mean);
    }
    const int tid = threadIdx.x;
    counts[tid] = count; means[tid] = mean; m2s[tid] = m2;
    __syncthreads();
    for (int step = EMBER_BLOCK / 2; step > 0; step >>= 1) {
        if (tid < step) {
            ember_welford_merge(counts[tid], means[tid], m2s[tid], counts[tid + step], means[tid + step], m2s[tid + step]);
        }
        __syncthreads();
    }
    if (tid == 0) {
        double* out = partial + (c * splits + blockIdx.x) * 3;
        out[0] = counts[0]; out[1] = means[0]; out[2] = m2s[0];
    }
}

template <typename T>
__global__ void ember_bn_finalize(const double* partial, long long C, long long splits, double eps, T* mean, T* var,
                                  T* invstd) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x; c < C; c += stride) {
        double n = 0, m = 0, m2 = 0;
        for (long long k = 0; k < splits; ++k) {
            const double* p = partial + (c * splits + k) * 3;
            ember_welford_merge(n, m, m2, p[0], p[1], p[2]);
        }
        const T v = (T)(m2 / n);
        mean[c] = (T)m;
        var[c] = v;
        invstd[c] = T(1) / sqrt(v + (T)eps);
    }
}

template <typename T>
__global__ void ember_bn_normalize(const T* x, const T* mean, const T* invstd, long long n, long long C, long long S,
                                   T* xhat) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long c = (i / S) % C;
        xhat[i] = (x[i] - mean[c]) * invstd[c];
    }
}

template <typename T>
__global__ void ember_bn_partial_grad(const T* grad, const T* xhat, long long N, long long C, long long S,
                                      double* partial) {
    typedef typename Acc<T>::type A;
    __shared__ A shared[EMBER_BLOCK];
    const long long c = blockIdx.y, splits = gridDim.x, per_channel = N * S;
    A sum_g = 0, sum_gx = 0;
    for (long long e = (long long)blockIdx.x * EMBER_BLOCK + threadIdx.x; e < per_channel; e += splits * EMBER_BLOCK) {
        const long long n = e / S, i = (n * C + c) * S + (e - n * S);
        const A g = (A)grad[i];
        sum_g += g;
        sum_gx += g * (A)xhat[i];
    }
    sum_g = ember_block_reduce(sum_g, shared, false);
    sum_gx = ember_block_reduce(sum_gx, shared, false);
    if (threadIdx.x == 0) {
        double* out = partial + (c * splits + blockIdx.x) * 2;
        out[0] = sum_g; out[1] = sum_gx;
    }
}

// means[c] = (mean of grad, mean of grad * xhat) over the `count` elements of channel c
extern "C" __global__ void ember_bn_grad_finalize(const double* partial, long long C, long long splits, double count,
                                       double* means) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x; c < C; c += stride) {
        double sum_g = 0, sum_gx = 0;
        for (long long k = 0; k < splits; ++k) {
            sum_g += partial[(c * splits + k) * 2];
            sum_gx += partial[(c * splits + k) * 2 + 1];
        }
        means[2 * c] = sum_g / count;
        means[2 * c + 1] = sum_gx / count;
    }
}

template <typename T>
__global__ void ember_bn_backward(const T* grad, const T* xhat, const T* invstd, const double* means, long long n,
                                  long long C, long long S, T* grad_x) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long c = (i / S) % C;
        grad_x[i] = (grad[i] - (T)means[2 * c] - xhat[i] * (T)means[2 * c + 1]) * invstd[c];
    }
}

// Running statistics, in place: running = running * keep + stat * weight (keep = 1 - momentum,
// weight = momentum, times Bessel's correction for the variance); n elements, C-contiguous.
template <typename T>
__global__ void ember_running_update(T* running, const T* stat, long long n, T keep, T weight) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride)
        running[k] = running[k] * keep + stat[k] * weight;
}
