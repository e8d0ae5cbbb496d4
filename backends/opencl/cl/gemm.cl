// Batched C = A @ B over strided operands, register-blocked: a work-group of
// (BN / RN) x (BM / RM) work-items computes a BM x BN block of C; each work-item keeps
// RM x RN results in registers, for rows ty + i * (BM / RM) and columns tx + j * (BN / RN).
// A and B pass through local memory BK columns / rows at a time.
// Batch b reads A at a_off[b] and B at b_off[b]; C is contiguous (batch, m, n).
#define BM 64
#define BN 64
#define BK 16
#define RM 4
#define RN 4
#define WX (BN / RN)
#define WY (BM / RM)

__kernel __attribute__((reqd_work_group_size(WX, WY, 1)))
void gemm(const long m, const long n, const long k,
          __global const T *A, const long a_rs, const long a_cs, __global const long *a_off,
          __global const T *B, const long b_rs, const long b_cs, __global const long *b_off,
          __global T *C)
{
    __local T As[BK][BM + 1];  // As[e][r] = A[row0 + r][t + e]
    __local T Bs[BK][BN + 1];  // Bs[e][c] = B[t + e][col0 + c]
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * WX + tx;
    const long row0 = get_group_id(1) * BM, col0 = get_group_id(0) * BN;
    const long batch = get_global_id(2);
    __global const T *a = A + a_off[batch];
    __global const T *b = B + b_off[batch];
    T acc[RM][RN];
    for (int i = 0; i < RM; ++i)
        for (int j = 0; j < RN; ++j) acc[i][j] = 0;
    for (long t = 0; t < k; t += BK) {
        for (int l = tid; l < BM * BK; l += WX * WY) {
            const int r = l / BK, e = l % BK;
            const long gr = row0 + r, ge = t + e;
            As[e][r] = (gr < m && ge < k) ? a[gr * a_rs + ge * a_cs] : (T)0;
        }
        for (int l = tid; l < BK * BN; l += WX * WY) {
            const int e = l / BN, c = l % BN;
            const long ge = t + e, gc = col0 + c;
            Bs[e][c] = (ge < k && gc < n) ? b[ge * b_rs + gc * b_cs] : (T)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = 0; e < BK; ++e) {
            T ar[RM], br[RN];
            for (int i = 0; i < RM; ++i) ar[i] = As[e][ty + i * WY];
            for (int j = 0; j < RN; ++j) br[j] = Bs[e][tx + j * WX];
            for (int i = 0; i < RM; ++i)
                for (int j = 0; j < RN; ++j) acc[i][j] += ar[i] * br[j];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < RM; ++i) {
        const long row = row0 + ty + i * WY;
        if (row >= m) continue;
        for (int j = 0; j < RN; ++j) {
            const long col = col0 + tx + j * WX;
            if (col < n) C[(batch * m + row) * n + col] = acc[i][j];
        }
    }
}
