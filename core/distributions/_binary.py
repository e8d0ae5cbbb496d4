"""The ``probs``/``logits`` parameterization shared by the binary families (private).

Bernoulli, Geometric, Binomial and LogitRelaxedBernoulli take exactly one of ``probs`` (success
probability) and ``logits`` (its log-odds); the other is computed on first access.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

import ember

from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits


class BinaryParameters:
    """Mixin: ``probs``/``logits`` of one binary event per element, one given and the other lazy."""

    def _set_probs_or_logits(self, probs: Any, logits: Any, *others: Any) -> tuple[bool, tuple[ember.Tensor, ...]]:
        """Stores the given one of ``probs``/``logits`` broadcast with ``others``; returns whether it
        was a number and the broadcast ``others``."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        *rest, param = broadcast_all(*others, given)
        setattr(self, name, param)
        return isinstance(given, Number), tuple(rest)

    @property
    def _param(self) -> ember.Tensor:
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    def _expand_probs_or_logits(self, new: Any, batch_shape: Any) -> None:
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape))

    @lazy_property
    def logits(self) -> ember.Tensor:
        """The log-odds of success."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> ember.Tensor:
        """The probability of success."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> ember.Size:
        """The shape of the parameter tensor."""
        return self._param.shape
