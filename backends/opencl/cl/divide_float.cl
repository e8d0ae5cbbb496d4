// Floating floor division and remainder of the element-wise maps, with C_T their compute type.
inline C_T fmod_f_(C_T x, C_T y) { C_T r = fmod(x, y); return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
inline C_T fdiv_f_(C_T x, C_T y) { return floor(x / y); }
