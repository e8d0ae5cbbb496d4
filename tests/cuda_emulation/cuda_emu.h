// A CPU stand-in for the CUDA execution model, enough to run the CuPy backend's .cu kernels
// under g++ (tests/test_cupy_kernels_emulated.py): every block runs its threads as std::threads
// meeting at a std::barrier for __syncthreads(); blocks run one after another, so __shared__
// (a static local) is per block as on a GPU.
#include <barrier>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

struct dim3 { unsigned x = 1, y = 1, z = 1; };
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
std::barrier<>* emu_barrier;
#define __global__
#define __device__
#define __shared__ static
inline void __syncthreads() { emu_barrier->arrive_and_wait(); }
using std::exp; using std::isnan; using std::log; using std::sqrt; using std::tanh; using std::erf;
using std::max; using std::min;
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static std::mutex emu_mutex;
inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long value) {
    std::lock_guard<std::mutex> lock(emu_mutex);
    const unsigned long long old = *address;
    if (old == compare) *address = value;
    return old;
}
template <class F> void launch(unsigned gx, unsigned gy, unsigned bx, F body) {
    gridDim.x = gx; gridDim.y = gy; blockDim.x = bx;
    for (unsigned y = 0; y < gy; ++y) {
        for (unsigned x = 0; x < gx; ++x) {
            std::barrier<> barrier(bx);
            emu_barrier = &barrier;
            std::vector<std::thread> threads;
            for (unsigned t = 0; t < bx; ++t) {
                threads.emplace_back([=] { threadIdx.x = t; blockIdx.x = x; blockIdx.y = y; body(); });
            }
            for (auto& thread : threads) thread.join();
        }
    }
}
