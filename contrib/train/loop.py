"""``fit`` and ``evaluate``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal, TextIO

import ember
from ember import Tensor
from ember.nn import Module
from ember.optim import Optimizer
from ember.optim.lr_scheduler import LRScheduler

#: ``loss_fn(output, target)``: a scalar, with mean reduction.
LossFn = Callable[[Tensor, Tensor], Tensor]
#: A device: ``"cpu"``, ``"cuda:0"``, ... or an :class:`ember.device`.
DeviceLike = str | ember.device

__all__ = ["fit", "evaluate", "CHECKPOINT_NAME"]

#: The file :func:`fit` writes in ``checkpoint_dir`` after every epoch.
CHECKPOINT_NAME = "checkpoint.safetensors"

_HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "samples_per_s", "seconds")


def _to(batch: Any, device: ember.device) -> Any:
    if isinstance(batch, ember.Tensor):
        return batch if batch.device == device else batch.to(device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(b, device) for b in batch) if type(batch) in (list, tuple) else batch
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return batch


def _split(batch: Any) -> Any:
    if not isinstance(batch, (list, tuple)) or len(batch) != 2:
        raise ValueError(
            f"fit/evaluate: expected each batch to be (inputs, targets), got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else "")
        )
    return batch


def _correct(output: Tensor, target: Tensor) -> int | None:
    """Number of correct argmax predictions for (N, C) outputs and (N,) class targets, else None."""
    if output.ndim == 2 and target.ndim == 1 and not target.dtype.is_floating_point:
        return int((output.argmax(1) == target).sum().item())
    return None


class _Meter:
    def __init__(self) -> None:
        self.loss_sum = 0.0
        self.correct = 0
        self.has_accuracy = True
        self.samples = 0
        self.start = time.perf_counter()

    def update(self, loss: Tensor, output: Tensor, target: Tensor) -> None:
        n = target.shape[0] if target.ndim else 1
        self.samples += n
        self.loss_sum += float(loss.item()) * n
        correct = _correct(output, target)
        if correct is None:
            self.has_accuracy = False
        else:
            self.correct += correct

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.samples, 1)

    @property
    def accuracy(self) -> float | None:
        return self.correct / max(self.samples, 1) if self.has_accuracy and self.samples else None

    @property
    def rate(self) -> float:
        return self.samples / max(time.perf_counter() - self.start, 1e-9)

    def postfix(self) -> dict[str, str]:
        out = {"loss": f"{self.loss:.4f}"}
        if self.accuracy is not None:
            out["acc"] = f"{100 * self.accuracy:.2f}%"
        out["samples/s"] = f"{self.rate:.0f}"
        return out


class _Progress:
    """A tqdm bar over ``loader`` that shows a :class:`_Meter` after each batch and closes on exit
    (nothing at all when ``progress`` is False or tqdm is not installed)."""

    def __init__(self, loader: Iterable[Any], progress: bool, desc: str) -> None:
        self.bar = None
        if not progress:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        try:
            total = len(loader)  # type: ignore[arg-type]
        except TypeError:
            total = None
        self.bar = tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, dynamic_ncols=True, leave=True)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.bar is not None:
            self.bar.close()

    def show(self, meter: _Meter) -> None:
        if self.bar is not None:
            self.bar.set_postfix(meter.postfix(), refresh=False)
            self.bar.update()


def _resolve_device(model: Module, device: DeviceLike | None) -> ember.device:
    """The device to run on, as its tensors report it (``"cuda"`` as the current ``cuda:N``, ``"cpu:0"``
    as ``cpu``), so that batches already there are not copied."""
    if device is not None:
        return ember.empty(0, device=device).device
    for p in model.parameters():
        return p.device
    return ember.empty(0).device


def evaluate(
    model: Module,
    loader: Iterable[Any],
    loss_fn: LossFn | None = None,
    device: DeviceLike | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run ``model`` over ``loader`` in eval mode without gradients.

    Args:
        model: the :class:`ember.nn.Module`.
        loader: yields ``(inputs, targets)`` batches.
        loss_fn: ``loss_fn(output, target)`` with mean reduction. Default: cross entropy.
        device: where to run. Default: the device of the model's parameters.
        progress: show a tqdm progress bar. Default: ``False``.

    Returns:
        ``{"loss": mean loss, "accuracy": fraction correct (None unless outputs are
        (N, C) scores of class targets), "samples": count}``.
    """
    loss_fn = loss_fn or ember.nn.CrossEntropyLoss()
    device = _resolve_device(model, device)
    was_training = model.training
    model.eval()
    meter = _Meter()
    try:
        with _Progress(loader, progress, "eval") as bar, ember.no_grad():
            for batch in loader:
                inputs, target = _to(_split(batch), device)
                output = model(inputs)
                meter.update(loss_fn(output, target), output, target)
                bar.show(meter)
    finally:
        model.train(was_training)
    return {"loss": meter.loss, "accuracy": meter.accuracy, "samples": meter.samples}


def _rng_states(device: ember.device, loader: Iterable[Any]) -> dict[str, Any]:
    from ember.tensor import backend_for_device

    states = {"cpu": ember.default_generator.get_state()}
    kind, index = device.type, device.index
    if kind != "cpu":
        states["device"] = backend_for_device(device).generator(index).get_state()
    generator = getattr(loader, "generator", None)
    if generator is not None:
        states["loader"] = generator.get_state()
    return states


def _restore_rng(states: dict[str, Any], device: ember.device, loader: Iterable[Any]) -> None:
    from ember.tensor import backend_for_device

    ember.default_generator.set_state(states["cpu"])
    if "device" in states:
        index = device.index
        backend_for_device(device).generator(index).set_state(states["device"])
    generator = getattr(loader, "generator", None)
    if "loader" in states:
        if generator is None:
            raise ValueError(
                "fit: the checkpoint holds a data-loader generator state but train_loader has no generator"
            )
        generator.set_state(states["loader"])


def _checkpoint_path(checkpoint_dir: str | os.PathLike[str] | None, resume: bool | str | os.PathLike[str]) -> str:
    if isinstance(resume, (str, os.PathLike)):
        return os.fspath(resume)
    if checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir (or pass the checkpoint path as resume=...)")
    return os.path.join(checkpoint_dir, CHECKPOINT_NAME)


def _format_epoch(epoch: int, epochs: int, train: _Meter, val: dict[str, Any] | None, rate: float) -> str:
    parts = [f"epoch {epoch}/{epochs}", f"train loss {train.loss:.4f}"]
    if train.accuracy is not None:
        parts[-1] += f" acc {100 * train.accuracy:.2f}%"
    if val is not None:
        parts.append(
            f"val loss {val['loss']:.4f}"
            + (f" acc {100 * val['accuracy']:.2f}%" if val["accuracy"] is not None else "")
        )
    parts.append(f"{rate:.0f} samples/s")
    return " | ".join(parts)


def fit(
    model: Module,
    train_loader: Iterable[Any],
    optimizer: Optimizer,
    loss_fn: LossFn | None = None,
    epochs: int = 1,
    val_loader: Iterable[Any] | None = None,
    device: DeviceLike | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool | str | os.PathLike[str] = False,
    progress: bool | Literal["epoch"] = True,
    plot_path: str | os.PathLike[str] | None = None,
    scheduler: LRScheduler | None = None,
    log: TextIO | None = None,
) -> dict[str, list[Any]]:
    """Train ``model`` for ``epochs`` epochs; optionally validate, checkpoint and plot after each one.

    After every epoch, when ``checkpoint_dir`` is given, ``checkpoint_dir/checkpoint.safetensors``
    is replaced atomically with the model and optimizer ``state_dict``, the number of
    completed epochs, the metrics history and the random-generator states (the default
    generator, the device's generator and ``train_loader.generator``). ``resume=True``
    restores all of it and carries on, so interrupted-and-resumed training ends with the
    same parameters, bit for bit, as uninterrupted training.

    Args:
        model: the :class:`ember.nn.Module` to train (moved to ``device``).
        train_loader: yields ``(inputs, targets)`` batches, e.g. a
            :class:`ember.utils.data.DataLoader`; for exact resume with ``shuffle=True``,
            give it a ``generator=ember.Generator()`` or rely on the default generator.
        optimizer: an :class:`ember.optim.Optimizer` over the model's parameters.
        loss_fn: ``loss_fn(output, target)`` with mean reduction. Default: cross entropy.
        epochs: the total number of epochs (including those done before a resume).
            Default: ``1``.
        val_loader: batches to evaluate after each epoch. Default: ``None``.
        device: where to train. Default: the device of the model's parameters.
        checkpoint_dir: folder for the per-epoch checkpoint. Default: ``None`` (none).
        resume: ``True`` to continue from ``checkpoint_dir``'s checkpoint, or a
            checkpoint path. Default: ``False``.
        progress: ``True`` shows a tqdm progress bar per epoch (loss, accuracy, samples/s)
            and a summary line after each epoch; ``"epoch"`` only the summary lines;
            ``False`` nothing. Default: ``True``.
        plot_path: write a PNG of the loss/accuracy curves here after each epoch.
            Default: ``None``.
        scheduler: a learning-rate scheduler stepped once after each epoch (its state is
            checkpointed too). Default: ``None``.
        log: where the per-epoch summary lines go. Default: standard error.

    Returns:
        The metrics history: a dict of per-epoch lists ``epoch``, ``train_loss``,
        ``train_accuracy``, ``val_loss``, ``val_accuracy``, ``samples_per_s``, ``seconds``.

    Example::

        >>> history = fit(model, train_loader, ember.optim.SGD(model.parameters(), lr=0.1),
        ...               epochs=5, val_loader=test_loader, checkpoint_dir="runs/lenet")
    """
    loss_fn = loss_fn or ember.nn.CrossEntropyLoss()
    device = _resolve_device(model, device)
    model.to(device)
    history: dict[str, list[Any]] = {key: [] for key in _HISTORY_KEYS}
    start_epoch = 0
    if resume:
        path = _checkpoint_path(checkpoint_dir, resume)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"fit: no checkpoint to resume from at {path}")
        state = ember.load(path, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        history = {key: list(state["history"].get(key, [])) for key in _HISTORY_KEYS}
        start_epoch = int(state["epoch"])
        _restore_rng(state["rng"], device, train_loader)
    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
    stream = log or sys.stderr

    for epoch in range(start_epoch + 1, epochs + 1):
        model.train()
        meter = _Meter()
        with _Progress(train_loader, progress is True, f"epoch {epoch}/{epochs}") as bar:
            for batch in train_loader:
                inputs, target = _to(_split(batch), device)
                optimizer.zero_grad()
                output = model(inputs)
                loss = loss_fn(output, target)
                loss.backward()
                optimizer.step()
                meter.update(loss.detach(), output.detach(), target)
                bar.show(meter)
        seconds, rate = time.perf_counter() - meter.start, meter.rate
        if scheduler is not None:
            scheduler.step()
        val = evaluate(model, val_loader, loss_fn, device) if val_loader is not None else None
        for key, value in zip(
            _HISTORY_KEYS,
            (
                epoch,
                meter.loss,
                meter.accuracy,
                val and val["loss"],
                val and val["accuracy"],
                rate,
                seconds,
            ),
        ):
            history[key].append(value)
        if progress:
            print(_format_epoch(epoch, epochs, meter, val, rate), file=stream, flush=True)
        if checkpoint_dir is not None:
            ember.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "epoch": epoch,
                    "history": history,
                    "rng": _rng_states(device, train_loader),
                },
                os.path.join(checkpoint_dir, CHECKPOINT_NAME),
            )
        if plot_path is not None:
            from .plot import plot_history

            plot_history(history, plot_path)
    return history
