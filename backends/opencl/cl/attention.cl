// Fused scaled dot-product attention (flash-attention style): out = softmax(q k^T * scale + mask) v
// without the (L, S) probabilities in memory. The forward walks the keys block by block with an
// online softmax (running row max m, running sum l, the output accumulated and rescaled), and
// saves the log-sum-exp of each row's scores; the backward recomputes the probabilities from it.
//
// Defines: T (float or double: the compute type), HALF (1: the inputs and outputs are float16,
// stored as half and read and written with vload_half / vstore_half_rte, which need no
// cl_khr_fp16; T is then float), VT (T's 8-wide vector type), BM (rows of a work-group: its size),
// BN (rows of a tile in local memory), DMAX (the head dims E and EV rounded up to a multiple of
// 8: the length of the rows in private and local memory, zero-padded past E or EV, so that the
// dot products and updates run on 8-wide vectors: NV = DMAX / 8 of them per row).
// Launch: global (ceil(rows / BM) * BM, batch), local (BM, 1); dimension 1 is the flattened
// batch index b. Queries are rows i < L, keys rows j < S.
//
// meta = [nd, batch shape (nd), then per operand (q, k, v, mask, grad): offset, batch strides (nd),
// row stride, column stride]; the operands are strided views (broadcast ones have zero strides).
// Outputs are contiguous: out (B, L, EV), lse and D (B, L, in T), dq (B, L, E), dk (B, S, E),
// dv (B, S, EV), ds (B, L, S).
// mask_kind: 0 none, 1 bool (bmask, nonzero attends), 2 additive float (fmask); causal: key j
// is masked for query i when j > i. A row whose keys are all masked gives zeros (lse = -inf).

#define NV (DMAX / 8)
#if HALF
typedef half ST;  // the storage type of the inputs and outputs
#define LD(a, i) vload_half((i), (a))
#define STORE(a, i, x) vstore_half_rte((x), (i), (a))
#else
typedef T ST;
#define LD(a, i) ((a)[i])
#define STORE(a, i, x) ((a)[i] = (x))
#endif
#define OP_Q 0
#define OP_K 1
#define OP_V 2
#define OP_MASK 3
#define OP_GRAD 4

// Where operand `op`'s matrix for batch index b lies: its start and its row and column strides.
typedef struct { long at, row, col; } layout;

inline layout layout_of(__constant long *meta, int op, long b)
{
    const int nd = (int)meta[0];
    __constant long *o = meta + 1 + nd + op * (nd + 3);
    layout l = {o[0], o[1 + nd], o[2 + nd]};
    for (int d = nd - 1; d >= 0; --d) {
        const long n = meta[1 + d];
        l.at += (b % n) * o[1 + d];
        b /= n;
    }
    return l;
}

// The layouts of every operand for batch index b (an absent one's entries are q's).
typedef struct { layout q, k, v, mask, grad; } operands;

inline operands operands_of(__constant long *meta, long b)
{
    operands o = {layout_of(meta, OP_Q, b), layout_of(meta, OP_K, b), layout_of(meta, OP_V, b),
                  layout_of(meta, OP_MASK, b), layout_of(meta, OP_GRAD, b)};
    return o;
}

inline long at_(layout l, long r, long c) { return l.at + r * l.row + c * l.col; }

// The score of (i, j) from its dot product: the mask added or applied, the causal mask applied.
inline T masked(T s, long i, long j, int mask_kind, int causal, __global const uchar *bmask,
                __global const ST *fmask, layout ml)
{
    if (mask_kind == 1) {
        if (!bmask[at_(ml, i, j)]) s = -INFINITY;
    } else if (mask_kind == 2) {
        s += LD(fmask, at_(ml, i, j));
    }
    if (causal && j > i) s = -INFINITY;
    return s;
}

// `n` rows of `width` elements of a strided matrix from row `r0` into a local tile of rows DMAX
// long, zero past `width`, times `factor`; shared by the work-group's BM items.
inline void load_tile(__local VT *tile, __global const ST *a, layout l, long r0, int n, int width, T factor)
{
    __local T *t = (__local T *)tile;
    for (int x = get_local_id(0); x < n * DMAX; x += BM) {
        const int r = x / DMAX, d = x % DMAX;
        t[x] = d < width ? LD(a, at_(l, r0 + r, d)) * factor : 0;
    }
}

// Rows j0 .. j0 + n of k and v into their tiles, once every item is done with the last ones.
inline void load_kv(__local VT *ks, __local VT *vs, __global const ST *k, __global const ST *v, operands o,
                    long j0, int n, int E, int EV)
{
    barrier(CLK_LOCAL_MEM_FENCE);
    load_tile(ks, k, o.k, j0, n, E, 1);
    load_tile(vs, v, o.v, j0, n, EV, 1);
    barrier(CLK_LOCAL_MEM_FENCE);
}

// The keys a work-group of queries walks: all, or with the causal flag none past its last query
// (the same bound for the whole group, so that its barriers stay uniform).
inline long key_bound(long L, long S, int causal)
{
    return causal ? min(S, min(L, (long)(get_group_id(0) + 1) * BM)) : S;
}

// Row `r` (`width` elements) of a strided matrix into a private row of NV vectors, zero-padded.
inline void load_row(VT *row, __global const ST *a, layout l, long r, int width, T factor)
{
    T *x = (T *)row;
    for (int d = 0; d < DMAX; ++d) x[d] = d < width ? LD(a, at_(l, r, d)) * factor : 0;
}

inline T dot_(const VT *x, __local const VT *y)
{
    VT s = x[0] * y[0];
    for (int c = 1; c < NV; ++c) s += x[c] * y[c];
    return ((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7));
}

__kernel __attribute__((reqd_work_group_size(BM, 1, 1)))
void attention_forward(const long L, const long S, const int E, const int EV, const T scale,
                       const int mask_kind, const int causal, __global ST *out, __global T *lse,
                       __global const ST *q, __global const ST *k, __global const ST *v,
                       __global const uchar *bmask, __global const ST *fmask, __constant long *meta)
{
    __local VT ks[BN * NV];
    __local VT vs[BN * NV];
    const long i = get_global_id(0), b = get_global_id(1);
    const int live = i < L;
    const operands o = operands_of(meta, b);
    VT qi[NV], acc[NV];
    T s[BN];
    load_row(qi, q, o.q, i, live ? E : 0, scale);
    for (int c = 0; c < NV; ++c) acc[c] = 0;
    T m = -INFINITY, l = 0;
    const long keys = key_bound(L, S, causal);
    for (long j0 = 0; j0 < keys; j0 += BN) {
        const int n = (int)min((long)BN, keys - j0);
        load_kv(ks, vs, k, v, o, j0, n, E, EV);
        if (!live) continue;
        T top = -INFINITY;
        for (int jj = 0; jj < n; ++jj) {
            s[jj] = masked(dot_(qi, ks + jj * NV), i, j0 + jj, mask_kind, causal, bmask, fmask, o.mask);
            top = s[jj] > top || isnan(s[jj]) ? s[jj] : top;  // a NaN score stays (fmax would drop it)
        }
        const T mn = top > m || isnan(top) ? top : m;
        if (mn == -INFINITY) continue;  // every key so far masked
        const T alpha = exp(m - mn);
        T sum = 0;
        for (int c = 0; c < NV; ++c) acc[c] *= alpha;
        for (int jj = 0; jj < n; ++jj) {
            const T p = exp(s[jj] - mn);
            sum += p;
            for (int c = 0; c < NV; ++c) acc[c] += p * vs[jj * NV + c];
        }
        l = l * alpha + sum;
        m = mn;
    }
    if (!live) return;
    const long row = b * L + i;
    const T inv = l == 0 ? 0 : 1 / l;  // NaN stays NaN
    const T *a = (const T *)acc;
    for (int d = 0; d < EV; ++d) STORE(out, row * EV + d, a[d] * inv);
    lse[row] = l == 0 ? -INFINITY : m + log(l);
}

// The probability of a score given its row's log-sum-exp (0 in a fully masked row).
inline T prob(T s, T lse_i) { return lse_i == -INFINITY ? 0 : exp(s - lse_i); }

// dq (and ds, the gradient of the scores, when want_ds) per query row; also D = rowsum(grad * out),
// which attention_backward_dkv reads after it (the same in-order queue).
__kernel __attribute__((reqd_work_group_size(BM, 1, 1)))
void attention_backward_dq(const long L, const long S, const int E, const int EV, const T scale,
                           const int mask_kind, const int causal, const int want_ds, __global ST *dq,
                           __global ST *ds, __global T *D, __global const T *lse, __global const ST *out,
                           __global const ST *q, __global const ST *k, __global const ST *v,
                           __global const ST *grad, __global const uchar *bmask, __global const ST *fmask,
                           __constant long *meta)
{
    __local VT ks[BN * NV];
    __local VT vs[BN * NV];
    const long i = get_global_id(0), b = get_global_id(1);
    const int live = i < L;
    const long row = b * L + i;
    const operands o = operands_of(meta, b);
    VT qi[NV], gi[NV], dqi[NV];
    load_row(qi, q, o.q, i, live ? E : 0, scale);
    load_row(gi, grad, o.grad, i, live ? EV : 0, 1);
    T Di = 0, li = -INFINITY;
    if (live) {
        const T *g = (const T *)gi;
        for (int d = 0; d < EV; ++d) Di += g[d] * LD(out, row * EV + d);
        D[row] = Di;
        li = lse[row];
    }
    for (int c = 0; c < NV; ++c) dqi[c] = 0;
    const long keys = key_bound(L, S, causal);
    for (long j0 = 0; j0 < keys; j0 += BN) {
        const int n = (int)min((long)BN, keys - j0);
        load_kv(ks, vs, k, v, o, j0, n, E, EV);
        if (!live) continue;
        for (int jj = 0; jj < n; ++jj) {
            const T sc = masked(dot_(qi, ks + jj * NV), i, j0 + jj, mask_kind, causal, bmask, fmask, o.mask);
            const T p = prob(sc, li);
            const T dsij = p * (dot_(gi, vs + jj * NV) - Di);
            for (int c = 0; c < NV; ++c) dqi[c] += dsij * ks[jj * NV + c];
            if (want_ds) STORE(ds, row * S + j0 + jj, dsij);
        }
    }
    if (!live) return;
    const T *a = (const T *)dqi;
    for (int d = 0; d < E; ++d) STORE(dq, row * E + d, a[d] * scale);
    if (want_ds)
        for (long j = keys; j < S; ++j) STORE(ds, row * S + j, (T)0);
}

// dk and dv per key row j, over the query rows (causal: only those at or after the group's first key).
__kernel __attribute__((reqd_work_group_size(BM, 1, 1)))
void attention_backward_dkv(const long L, const long S, const int E, const int EV, const T scale,
                            const int mask_kind, const int causal, __global ST *dk, __global ST *dv,
                            __global const T *D, __global const T *lse, __global const ST *q,
                            __global const ST *k, __global const ST *v, __global const ST *grad,
                            __global const uchar *bmask, __global const ST *fmask, __constant long *meta)
{
    __local VT qs[BN * NV];
    __local VT gs[BN * NV];
    __local T ls[BN];
    __local T Ds[BN];
    const long j = get_global_id(0), b = get_global_id(1);
    const int live = j < S;
    const operands o = operands_of(meta, b);
    VT kj[NV], vj[NV], dkj[NV], dvj[NV];
    load_row(kj, k, o.k, j, live ? E : 0, 1);
    load_row(vj, v, o.v, j, live ? EV : 0, 1);
    for (int c = 0; c < NV; ++c) dkj[c] = dvj[c] = 0;
    const long first = causal ? min(L, (long)get_group_id(0) * BM) : 0;
    for (long i0 = first; i0 < L; i0 += BN) {
        const int n = (int)min((long)BN, L - i0);
        barrier(CLK_LOCAL_MEM_FENCE);
        load_tile(qs, q, o.q, i0, n, E, scale);
        load_tile(gs, grad, o.grad, i0, n, EV, 1);
        for (int x = get_local_id(0); x < n; x += BM) {
            ls[x] = lse[b * L + i0 + x];
            Ds[x] = D[b * L + i0 + x];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (!live) continue;
        for (int ii = 0; ii < n; ++ii) {
            const T sc = masked(dot_(kj, qs + ii * NV), i0 + ii, j, mask_kind, causal, bmask, fmask, o.mask);
            const T p = prob(sc, ls[ii]);
            const T dsij = p * (dot_(vj, gs + ii * NV) - Ds[ii]);
            for (int c = 0; c < NV; ++c) {
                dvj[c] += p * gs[ii * NV + c];
                dkj[c] += dsij * qs[ii * NV + c];  // q already scaled
            }
        }
    }
    if (!live) return;
    const long row = b * S + j;
    const T *dka = (const T *)dkj, *dva = (const T *)dvj;
    for (int d = 0; d < E; ++d) STORE(dk, row * E + d, dka[d]);
    for (int d = 0; d < EV; ++d) STORE(dv, row * EV + d, dva[d]);
}
