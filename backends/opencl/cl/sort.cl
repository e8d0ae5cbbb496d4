// One step of a bitonic sort of rows of (key, index) pairs, ordered by key and then by
// index, so that the result is stable. Rows are padded to a power of two with
// index >= valid, which sorts last. NaN keys sort after every number (before, descending).
#define ISNAN(v) $ISNAN

inline int after(T ka, long ia, T kb, long ib, long valid)
{
    if (ia >= valid || ib >= valid) return ia >= valid && (ib < valid || ia > ib);
    int cmp;
    if (ISNAN(ka) || ISNAN(kb)) cmp = ISNAN(ka) - ISNAN(kb);
    else cmp = (ka > kb) - (ka < kb);
    if (DESCENDING) cmp = -cmp;
    return cmp > 0 || (cmp == 0 && ia > ib);
}

__kernel void bitonic_step(const long n, __global T *keys, __global long *index, const long width,
                           const long valid, const long k, const long j)
{
    const long g = get_global_id(0);
    if (g >= n) return;
    const long row = g / width, i = g % width, l = i ^ j;
    if (l <= i) return;
    const long a = row * width + i, b = row * width + l;
    const int swap = ((i & k) == 0) == after(keys[a], index[a], keys[b], index[b], valid);
    if (swap) {
        T tk = keys[a]; keys[a] = keys[b]; keys[b] = tk;
        long ti = index[a]; index[a] = index[b]; index[b] = ti;
    }
}
