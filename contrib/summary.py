"""``ember.contrib.summary``: a table of a model's layers, output shapes and parameter counts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import ember

__all__ = ["summary"]


def _shape_of(output: Any) -> list[int] | None:
    import ember

    if isinstance(output, ember.Tensor):
        return [-1, *output.shape[1:]] if output.ndim else []
    if isinstance(output, (list, tuple)) and output:
        return _shape_of(output[0])
    return None


def summary(
    model: ember.nn.Module,
    input_size: Sequence[Any],
    batch_size: int = 2,
    device: str | ember.device | None = None,
    dtype: ember.dtype | None = None,
    file: TextIO | None = None,
) -> dict[str, Any]:
    """Print each layer of ``model`` with its output shape and parameter count, as one forward pass sees them.

    Forward hooks on every leaf module (and every module holding its own parameters)
    record the output shapes of a forward pass over a random batch; the batch dimension is
    shown as ``-1``. The hooks are removed afterwards and the model's mode is restored.

    Args:
        model: the :class:`ember.nn.Module`.
        input_size: the shape of one sample, without the batch dimension, e.g.
            ``(1, 28, 28)``; or a list of such shapes for a model with several inputs.
        batch_size: the batch size of the probe. Default: ``2``.
        device: where to run the probe. Default: the model's device.
        dtype: the input dtype. Default: the model's parameter dtype (else float32).
        file: where to print. Default: standard output.

    Returns:
        ``{"total_params": int, "trainable_params": int, "layers": [(name, type, shape, params), ...]}``.

    Example::

        >>> summary(LeNet5(), (1, 28, 28))
    """
    import ember

    params = list(model.parameters())
    device = device or (params[0].device if params else ember.get_default_device())
    dtype = dtype or (params[0].dtype if params else ember.float32)
    sizes = [tuple(input_size)] if not input_size or isinstance(input_size[0], int) else [tuple(s) for s in input_size]
    rows: list[tuple[str, str, list[int] | None, int]] = []
    handles = []

    def hook_for(name: str) -> Any:
        def hook(module: ember.nn.Module, inputs: Any, output: Any) -> None:
            count = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((name, type(module).__name__, _shape_of(output), count))

        return hook

    for name, module in model.named_modules():
        if module is model:
            continue
        if not list(module.children()) or list(module.parameters(recurse=False)):
            handles.append(module.register_forward_hook(hook_for(name)))
    was_training = model.training
    model.eval()
    try:
        with ember.no_grad():
            probes = [ember.rand(batch_size, *s, device=device, dtype=dtype) for s in sizes]
            model(*probes)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    table = [("Layer (type)", "Output Shape", "Param #")] + [
        (f"{name} ({kind})", str(shape), f"{count:,}") for name, kind, shape, count in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    out = file or sys.stdout
    line = "-" * (sum(widths) + 6)
    print(line, file=out)
    for i, (a, b, c) in enumerate(table):
        print(f"{a:<{widths[0]}}   {b:<{widths[1]}}   {c:>{widths[2]}}", file=out)
        if i == 0:
            print("=" * len(line), file=out)
    print("=" * len(line), file=out)
    print(f"Total params: {total:,}", file=out)
    print(f"Trainable params: {trainable:,}", file=out)
    print(f"Non-trainable params: {total - trainable:,}", file=out)
    print(line, file=out)
    return {"total_params": total, "trainable_params": trainable, "layers": rows}
