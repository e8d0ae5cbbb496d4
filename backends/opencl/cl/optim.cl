// Fused optimizer steps, one work-item per element: the element arithmetic is the shared
// bodies in ember/kernels/fused/{sgd,adam}.h (prepended, with T and EMBER_FN defined).
// Contraction to fma is off so that results equal the portable kernels' op by op.
#pragma OPENCL FP_CONTRACT OFF

__kernel void sgd(const long n, __global T *param, __global const T *grad, const T neg_lr,
                  const T weight_decay, const int maximize)
{
    const long i = get_global_id(0);
    if (i >= n) return;
    T p = param[i];
    ember_sgd_step(&p, grad[i], neg_lr, weight_decay, maximize);
    param[i] = p;
}

__kernel void sgd_momentum(const long n, __global T *param, __global T *buf, __global const T *grad,
                           const T neg_lr, const T momentum, const T alpha, const T weight_decay,
                           const int maximize, const int nesterov, const int first)
{
    const long i = get_global_id(0);
    if (i >= n) return;
    T p = param[i], b = first ? 0 : buf[i];
    ember_sgd_momentum_step(&p, &b, grad[i], neg_lr, momentum, alpha, weight_decay, maximize, nesterov, first);
    param[i] = p;
    buf[i] = b;
}

// amsgrad == 0: max_exp_avg_sq is not read or written (any buffer may stand in for it).
__kernel void adam(const long n, __global T *param, __global T *exp_avg, __global T *exp_avg_sq,
                   __global T *max_exp_avg_sq, __global const T *grad, const T decay, const T weight_decay,
                   const T w1, const T beta2, const T w2, const T bc2_sqrt, const T eps,
                   const T neg_step_size, const int maximize, const int decoupled, const int amsgrad)
{
    const long i = get_global_id(0);
    if (i >= n) return;
    T p = param[i], m = exp_avg[i], v = exp_avg_sq[i], vmax = amsgrad ? max_exp_avg_sq[i] : 0;
    ember_adam_step(&p, &m, &v, amsgrad ? &vmax : 0, grad[i], decay, weight_decay, w1, beta2, w2, bc2_sqrt, eps,
                    neg_step_size, maximize, decoupled);
    param[i] = p;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (amsgrad) max_exp_avg_sq[i] = vmax;
}
