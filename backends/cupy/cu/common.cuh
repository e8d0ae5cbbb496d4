// Shared by the CuPy backend's .cu files (prepended to each by ember.backends.cupy.source).
// Acc<T>::type: the accumulation type of T (float for float, double for double).
template <typename T> struct Acc { typedef float type; };
template <> struct Acc<double> { typedef double type; };

// Sum (or max) of `value` over a block of EMBER_BLOCK threads, returned to every thread.
#define EMBER_BLOCK 256
template <typename A>
__device__ A ember_block_reduce(A value, A* shared, bool take_max) {
    const int tid = threadIdx.x;
    __syncthreads();  // `shared` may still be read by a previous reduction
    shared[tid] = value;
    __syncthreads();
    for (int step = EMBER_BLOCK / 2; step > 0; step >>= 1) {
        if (tid < step) {
            const A other = shared[tid + step];
            shared[tid] = take_max ? (other > shared[tid] ? other : shared[tid]) : shared[tid] + other;
        }
        __syncthreads();
    }
    return shared[0];
}
