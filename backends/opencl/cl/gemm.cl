// Batched C = A @ B over strided operands, tiled through local memory (TILE x TILE).
// Batch b reads A at a_off[b] and B at b_off[b]; C is contiguous (batch, m, n).
__kernel void gemm(const long m, const long n, const long k,
                   __global const T *A, const long a_rs, const long a_cs, __global const long *a_off,
                   __global const T *B, const long b_rs, const long b_cs, __global const long *b_off,
                   __global T *C)
{
    __local T As[TILE][TILE];
    __local T Bs[TILE][TILE + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const long col = get_group_id(0) * TILE + tx, row = get_group_id(1) * TILE + ty;
    const long batch = get_global_id(2);
    __global const T *a = A + a_off[batch];
    __global const T *b = B + b_off[batch];
    T acc = 0;
    for (long t = 0; t < k; t += TILE) {
        As[ty][tx] = (row < m && t + tx < k) ? a[row * a_rs + (t + tx) * a_cs] : (T)0;
        Bs[ty][tx] = (col < n && t + ty < k) ? b[(t + ty) * b_rs + col * b_cs] : (T)0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = 0; e < TILE; ++e) acc += As[ty][e] * Bs[e][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < m && col < n) C[(batch * m + row) * n + col] = acc;
}
