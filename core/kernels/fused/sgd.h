// One element of an SGD step (ember.kernels.optim.OptimKernels.sgd_step, operation by operation, as
// PyTorch's single-tensor SGD: add with alpha is a fused multiply-add),
// shared by the CuPy backend (CUDA) and the OpenCL backend. The includer defines T, the element
// type, and EMBER_FN, the function qualifiers ("__device__ inline" for CUDA, "inline" for OpenCL).
// The parameter and the momentum buffer are read and written through pointers.

EMBER_FN T ember_sgd_grad(const T grad, const T param, const T weight_decay, const int maximize)
{
    T g = maximize ? -grad : grad;
    if (weight_decay != 0) g = fma(param, weight_decay, g);  // grad.add(param, alpha=weight_decay)
    return g;
}

// Without momentum: param += -lr * g.
EMBER_FN void ember_sgd_step(T *param, const T grad, const T neg_lr, const T weight_decay, const int maximize)
{
    const T g = ember_sgd_grad(grad, *param, weight_decay, maximize);
    *param = fma(g, neg_lr, *param);  // param.add_(g, alpha=-lr)
}

// With momentum (alpha = 1 - dampening; first: the buffer is new and takes g).
EMBER_FN void ember_sgd_momentum_step(T *param, T *buf, const T grad, const T neg_lr, const T momentum,
                                      const T alpha, const T weight_decay, const int maximize,
                                      const int nesterov, const int first)
{
    const T g = ember_sgd_grad(grad, *param, weight_decay, maximize);
    if (first) {
        *buf = g;
    } else {  // buf.mul_(momentum).add_(g, alpha=1 - dampening): the product rounded by itself
        const T scaled = *buf * momentum;
        *buf = fma(g, alpha, scaled);
    }
    *param = fma(nesterov ? fma(*buf, momentum, g) : *buf, neg_lr, *param);
}
