// Integer floor division, remainder and power of the element-wise maps (x / 0 and x % 0 give 0).
inline long fdiv_(long x, long y) { if (y == 0) return 0; long q = x / y; return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q; }
inline long fmod_i_(long x, long y) { if (y == 0) return 0; long r = x % y; return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
inline long ipow_(long x, long y) { long r = 1; if (y < 0) return x == 1 ? 1 : (x == -1 ? ((y & 1) ? -1 : 1) : 0); while (y) { if (y & 1) r *= x; x *= x; y >>= 1; } return r; }
