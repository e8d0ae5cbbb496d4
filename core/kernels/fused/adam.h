// One element of an Adam/AdamW step (ember.kernels.optim.OptimKernels.adam_step, operation by
// operation, as PyTorch's single-tensor Adam: lerp_ and addcmul_ are fused multiply-adds), shared by the CuPy backend (CUDA) and the OpenCL backend. The includer defines T,
// the element type, and EMBER_FN, the function qualifiers ("__device__ inline" for CUDA,
// "inline" for OpenCL). max_exp_avg_sq is a null pointer without AMSGrad.
// Scalars: decay = 1 - lr * weight_decay (decoupled, AdamW), w1 = 1 - beta1, w2 = 1 - beta2,
// bc2_sqrt = sqrt(1 - beta2^t), neg_step_size = -lr / (1 - beta1^t).

EMBER_FN void ember_adam_step(T *param, T *exp_avg, T *exp_avg_sq, T *max_exp_avg_sq, const T grad,
                              const T decay, const T weight_decay, const T w1, const T beta2, const T w2,
                              const T bc2_sqrt, const T eps, const T neg_step_size, const int maximize,
                              const int decoupled)
{
    T g = maximize ? -grad : grad;
    if (weight_decay != 0) {
        if (decoupled) *param = *param * decay;
        else g = fma(*param, weight_decay, g);  // grad.add(param, alpha=weight_decay)
    }
    const T diff = g - *exp_avg;  // exp_avg.lerp_(g, w1): one fused multiply-add from the nearer end
    *exp_avg = fabs(w1) < 0.5f ? fma(w1, diff, *exp_avg) : fma(w1 - 1, diff, g);
    const T decayed = *exp_avg_sq * beta2;  // exp_avg_sq.mul_(beta2).addcmul_(g, g, value=w2)
    *exp_avg_sq = fma(g * w2, g, decayed);
    T second = *exp_avg_sq;
    if (max_exp_avg_sq) {
        const T m = *max_exp_avg_sq;
        *max_exp_avg_sq = (m > second || m != m) ? m : second;  // NaN-propagating maximum
        second = *max_exp_avg_sq;
    }
    // param.addcdiv_(exp_avg, denom, value=-step_size): (value * exp_avg) / denom, added
    *param = *param + neg_step_size * *exp_avg / (sqrt(second) / bc2_sqrt + eps);
}
