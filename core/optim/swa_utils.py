"""``ember.optim.swa_utils``: weight averaging, PyTorch's ``torch.optim.swa_utils``.

:class:`AveragedModel` keeps a running average of a model's parameters: the equal-weight average
of Stochastic Weight Averaging (SWA, Izmailov et al., 2018) by default, or an exponential moving
average (EMA) with :func:`get_ema_multi_avg_fn`. :class:`SWALR` anneals each group's learning rate
to a constant SWA rate, and :func:`update_bn` recomputes batch-norm statistics for averaged weights.
The updates compute what PyTorch's CPU path computes, in the same order of operations.

Example::

    >>> model = ember.nn.Linear(2, 1)
    >>> ema = ember.optim.swa_utils.AveragedModel(model, multi_avg_fn=ember.optim.swa_utils.get_ema_multi_avg_fn(0.9))
    >>> ema.update_parameters(model)  # the first call copies the weights
    >>> with ember.no_grad():
    ...     _ = model.weight.add_(1.0)
    >>> ema.update_parameters(model)  # then 0.9 * average + 0.1 * weights
    >>> bool(ember.allclose(ema.module.weight, model.weight - 0.9))
    True
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..device import device as _device
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..ops.creation import zeros
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step
from .optimizer import Optimizer

__all__ = [
    "AveragedModel",
    "SWALR",
    "update_bn",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]

#: an averaging function of one parameter: (average, current, number averaged so far) -> new average
AvgFn = Callable[[Tensor, Tensor, "Tensor | int"], Tensor]
#: an in-place averaging function of lists of parameters, as ``AvgFn`` for each pair
MultiAvgFn = Callable[[Sequence[Tensor], Sequence[Tensor], "Tensor | int"], None]


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    r"""The in-place exponential moving average of lists of parameters:
    :math:`W^{EMA} \leftarrow \text{decay}\, W^{EMA} + (1 - \text{decay})\, W^{model}`, computed as
    ``lerp_(W_model, 1 - decay)`` for floating parameters.

    Args:
        decay (float): the decay, in ``[0, 1]``. Default: 0.999

    Example::

        >>> update = ember.optim.swa_utils.get_ema_multi_avg_fn(0.5)
        >>> average = [ember.tensor([0.0, 2.0])]
        >>> update(average, [ember.tensor([2.0, 4.0])], 1)
        >>> average[0]
        tensor([1., 3.])
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(averaged: Sequence[Tensor], current: Sequence[Tensor], num_averaged: Tensor | int) -> None:
        if averaged[0].dtype.is_floating_point:
            for average, value in zip(averaged, current, strict=True):
                average.lerp_(value, 1 - decay)
        else:
            for average, value in zip(averaged, current, strict=True):
                average.copy_(average * decay + value * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    r"""The in-place equal-weight average of lists of parameters after ``n`` models:
    :math:`W^{SWA} \leftarrow W^{SWA} + (W^{model} - W^{SWA}) / (n + 1)`, computed as
    ``lerp_(W_model, 1 / (n + 1))`` for floating parameters.

    Example::

        >>> update = ember.optim.swa_utils.get_swa_multi_avg_fn()
        >>> average = [ember.tensor([1.0])]
        >>> update(average, [ember.tensor([4.0])], 2)
        >>> average[0]
        tensor([2.])
    """

    @no_grad()
    def swa_update(averaged: Sequence[Tensor], current: Sequence[Tensor], num_averaged: Tensor | int) -> None:
        if averaged[0].dtype.is_floating_point:
            weight = float(1 / (num_averaged + 1))  # a 0-d count gives the default dtype's quotient
            for average, value in zip(averaged, current, strict=True):
                average.lerp_(value, weight)
        else:
            for average, value in zip(averaged, current, strict=True):
                average.add_((value - average) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    r"""The exponential moving average of one parameter:
    ``decay * average + (1 - decay) * current``.

    Args:
        decay (float): the decay, in ``[0, 1]``. Default: 0.999

    Example::

        >>> ember.optim.swa_utils.get_ema_avg_fn(0.5)(ember.tensor([0.0]), ember.tensor([2.0]), 1)
        tensor([1.])
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(averaged: Tensor, current: Tensor, num_averaged: Tensor | int) -> Tensor:
        return decay * averaged + (1 - decay) * current

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    r"""The equal-weight average of one parameter after ``n`` models:
    ``average + (current - average) / (n + 1)``.

    Example::

        >>> ember.optim.swa_utils.get_swa_avg_fn()(ember.tensor([1.0]), ember.tensor([4.0]), 2)
        tensor([2.])
    """

    @no_grad()
    def swa_update(averaged: Tensor, current: Tensor, num_averaged: Tensor | int) -> Tensor:
        return averaged + (current - averaged) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are a running average of ``model``'s (SWA or EMA).

    :meth:`update_parameters` folds in ``model``'s current weights: the first call copies them,
    later calls apply ``avg_fn`` to each parameter or ``multi_avg_fn`` to the lists of them (the
    equal-weight SWA average when neither is given). The buffers are averaged as well with
    ``use_buffers=True``; otherwise they are copied from ``model``. Calling the averaged model
    runs the copy. The averaging functions are not part of :meth:`state_dict`; ``n_averaged`` is.

    Args:
        model (Module): the model whose weights are averaged.
        device (ember.device, optional): where the copy lives. Default: with ``model``
        avg_fn (callable, optional): ``(average, current, n_averaged) -> new average`` per parameter.
        multi_avg_fn (callable, optional): ``(averages, currents, n_averaged)``, updating the
            list of averages in place.
        use_buffers (bool): average the buffers too. Default: ``False``

    Example::

        >>> model = ember.nn.Linear(3, 1)
        >>> swa = ember.optim.swa_utils.AveragedModel(model)
        >>> swa.update_parameters(model)
        >>> int(swa.n_averaged)
        1
        >>> swa(ember.ones(2, 3)).shape
        ember.Size([2, 1])
    """

    def __init__(
        self,
        model: Module,
        device: _device | str | int | None = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", zeros((), dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        if self.use_buffers:
            averages = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            currents = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averages, currents = list(self.parameters()), list(model.parameters())
        pairs = [(average.detach(), value.detach().to(average.device)) for average, value in zip(averages, currents)]
        first = int(self.n_averaged.item()) == 0
        if first:
            for average, value in pairs:
                average.copy_(value)
        elif self.multi_avg_fn is not None:
            for group in _by_device_and_dtype(pairs):
                averages_of_group = [average for average, _ in group]
                values_of_group = [value for _, value in group]
                self.multi_avg_fn(averages_of_group, values_of_group, self.n_averaged.to(group[0][0].device))
        else:  # one parameter at a time: PyTorch's path on the CPU (its GPU path lerps lists)
            average_one = self.avg_fn or get_swa_avg_fn()
            for average, value in pairs:
                average.copy_(average_one(average, value, self.n_averaged.to(average.device)))
        if not self.use_buffers:
            for own, theirs in zip(self.module.buffers(), model.buffers(), strict=True):
                own.detach().copy_(theirs.detach().to(own.device))
        self.n_averaged += 1


def _by_device_and_dtype(pairs: list[tuple[Tensor, Tensor]]) -> list[list[tuple[Tensor, Tensor]]]:
    """``pairs`` in groups of one device and dtype (of the average), in first-seen order."""
    groups: dict[tuple[Any, Any], list[tuple[Tensor, Tensor]]] = {}
    for average, value in pairs:
        groups.setdefault((average.device, average.dtype), []).append((average, value))
    return list(groups.values())


@no_grad()
def update_bn(loader: Iterable[Any], model: Module, device: _device | str | int | None = None) -> None:
    """Recompute the running statistics of ``model``'s batch-norm layers with one pass over ``loader``.

    The statistics are reset and become the cumulative average over the batches (``momentum=None``);
    each layer's momentum and the model's training flag are restored afterwards. Each batch is a
    tensor or a list/tuple whose first element is the input.

    Args:
        loader (iterable): the batches.
        model (Module): the model whose batch-norm statistics to recompute.
        device (ember.device, optional): where to move each input first.

    Example::

        >>> model = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2))
        >>> ember.optim.swa_utils.update_bn([ember.ones(4, 2)], model)
        >>> int(model[1].num_batches_tracked)
        1
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each parameter group's learning rate to ``swa_lr`` over ``anneal_epochs`` epochs
    (cosine or linear), then holds it there: the schedule of the SWA phase.

    Args:
        optimizer (Optimizer): the wrapped optimizer.
        swa_lr (float or list): the SWA learning rate, for all groups or one per group.
        anneal_epochs (int): epochs of annealing. Default: 10
        anneal_strategy (str): ``"cos"`` or ``"linear"``. Default: ``"cos"``
        last_epoch (int): the index of the last epoch. Default: -1

    Example::

        >>> model = ember.nn.Linear(2, 1)
        >>> opt = ember.optim.SGD(model.parameters(), lr=1.0)
        >>> sched = ember.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
        >>> for _ in range(3):
        ...     opt.step()
        ...     sched.step()
        >>> round(sched.get_last_lr()[0], 6)
        0.1
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        for rate, group in zip(_format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups, strict=True):
            group["swa_lr"] = rate
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The rate before annealing that, mixed with ``swa_lr`` by ``alpha``, gave ``lr``."""
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list[float | Tensor]:
        """The learning rates of the current epoch: each group's rate before annealing, mixed with
        its ``swa_lr`` by the annealing function of the progress through ``anneal_epochs``."""
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        previous_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        before = [self._get_initial_lr(g["lr"], g["swa_lr"], previous_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, before, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        """The state: every attribute but the optimizer and the annealing function."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state returned by :meth:`state_dict`."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
