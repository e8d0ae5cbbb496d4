// One element of an Adam/AdamW step (ember.kernels.optim.OptimKernels.adam_step, operation by
// operation), shared by the CuPy backend (CUDA) and the OpenCL backend. The includer defines T,
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
        else g = g + *param * weight_decay;
    }
    *exp_avg = *exp_avg + (g - *exp_avg) * w1;
    *exp_avg_sq = *exp_avg_sq * beta2 + g * g * w2;
    T second = *exp_avg_sq;
    if (max_exp_avg_sq) {
        const T m = *max_exp_avg_sq;
        *max_exp_avg_sq = (m > second || m != m) ? m : second;  // NaN-propagating maximum
        second = *max_exp_avg_sq;
    }
    *param = *param + *exp_avg / (sqrt(second) / bc2_sqrt + eps) * neg_step_size;
}
