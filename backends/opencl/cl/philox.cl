// Philox4x32-10 (Salmon et al., SC'11): element i of a draw uses counter (start + i, stream),
// so the values depend only on (seed, start, i), never on the work-group layout.
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

inline uint4 philox(uint4 c, uint2 key)
{
    for (int r = 0; r < 10; ++r) {
        const uint hi0 = mul_hi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        const uint hi1 = mul_hi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        c = (uint4)(hi1 ^ c.y ^ key.x, lo1, hi0 ^ c.w ^ key.y, lo0);
        key += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return c;
}

// Uniform in [0, 1) in R, the type of the transforms: 53 bits from two words where R is double
// (WIDE), else 24 bits from one word (the double code is then not compiled at all).
#if WIDE
inline R uniform(uint a, uint b) { return ((((ulong)a) << 21) ^ (b >> 11)) * (1.0 / 9007199254740992.0); }
#else
inline R uniform(uint a) { return (a >> 8) * (1.0f / 16777216.0f); }
#endif

// kind 0: uniform, 1: normal (Box-Muller), 2: integers in [low, low + range)
__kernel void philox_fill(const long n, __global T *out, const uint seed_lo, const uint seed_hi,
                          const ulong start, const int kind, const long low, const ulong range)
{
    const long i = get_global_id(0);
    if (i >= n) return;
    const ulong ctr = start + (ulong)i;
    const uint4 r = philox((uint4)((uint)ctr, (uint)(ctr >> 32), (uint)kind, 0u), (uint2)(seed_lo, seed_hi));
    if (kind == 2) {
        const ulong bits = (((ulong)r.x) << 32) | r.y;
        out[i] = (T)(low + (long)(bits % range));
        return;
    }
#if WIDE
    const R u1 = uniform(r.x, r.y), u2 = uniform(r.z, r.w);
#else
    const R u1 = uniform(r.x), u2 = uniform(r.y);
#endif
    out[i] = (T)(kind == 0 ? u1 : sqrt((R)-2 * log((R)1 - u1)) * cospi((R)2 * u2));
}
