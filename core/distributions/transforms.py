"""Invertible transforms of random variables, as ``torch.distributions.transforms``.

A :class:`Transform` maps ``x`` to ``y = t(x)``, inverts with ``t.inv(y)`` and gives
``log |dy/dx|`` by :meth:`Transform.log_abs_det_jacobian`; :class:`TransformedDistribution` builds
new distributions from them (``LogNormal`` is a ``Normal`` through :class:`ExpTransform`).

Example::

    >>> from ember.distributions.transforms import ExpTransform
    >>> t = ExpTransform()
    >>> t.inv(t(ember.tensor([0.5])))
    tensor([0.5000])
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import ember
import ember.nn.functional as F

from . import constraints
from ._linalg import cholesky
from .utils import broadcast_all, sum_rightmost, tril_matrix_to_vec, vec_to_tril_matrix

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]


class Transform:
    """Abstract class for invertible transformations with computable log-det-Jacobians.

    Args:
        cache_size (int): 0 (no caching) or 1 (the latest ``(x, y)`` pair is kept, so that
            ``t.inv(t(x))`` returns ``x`` itself). Default: ``0``.

    Attributes:
        domain (Constraint): the valid inputs.
        codomain (Constraint): the valid outputs (the inputs of the inverse).
        bijective (bool): whether the transform is bijective.
        sign (int or Tensor): for bijective univariate transforms, +1 or -1 as the transform is
            increasing or decreasing.

    Example::

        >>> from ember.distributions.transforms import AffineTransform
        >>> t = AffineTransform(1.0, 2.0)
        >>> t(ember.tensor([0.0, 1.0])), t.log_abs_det_jacobian(ember.tensor(0.0), ember.tensor(1.0))
        (tensor([1., 3.]), tensor(0.6931))
    """

    bijective = False
    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached_x_y: tuple[Any, Any] = (None, None)
        self._inv: Transform | None = None

    @property
    def event_dim(self) -> int:
        """The number of rightmost dimensions the transform acts on jointly (its domain's)."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self) -> Transform:
        """The inverse transform: ``t.inv(t(x)) == x``."""
        if self._inv is None:
            self._inv = _InverseTransform(self)
        return self._inv

    @property
    def sign(self) -> Any:
        """+1 or -1 as the (bijective, univariate) transform is increasing or decreasing."""
        raise NotImplementedError

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with the given cache size."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __call__(self, x: ember.Tensor) -> ember.Tensor:
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y: ember.Tensor) -> ember.Tensor:
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        raise NotImplementedError

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        """``log |dy/dx|`` given an input and its output.

        Args:
            x (Tensor): the input.
            y (Tensor): the output, ``t(x)``.

        Example::

            >>> from ember.distributions.transforms import ExpTransform
            >>> ExpTransform().log_abs_det_jacobian(ember.tensor(2.0), ember.tensor(2.0).exp())
            tensor(2.)
        """
        raise NotImplementedError

    def forward_shape(self, shape: Any) -> Any:
        """The output shape of an input of ``shape``.

        Example::

            >>> from ember.distributions.transforms import ExpTransform
            >>> ExpTransform().forward_shape((2, 3))
            (2, 3)
        """
        return shape

    def inverse_shape(self, shape: Any) -> Any:
        """The input shape of an output of ``shape``.

        Example::

            >>> from ember.distributions.transforms import ExpTransform
            >>> ExpTransform().inverse_shape((2, 3))
            (2, 3)
        """
        return shape

    def __repr__(self) -> str:
        return self.__class__.__name__ + "()"


class _InverseTransform(Transform):
    """The inverse of a transform (``t.inv``)."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self._inv.codomain  # type: ignore[union-attr]

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return self._inv.domain  # type: ignore[union-attr]

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self._inv.bijective  # type: ignore[union-attr]

    @property
    def sign(self) -> Any:
        return self._inv.sign  # type: ignore[union-attr]

    @property
    def inv(self) -> Transform:
        return self._inv  # type: ignore[return-value]

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self.inv.with_cache(cache_size).inv

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self._inv!r})"

    def __call__(self, x: ember.Tensor) -> ember.Tensor:
        return self._inv._inv_call(x)  # type: ignore[union-attr]

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)  # type: ignore[union-attr]

    def forward_shape(self, shape: Any) -> Any:
        return self._inv.inverse_shape(shape)  # type: ignore[union-attr]

    def inverse_shape(self, shape: Any) -> Any:
        return self._inv.forward_shape(shape)  # type: ignore[union-attr]


class ComposeTransform(Transform):
    """Composes transforms in a chain: ``parts[-1](...parts[0](x))``.

    Args:
        parts (list of Transform): the transforms to compose.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions.transforms import AffineTransform, ComposeTransform, ExpTransform
        >>> t = ComposeTransform([AffineTransform(0.0, 2.0), ExpTransform()])
        >>> t(ember.tensor(0.5))
        tensor(2.7183)
    """

    def __init__(self, parts: list[Transform], cache_size: int = 0) -> None:
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(p.bijective for p in self.parts)

    @property
    def sign(self) -> Any:
        sign = 1
        for p in self.parts:
            sign = sign * p.sign
        return sign

    @property
    def inv(self) -> Transform:
        if self._inv is None:
            self._inv = ComposeTransform([p.inv for p in reversed(self.parts)])
            self._inv._inv = self
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        if not self.parts:
            return ember.zeros_like(x)
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        terms = []
        event_dim = self.domain.event_dim
        for part, xi, yi in zip(self.parts, xs[:-1], xs[1:]):
            terms.append(sum_rightmost(part.log_abs_det_jacobian(xi, yi), event_dim - part.domain.event_dim))
            event_dim += part.codomain.event_dim - part.domain.event_dim
        result = terms[0]
        for term in terms[1:]:
            result = result + term
        return result

    def forward_shape(self, shape: Any) -> Any:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape: Any) -> Any:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{self.__class__.__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])


class _MonotoneTransform(Transform):
    """An increasing elementwise bijection without parameters: every instance equals every other."""

    bijective = True
    sign = +1

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    __hash__ = object.__hash__


class ExpTransform(_MonotoneTransform):
    r"""The transform :math:`y = \exp(x)`.

    Example::

        >>> from ember.distributions.transforms import ExpTransform
        >>> ExpTransform()(ember.tensor([0.0]))
        tensor([1.])
    """

    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return x.exp()

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return x


class SigmoidTransform(_MonotoneTransform):
    r"""The transform :math:`y = \frac{1}{1 + \exp(-x)}` (clamped into the open unit interval).

    Example::

        >>> from ember.distributions.transforms import SigmoidTransform
        >>> SigmoidTransform()(ember.tensor([0.0]))
        tensor([0.5000])
    """

    domain = constraints.real
    codomain = constraints.unit_interval

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        finfo = ember.finfo(x.dtype)
        return ember.sigmoid(x).clamp(min=finfo.tiny, max=1.0 - finfo.eps)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        finfo = ember.finfo(y.dtype)
        y = y.clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(_MonotoneTransform):
    r"""The transform :math:`y = \tanh(x)`.

    Example::

        >>> from ember.distributions.transforms import TanhTransform
        >>> TanhTransform().inv(ember.tensor([0.0]))
        tensor([0.])
    """

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return x.tanh()

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return ember.atanh(y)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AbsTransform(Transform):
    r"""The transform :math:`y = |x|` (not bijective: its inverse returns the non-negative root).

    Example::

        >>> from ember.distributions.transforms import AbsTransform
        >>> AbsTransform()(ember.tensor([-2.0, 3.0]))
        tensor([2., 3.])
    """

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return x.abs()

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return y


class AffineTransform(Transform):
    r"""The pointwise affine transform :math:`y = \text{loc} + \text{scale} \times x`.

    Args:
        loc (Tensor or float): location.
        scale (Tensor or float): scale.
        event_dim (int): the size of ``event_shape``: 1 for vectors, 0 for scalars. Default: ``0``.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions.transforms import AffineTransform
        >>> AffineTransform(ember.tensor([1.0]), 3.0).inv(ember.tensor([7.0]))
        tensor([2.])
    """

    bijective = True

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.loc = loc
        self.scale = scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        if self._event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self._event_dim)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.domain

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AffineTransform):
            return False
        for mine, theirs in ((self.loc, other.loc), (self.scale, other.scale)):
            if isinstance(mine, numbers.Number) and isinstance(theirs, numbers.Number):
                if mine != theirs:
                    return False
            elif not bool((ember.as_tensor(mine) == ember.as_tensor(theirs)).all()):
                return False
        return True

    __hash__ = object.__hash__

    @property
    def sign(self) -> Any:
        if isinstance(self.scale, numbers.Real):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Real):
            result = ember.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self._event_dim:
            result = result.reshape(tuple(result.shape[: result.dim() - self._event_dim]) + (-1,)).sum(-1)
            shape = shape[: len(shape) - self._event_dim]
        return result.expand(shape)

    def forward_shape(self, shape: Any) -> Any:
        return ember.broadcast_shapes(
            tuple(shape), tuple(getattr(self.loc, "shape", ())), tuple(getattr(self.scale, "shape", ()))
        )

    def inverse_shape(self, shape: Any) -> Any:
        return self.forward_shape(shape)


class IndependentTransform(Transform):
    """Wraps a transform to treat ``reinterpreted_batch_ndims`` extra rightmost dimensions as
    dependent: the log-det-Jacobian is summed over them.

    Args:
        base_transform (Transform): the transform to wrap.
        reinterpreted_batch_ndims (int): the number of extra rightmost dimensions.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions.transforms import ExpTransform, IndependentTransform
        >>> t = IndependentTransform(ExpTransform(), 1)
        >>> x = ember.zeros(2, 3)
        >>> t.log_abs_det_jacobian(x, t(x)).shape
        ember.Size([2])
    """

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> Any:
        return self.base_transform.sign

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, IndependentTransform)
            and self.base_transform == other.base_transform
            and self.reinterpreted_batch_ndims == other.reinterpreted_batch_ndims
        )

    __hash__ = object.__hash__

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def forward_shape(self, shape: Any) -> Any:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape: Any) -> Any:
        return self.base_transform.inverse_shape(shape)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


def _vector_shape(shape: Any) -> Any:
    if len(shape) < 1:
        raise ValueError("Too few dimensions on input")
    return tuple(shape)


class SoftmaxTransform(Transform):
    r"""From unconstrained space to the simplex by :math:`y = \exp(x)` normalized over the last
    dimension (not bijective: its inverse is ``log``, up to a constant).

    Example::

        >>> from ember.distributions.transforms import SoftmaxTransform
        >>> SoftmaxTransform()(ember.zeros(4))
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftmaxTransform)

    __hash__ = object.__hash__

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        probs = (x - x.amax(-1, keepdim=True)).exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return y.log()

    def forward_shape(self, shape: Any) -> Any:
        return _vector_shape(shape)

    def inverse_shape(self, shape: Any) -> Any:
        return _vector_shape(shape)


class StickBreakingTransform(Transform):
    """From unconstrained vectors of size ``K - 1`` to the simplex of size ``K`` by stick breaking: each
    coordinate's sigmoid takes that fraction of the stick that is left.

    Example::

        >>> from ember.distributions.transforms import StickBreakingTransform
        >>> t = StickBreakingTransform()
        >>> y = t(ember.zeros(3))
        >>> y
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
        >>> bool((t.inv(y).abs() < 1e-6).all())
        True
    """

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StickBreakingTransform)

    __hash__ = object.__hash__

    @staticmethod
    def _log_offset(n: int, like: ember.Tensor) -> ember.Tensor:
        # log(K - i) for i = 1..K-1: centres the breaks so that zeros map to the uniform point
        return (n + 1 - ember.arange(1, n + 1, dtype=like.dtype, device=like.device)).log()

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        finfo = ember.finfo(x.dtype)
        z = ember.sigmoid(x - self._log_offset(x.shape[-1], x)).clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        z_cumprod = (1 - z).cumprod(-1)
        return F.pad(z, (0, 1), value=1.0) * F.pad(z_cumprod, (1, 0), value=1.0)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        y_crop = y[..., :-1]
        remaining = (1 - y_crop.cumsum(-1)).clamp(min=ember.finfo(y.dtype).tiny)
        return y_crop.log() - remaining.log() + self._log_offset(y_crop.shape[-1], y)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        x = x - self._log_offset(x.shape[-1], x)
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape: Any) -> Any:
        shape = _vector_shape(shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape: Any) -> Any:
        shape = _vector_shape(shape)
        return shape[:-1] + (shape[-1] - 1,)


class ReshapeTransform(Transform):
    """Reshapes the rightmost ``in_shape`` dimensions into ``out_shape`` (a unit Jacobian).

    Args:
        in_shape (Size): the input event shape.
        out_shape (Size): the output event shape, with as many elements.
        cache_size (int): 0 or 1. Default: ``0``.

    Raises:
        ValueError: if the two shapes have different numbers of elements.

    Example::

        >>> from ember.distributions.transforms import ReshapeTransform
        >>> ReshapeTransform((4,), (2, 2))(ember.zeros(3, 4)).shape
        ember.Size([3, 2, 2])
    """

    bijective = True

    def __init__(self, in_shape: Any, out_shape: Any, cache_size: int = 0) -> None:
        self.in_shape = ember.Size(tuple(in_shape))
        self.out_shape = ember.Size(tuple(out_shape))
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return x.reshape(tuple(x.shape[: x.dim() - len(self.in_shape)]) + tuple(self.out_shape))

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return y.reshape(tuple(y.shape[: y.dim() - len(self.out_shape)]) + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return x.new_zeros(tuple(x.shape[: x.dim() - len(self.in_shape)]))

    @staticmethod
    def _reshaped(shape: Any, source: ember.Size, target: ember.Size) -> Any:
        shape = tuple(shape)
        if len(shape) < len(source):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(source)
        if shape[cut:] != tuple(source):
            raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {tuple(source)}")
        return ember.Size(shape[:cut] + tuple(target))

    def forward_shape(self, shape: Any) -> Any:
        return self._reshaped(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape: Any) -> Any:
        return self._reshaped(shape, self.out_shape, self.in_shape)


class PowerTransform(Transform):
    r"""The transform :math:`y = x^{\text{exponent}}` on the positive reals.

    Args:
        exponent (Tensor or float): the exponent.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions.transforms import PowerTransform
        >>> t = PowerTransform(ember.tensor(2.0))
        >>> t(ember.tensor([3.0])), t.inv(ember.tensor([16.0]))
        (tensor([9.]), tensor([4.]))
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self) -> Any:
        return self.exponent.sign()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PowerTransform) and bool((self.exponent == other.exponent).all())

    __hash__ = object.__hash__

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape: Any) -> Any:
        return ember.broadcast_shapes(tuple(shape), tuple(self.exponent.shape))

    def inverse_shape(self, shape: Any) -> Any:
        return self.forward_shape(shape)


class SoftplusTransform(_MonotoneTransform):
    r"""The transform :math:`y = \log(1 + \exp(x))`; its inverse is :math:`x = \log(\exp(y) - 1)`.

    Example::

        >>> from ember.distributions.transforms import SoftplusTransform
        >>> SoftplusTransform()(ember.tensor([0.0]))
        tensor([0.6931])
    """

    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return F.softplus(x)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return -F.softplus(-x)


class _MatrixTransform(Transform):
    """A transform of square matrices without parameters: every instance equals every other."""

    domain = constraints.independent(constraints.real, 2)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    __hash__ = object.__hash__


class LowerCholeskyTransform(_MatrixTransform):
    """From unconstrained square matrices to lower-triangular ones with a positive diagonal: the strictly
    lower triangle is kept and the diagonal exponentiated.

    Example::

        >>> from ember.distributions.transforms import LowerCholeskyTransform
        >>> LowerCholeskyTransform()(ember.tensor([[0.0, 5.0], [2.0, 0.0]]))
        tensor([[1., 0.],
                [2., 1.]])
    """

    codomain = constraints.lower_cholesky

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(_MatrixTransform):
    """From unconstrained square matrices to positive-definite ones: ``L @ L.mT`` for the
    :class:`LowerCholeskyTransform` ``L`` of the input.

    Example::

        >>> from ember.distributions.transforms import PositiveDefiniteTransform
        >>> PositiveDefiniteTransform()(ember.tensor([[0.0, 5.0], [2.0, 0.0]]))
        tensor([[1., 2.],
                [2., 5.]])
    """

    codomain = constraints.positive_definite

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return LowerCholeskyTransform().inv(cholesky(y))


class CorrCholeskyTransform(Transform):
    r"""From unconstrained vectors of size :math:`D(D-1)/2` to the Cholesky factors of :math:`D \times D`
    correlation matrices (lower-triangular, positive diagonal, rows of unit norm): each entry's
    ``tanh`` takes that fraction of the row's remaining norm (stick breaking, as PyTorch's).

    Example::

        >>> from ember.distributions.transforms import CorrCholeskyTransform
        >>> y = CorrCholeskyTransform()(ember.tensor([0.5, -0.3, 1.0]))
        >>> y.shape, bool(((y * y).sum(-1) - 1).abs().max() < 1e-6)
        (ember.Size([3, 3]), True)
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        eps = ember.finfo(x.dtype).eps
        x = x.tanh().clamp(min=-1 + eps, max=1 - eps)
        r = vec_to_tril_matrix(x, diag=-1)
        remaining = (1 - r * r).sqrt().cumprod(-1)
        r = r + ember.eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * F.pad(remaining[..., :-1], (1, 0), value=1.0)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        remaining = F.pad((1 - (y * y).cumsum(-1))[..., :-1], (1, 0), value=1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(remaining, diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        remaining = tril_matrix_to_vec(1 - (y * y).cumsum(-1), diag=-2)
        stick_breaking = 0.5 * remaining.log().sum(-1)
        tanh = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking + tanh

    def forward_shape(self, shape: Any) -> Any:
        shape = _vector_shape(shape)
        n = shape[-1]
        size = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if size * (size - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return shape[:-1] + (size, size)

    def inverse_shape(self, shape: Any) -> Any:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        return shape[:-2] + (shape[-1] * (shape[-1] - 1) // 2,)


def _check_slices(name: str, z: ember.Tensor, dim: int, length: int, what: str) -> None:
    if not -z.dim() <= dim < z.dim():
        raise AssertionError(f"dim {dim} out of range for {name} with {z.dim()} dimensions")
    if z.shape[dim] != length:
        raise AssertionError(f"{name}.size({dim}) = {z.shape[dim]} must equal {what} {length}")


class CatTransform(Transform):
    """Applies a sequence of transforms to consecutive slices of ``dim`` (of the given ``lengths``) and
    concatenates the results, as :func:`ember.cat` does.

    Args:
        tseq (sequence of Transform): the transforms.
        dim (int): the dimension sliced. Default: ``0``.
        lengths (sequence of int, optional): each slice's length. Default: ``1`` each.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions.transforms import CatTransform, ExpTransform, identity_transform
        >>> t = CatTransform([ExpTransform(), identity_transform], dim=0, lengths=[1, 2])
        >>> t(ember.tensor([0.0, 1.0, 2.0]))
        tensor([1., 1., 2.])
    """

    def __init__(self, tseq: Any, dim: int = 0, lengths: Any = None, cache_size: int = 0) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError("All elements of tseq must be Transform instances")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match transforms ({len(self.transforms)})")
        self.dim = dim

    @property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self) -> int:
        """The total length of ``dim``."""
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _slices(self, name: str, z: ember.Tensor) -> list[ember.Tensor]:
        _check_slices(name, z, self.dim, self.length, "length")
        starts = [sum(self.lengths[:i]) for i in range(len(self.lengths))]
        return [z.narrow(self.dim, start, length) for start, length in zip(starts, self.lengths)]

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return ember.cat([t(xs) for t, xs in zip(self.transforms, self._slices("x", x))], self.dim)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return ember.cat([t.inv(ys) for t, ys in zip(self.transforms, self._slices("y", y))], self.dim)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        terms = []
        for t, xs, ys in zip(self.transforms, self._slices("x", x), self._slices("y", y)):
            terms.append(sum_rightmost(t.log_abs_det_jacobian(xs, ys), self.event_dim - t.event_dim))
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        if dim < 0:
            return ember.cat(terms, dim)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Applies the ``i``-th transform to the ``i``-th slice along ``dim`` and stacks the results, as
    :func:`ember.stack` does.

    Args:
        tseq (sequence of Transform): the transforms, one per slice.
        dim (int): the dimension sliced. Default: ``0``.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions.transforms import ExpTransform, StackTransform, identity_transform
        >>> t = StackTransform([ExpTransform(), identity_transform], dim=1)
        >>> t(ember.zeros(3, 2))[0]
        tensor([1., 0.])
    """

    def __init__(self, tseq: Any, dim: int = 0, cache_size: int = 0) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError("All elements of tseq must be Transform instances")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, name: str, z: ember.Tensor) -> list[ember.Tensor]:
        _check_slices(name, z, self.dim, len(self.transforms), "len(transforms)")
        return [z.select(self.dim, i) for i in range(z.shape[self.dim])]

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return ember.stack([t(xs) for t, xs in zip(self.transforms, self._slices("x", x))], self.dim)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return ember.stack([t.inv(ys) for t, ys in zip(self.transforms, self._slices("y", y))], self.dim)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        pieces = zip(self.transforms, self._slices("x", x), self._slices("y", y))
        return ember.stack([t.log_abs_det_jacobian(xs, ys) for t, xs, ys in pieces], self.dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """The cumulative distribution function of a distribution, from its support to the unit interval
    (a copula's building block); its inverse is the distribution's ``icdf`` and its log-det-Jacobian
    its ``log_prob``.

    Args:
        distribution (Distribution): a distribution with ``cdf``, ``icdf`` and ``log_prob``.
        cache_size (int): 0 or 1. Default: ``0``.

    Example::

        >>> from ember.distributions import Normal
        >>> from ember.distributions.transforms import CumulativeDistributionTransform
        >>> CumulativeDistributionTransform(Normal(0.0, 1.0))(ember.tensor([0.0]))
        tensor([0.5000])
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.distribution.support

    def _call(self, x: ember.Tensor) -> ember.Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: ember.Tensor) -> ember.Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
