"""The base class of all distributions, as ``torch.distributions.Distribution``."""

from __future__ import annotations

import warnings
from typing import Any

import ember

from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]


def _size(shape: Any) -> ember.Size:
    return ember.Size(tuple(shape))


class Distribution:
    """Abstract base class for probability distributions.

    A distribution has a ``batch_shape`` (independent, not identically distributed draws) and an
    ``event_shape`` (the shape of one draw); ``sample(sample_shape)`` returns a tensor of shape
    ``sample_shape + batch_shape + event_shape``.

    Args:
        batch_shape (Size): the shape over which parameters are batched. Default: ``Size([])``.
        event_shape (Size): the shape of a single sample. Default: ``Size([])``.
        validate_args (bool, optional): whether to validate the parameters and the values given to
            ``log_prob``. Default: the process-wide setting (``True``, as PyTorch's outside ``python -O``),
            see :meth:`set_default_validate_args`.

    Example::

        >>> from ember.distributions import Normal
        >>> d = Normal(ember.zeros(3), 1.0)
        >>> d.batch_shape, d.event_shape
        (ember.Size([3]), ember.Size([]))
        >>> d.sample((2,)).shape
        ember.Size([2, 3])
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Sets whether validation is enabled or disabled by default.

        Args:
            value (bool): the new default.

        Example::

            >>> from ember.distributions import Distribution, Normal
            >>> Distribution.set_default_validate_args(False)
            >>> Normal(0.0, -1.0).scale   # not checked
            tensor(-1.)
            >>> Distribution.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = (), event_shape: Any = (), validate_args: bool | None = None) -> None:
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(
                    f"{self.__class__} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                    "initialize the distribution with `validate_args=False` to turn off validation.",
                    stacklevel=2,
                )
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                    continue  # the parameter that was not given (probs when logits were)
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} (Tensor of shape {tuple(value.shape)}) of distribution "
                        f"{self!r} to satisfy the constraint {constraint!r}, but found invalid values:\n{value}"
                    )
        super().__init__()

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """A new distribution with the batch dimensions expanded to ``batch_shape`` (parameters are
        expanded views, not copies).

        Args:
            batch_shape (Size): the desired expanded size.
            _instance: a new instance provided by subclasses that override ``expand``.

        Example::

            >>> from ember.distributions import Normal
            >>> Normal(0.0, 1.0).expand((4,)).batch_shape
            ember.Size([4])
        """
        raise NotImplementedError

    @property
    def batch_shape(self) -> ember.Size:
        """The shape over which parameters are batched.

        Example::

            >>> from ember.distributions import Bernoulli
            >>> Bernoulli(ember.full((2, 3), 0.5)).batch_shape
            ember.Size([2, 3])
        """
        return self._batch_shape

    @property
    def event_shape(self) -> ember.Size:
        """The shape of a single sample (without batching).

        Example::

            >>> from ember.distributions import Independent, Normal
            >>> Normal(ember.zeros(4), 1.0).event_shape, Independent(Normal(ember.zeros(4), 1.0), 1).event_shape
            (ember.Size([]), ember.Size([4]))
        """
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """A dictionary from argument names to the :class:`Constraint` each must satisfy.

        Example::

            >>> from ember.distributions import Normal
            >>> sorted(Normal.arg_constraints)
            ['loc', 'scale']
        """
        raise NotImplementedError

    @property
    def support(self) -> Any:
        """The :class:`Constraint` of the distribution's support.

        Example::

            >>> from ember.distributions import Bernoulli
            >>> Bernoulli(0.5).support
            Boolean()
        """
        raise NotImplementedError

    @property
    def mean(self) -> ember.Tensor:
        """The mean of the distribution.

        Example::

            >>> from ember.distributions import Uniform
            >>> Uniform(0.0, 2.0).mean
            tensor(1.)
        """
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self) -> ember.Tensor:
        """The mode of the distribution.

        Example::

            >>> from ember.distributions import Categorical
            >>> Categorical(ember.tensor([0.1, 0.7, 0.2])).mode
            tensor(1)
        """
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> ember.Tensor:
        """The variance of the distribution.

        Example::

            >>> from ember.distributions import Bernoulli
            >>> Bernoulli(0.5).variance
            tensor(0.2500)
        """
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self) -> ember.Tensor:
        """The standard deviation of the distribution.

        Example::

            >>> from ember.distributions import Normal
            >>> Normal(0.0, 2.0).stddev
            tensor(2.)
        """
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        """Draws a sample of shape ``sample_shape + batch_shape + event_shape`` (no gradient), from
        the generator of the parameters' device (seeded by ``ember.manual_seed``).

        Args:
            sample_shape (Size): the leading shape of independent draws. Default: ``Size([])``.

        Example::

            >>> from ember.distributions import Normal
            >>> Normal(ember.zeros(2), 1.0).sample((5,)).shape
            ember.Size([5, 2])
        """
        with ember.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        """Draws a reparameterized sample: gradients flow back to the parameters.

        Args:
            sample_shape (Size): the leading shape of independent draws. Default: ``Size([])``.

        Example::

            >>> from ember.distributions import Normal
            >>> loc = ember.zeros(2, requires_grad=True)
            >>> Normal(loc, 1.0).rsample().sum().backward()
            >>> loc.grad
            tensor([1., 1.])
        """
        raise NotImplementedError(f"{self.__class__} does not implement rsample")

    def sample_n(self, n: int) -> ember.Tensor:
        """Draws ``n`` samples (deprecated: use ``sample((n,))``).

        Args:
            n (int): the number of samples.

        Example::

            >>> import warnings
            >>> from ember.distributions import Normal
            >>> with warnings.catch_warnings():
            ...     warnings.simplefilter("ignore")
            ...     Normal(0.0, 1.0).sample_n(3).shape
            ember.Size([3])
        """
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning, stacklevel=2)
        return self.sample(ember.Size((n,)))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        """The log of the probability density (mass) function evaluated at ``value``.

        Args:
            value (Tensor): the value(s), of shape broadcastable to ``batch_shape + event_shape``.

        Example::

            >>> from ember.distributions import Normal
            >>> Normal(0.0, 1.0).log_prob(ember.tensor(0.0))
            tensor(-0.9189)
        """
        raise NotImplementedError(f"{self.__class__} does not implement log_prob")

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        """The cumulative distribution function evaluated at ``value``.

        Args:
            value (Tensor): the value(s).

        Example::

            >>> from ember.distributions import Normal
            >>> Normal(0.0, 1.0).cdf(ember.tensor(0.0))
            tensor(0.5000)
        """
        raise NotImplementedError(f"{self.__class__} does not implement cdf")

    def icdf(self, value: ember.Tensor) -> ember.Tensor:
        """The inverse cumulative distribution function evaluated at ``value``.

        Args:
            value (Tensor): probabilities.

        Example::

            >>> from ember.distributions import Uniform
            >>> Uniform(0.0, 4.0).icdf(ember.tensor(0.25))
            tensor(1.)
        """
        raise NotImplementedError(f"{self.__class__} does not implement icdf")

    def enumerate_support(self, expand: bool = True) -> ember.Tensor:
        """All values of a discrete distribution's support, along a new leading dimension.

        Args:
            expand (bool): expand the result over the batch dimensions (else they are singleton).
                Default: ``True``.

        Example::

            >>> from ember.distributions import Bernoulli
            >>> Bernoulli(ember.tensor([0.3, 0.6])).enumerate_support()
            tensor([[0., 0.],
                    [1., 1.]])
        """
        raise NotImplementedError(f"{self.__class__} does not implement enumerate_support")

    def entropy(self) -> ember.Tensor:
        """The entropy of the distribution, batched over ``batch_shape``.

        Example::

            >>> from ember.distributions import Categorical
            >>> Categorical(ember.ones(4)).entropy()
            tensor(1.3863)
        """
        raise NotImplementedError(f"{self.__class__} does not implement entropy")

    def perplexity(self) -> ember.Tensor:
        """``exp(entropy)``, batched over ``batch_shape``.

        Example::

            >>> from ember.distributions import Categorical
            >>> Categorical(ember.ones(4)).perplexity()
            tensor(4.)
        """
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: Any = ()) -> ember.Size:
        """``sample_shape + batch_shape + event_shape``."""
        if not isinstance(sample_shape, ember.Size):
            sample_shape = _size(sample_shape)
        return ember.Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value: Any) -> None:
        """Raises ``ValueError`` when ``value`` is no tensor, its shape does not broadcast with
        ``batch_shape + event_shape``, or it lies outside the support."""
        if not isinstance(value, ember.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.dim() - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: {value.shape} vs {self._event_shape}."
            )
        actual_shape = tuple(value.shape)
        expected_shape = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: {ember.Size(actual_shape)} vs "
                    f"{ember.Size(expected_shape)}."
                )
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(
                f"{self.__class__} does not define `support` to enable sample validation. Please initialize "
                "the distribution with `validate_args=False` to turn off validation.",
                stacklevel=2,
            )
            return
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {actual_shape}) to be within the "
                f"support ({support!r}) of the distribution {self!r}, but found invalid values:\n{value}"
            )

    def _expanded(self, cls: type, batch_shape: Any, _instance: Any, names: tuple[str, ...] = ()) -> Any:
        """A new instance of ``cls`` with the tensors ``names`` (those this instance holds) expanded to
        ``batch_shape`` and the distribution's shapes set: the body of most ``expand`` methods."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        for name in names:
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _get_checked_instance(self, cls: type[Distribution], _instance: Any = None) -> Any:
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom __init__() method "
                "must also define a custom .expand() method."
            )
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].shape}" for p in names
        )
        return f"{self.__class__.__name__}({args})"
