// Gather and scatter through precomputed element offsets (T is the element type).
__kernel void gather(const long n, __global T *out, __global const T *src, __global const long *offsets)
{
    const long i = get_global_id(0);
    if (i < n) out[i] = src[offsets[i]];
}

__kernel void scatter(const long n, __global T *dst, __global const T *values, __global const long *offsets)
{
    const long i = get_global_id(0);
    if (i < n) dst[offsets[i]] = values[i];
}

// After sorting (offset, position) pairs by offset: the first work-item of each run of
// equal offsets adds up its run serially and accumulates it into dst (no atomics).
__kernel void segment_add(const long n, __global T *dst, __global const T *values,
                          __global const long *keys, __global const long *order)
{
    const long i = get_global_id(0);
    if (i >= n || (i > 0 && keys[i - 1] == keys[i])) return;
    T acc = 0;
    long j = i;
    for (; j < n && keys[j] == keys[i]; ++j) acc += values[order[j]];
    dst[keys[i]] += acc;
}

// Coordinates of the nonzero entries of a contiguous mask, given its exclusive prefix sum.
__kernel void nonzero(const long n, const int ndim, __global const uchar *mask, __global const long *position,
                      __global long *out, const long count, __constant long *shape)
{
    const long i = get_global_id(0);
    if (i >= n || !mask[i]) return;
    long rem = i;
    const long p = position[i];
    for (int d = ndim - 1; d >= 0; --d) {
        out[d * count + p] = rem % shape[d];
        rem /= shape[d];
    }
}
