// The LSTM cell's gate math, one work-item per (row b, hidden unit j) of (B, H); gate order
// i, f, g, o; sigmoid(x) = 0.5 * tanh(x / 2) + 0.5 (the portable formula). Strided operands
// are read at offset + b * row stride + j * column stride, from meta.

inline T sigmoid_(T x) { return tanh(x * (T)0.5) * (T)0.5 + (T)0.5; }

// gates = gx + (gh + bias); acts (B, 4H) = activated gates; tanh_c = tanh(c').
// meta = [gx offset, row, col strides, c offset, row, col strides, bias offset, stride]
__kernel void lstm_cell(const long total, const long H, __global T *h_new, __global T *c_new, __global T *acts,
                        __global T *tanh_c, __global const T *gx, __global const T *gh, __global const T *bias,
                        const int has_bias, __global const T *c, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const long b = i / H, j = i % H;
    T a[4];
    for (int q = 0; q < 4; ++q) {
        const long col = q * H + j;
        T h = gh[b * 4 * H + col];
        if (has_bias) h += bias[meta[6] + col * meta[7]];
        const T pre = gx[meta[0] + b * meta[1] + col * meta[2]] + h;
        a[q] = q == 2 ? tanh(pre) : sigmoid_(pre);
        acts[b * 4 * H + col] = a[q];
    }
    const T cn = a[1] * c[meta[3] + b * meta[4] + j * meta[5]] + a[0] * a[2];
    const T tc = tanh(cn);
    c_new[i] = cn;
    tanh_c[i] = tc;
    h_new[i] = a[3] * tc;
}

// grad_gates (B, 4H) and grad_c_prev (B, H) from grad_h, grad_c and the forward's acts,
// c and tanh_c. meta = [grad_h, grad_c, c: offset, row, col strides each]
__kernel void lstm_cell_backward(const long total, const long H, __global T *grad_gates, __global T *grad_c_prev,
                                 __global const T *grad_h, __global const T *grad_c, __global const T *acts,
                                 __global const T *c, __global const T *tanh_c, __constant long *meta)
{
    const long i = get_global_id(0);
    if (i >= total) return;
    const long b = i / H, j = i % H;
    __global const T *a = acts + b * 4 * H + j;
    const T ig = a[0], fg = a[H], gg = a[2 * H], og = a[3 * H];
    const T gh = grad_h[meta[0] + b * meta[1] + j * meta[2]];
    const T tc = tanh_c[i];
    const T gc = grad_c[meta[3] + b * meta[4] + j * meta[5]] + gh * og * (1 - tc * tc);
    __global T *out = grad_gates + b * 4 * H + j;
    out[0] = gc * gg * ig * (1 - ig);
    out[H] = gc * c[meta[6] + b * meta[7] + j * meta[8]] * fg * (1 - fg);
    out[2 * H] = gc * ig * (1 - gg * gg);
    out[3 * H] = gh * tc * og * (1 - og);
    grad_c_prev[i] = gc * fg;
}
