// Dropout in one launch (ember.backends.cupy.kernels): element k is kept when the first word of
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) at
// counter (k, 0) under the draw's 64-bit key is below keep_below = (1 - p) * 2^32. The kept
// elements are scaled by 1 / (1 - p); mask holds that factor or 0 for the backward.
__device__ unsigned int ember_philox_first(unsigned long long index, unsigned long long key) {
    unsigned int c0 = (unsigned int)index, c1 = (unsigned int)(index >> 32), c2 = 0, c3 = 0;
    unsigned int k0 = (unsigned int)key, k1 = (unsigned int)(key >> 32);
    for (int round = 0; round < 10; ++round) {
        if (round) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const unsigned long long p0 = 0xD2511F53ull * c0, p1 = 0xCD9E8D57ull * c2;
        const unsigned int hi0 = (unsigned int)(p0 >> 32), lo0 = (unsigned int)p0;
        const unsigned int hi1 = (unsigned int)(p1 >> 32), lo1 = (unsigned int)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    return c0;
}

template <typename T>
__global__ void ember_dropout(const T* x, long long n, long long key, long long keep_below, T scale, T* y, T* mask) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        const bool keep = (long long)ember_philox_first((unsigned long long)k, (unsigned long long)key) < keep_below;
        const T factor = keep ? scale : T(0);
        mask[k] = factor;
        y[k] = x[k] * factor;
    }
}
