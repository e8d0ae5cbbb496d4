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
from .utils import sum_rightmost

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "ComposeTransform",
    "ExpTransform",
    "IndependentTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
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
        return tuple(
            ember.broadcast_shapes(
                tuple(shape), tuple(getattr(self.loc, "shape", ())), tuple(getattr(self.scale, "shape", ()))
            )
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
