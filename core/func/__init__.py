"""``ember.func``: PyTorch's ``torch.func`` -- composable function transforms on ember's autograd.

:func:`grad`, :func:`grad_and_value`, :func:`vjp`, :func:`jvp`, :func:`linearize`, :func:`jacrev`,
:func:`jacfwd`, :func:`hessian`, :func:`vmap`, :func:`functional_call`, :func:`stack_module_state`,
:func:`replace_all_batch_norm_modules_`, :func:`debug_unwrap` and :func:`functionalize`. ember has
reverse-mode autograd only: the forward-mode products (:func:`jvp`, :func:`linearize`) use the
double-backward trick and :func:`jacfwd` assembles the Jacobian by rows, with the same values;
:func:`vmap` runs the function once per batch entry and
stacks the results (a loop, not a batching interpreter).
"""

from __future__ import annotations

from .batch_norm import replace_all_batch_norm_modules_
from .debug import debug_unwrap
from .forward import jvp, linearize
from .functional_call import functional_call, stack_module_state
from .functionalize import functionalize
from .grad import grad, grad_and_value, vjp
from .jacobians import hessian, jacfwd, jacrev
from .vmap import vmap

__all__ = [
    "grad",
    "grad_and_value",
    "vjp",
    "jvp",
    "linearize",
    "jacrev",
    "jacfwd",
    "hessian",
    "vmap",
    "functional_call",
    "stack_module_state",
    "replace_all_batch_norm_modules_",
    "debug_unwrap",
    "functionalize",
]
