// Device-side index check (ember.backends.cupy.device_assert): the first index outside
// [0, bound) that is not `ignore` writes its check's code and value into `status`
// (status[0] == 0 means no failure yet); the host reads `status` at its next sync.
extern "C" __global__ void ember_check_indices(const long long* indices, long long n, long long bound,
                                               long long ignore, int has_ignore, long long code,
                                               unsigned long long* status) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long v = indices[i];
        if ((v < 0 || v >= bound) && !(has_ignore && v == ignore)) {
            if (atomicCAS(status, 0ULL, (unsigned long long)code) == 0ULL) {
                status[1] = (unsigned long long)v;
            }
        }
    }
}
