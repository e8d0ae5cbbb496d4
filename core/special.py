"""``ember.special``: PyTorch's ``torch.special`` namespace.

Most names are ember's element-wise functions under the names SciPy and PyTorch give them
(``expit`` is :func:`ember.sigmoid`, ``gammaln`` is :func:`ember.lgamma`, ``psi`` is
:func:`ember.digamma`, ``multigammaln`` is :func:`ember.mvlgamma`); the functions ember has
only here (``i0e``, ``i1``, ``i1e``, ``erfcx``, ``ndtr``, ``ndtri``, ``log_ndtr``, ``entr``,
``xlog1py``, ``zeta``, ``gammainc``, ``gammaincc``, the Bessel functions of the first kind) live in
:mod:`ember.ops.special_functions`, those of the second kind and Airy's in
:mod:`ember.ops.bessel_second_kind`, the orthogonal polynomials in :mod:`ember.ops.orthogonal_polynomials`.

Example::

    >>> import ember.special
    >>> ember.special.expit(ember.tensor([0.0]))
    tensor([0.5000])
    >>> ember.special.gammaln(ember.tensor([4.0]))
    tensor([1.7918])
"""

from __future__ import annotations

from . import overrides as _overrides
from .ops.activations import log_softmax, softmax
from .ops.arithmetic import erf, expm1, log1p, sigmoid
from .ops.arithmetic import round as _round
from .ops.bessel_second_kind import (
    airy_ai,
    bessel_y0,
    bessel_y1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
)
from .ops.composite_math import erfc, exp2, logit, sinc, xlogy
from .ops.orthogonal_polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)
from .ops.reduction import logsumexp
from .ops.special import digamma, erfinv, i0, lgamma, mvlgamma, polygamma
from .ops.special_functions import (
    bessel_j0,
    bessel_j1,
    entr,
    erfcx,
    gammainc,
    gammaincc,
    i0e,
    i1,
    i1e,
    log_ndtr,
    modified_bessel_i0,
    modified_bessel_i1,
    ndtr,
    ndtri,
    spherical_bessel_j0,
    xlog1py,
    zeta,
)
from .tensor import Tensor

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
    "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
    "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc",
    "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]  # fmt: skip

expit = sigmoid
gammaln = lgamma
psi = digamma
multigammaln = mvlgamma


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001 - PyTorch's name
    """Alias for :func:`ember.round`, with ``decimals`` a keyword only: PyTorch's ``special_round`` is
    ``round(input, decimals=...)``, so its node is ``RoundBackward1`` even for ``decimals=0``.

    Args:
        input (Tensor): the input tensor.
        decimals (int): the number of decimal places to round to. Default: ``0``.
        out (Tensor, optional): the output tensor. Default: ``None``.

    Example::

        >>> ember.special.round(ember.tensor([1.25, 2.5, -1.5]))
        tensor([ 1.,  2., -2.])
        >>> ember.special.round(ember.tensor([1.25, 2.55]), decimals=1)
        tensor([1.2000, 2.6000])
    """
    return _round(input, decimals=decimals, out=out)


# PyTorch's __torch_function__ protocol: checking wrappers for tensor subclasses, if one was defined before
_overrides.wrap_module_functions(globals(), __name__)
