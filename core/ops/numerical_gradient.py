"""``ember.gradient``: the numerical derivative of sampled values along each dimension, as
``torch.gradient`` (and NumPy's ``gradient``) compute it: central differences inside, one-sided
differences of first or second order at the ends, on a uniform grid or on given coordinates.

Composed of slices and arithmetic, so every backend runs it and autograd differentiates it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import dtypes
from ..tensor import Tensor
from .movement import cat
from .operands import dim_or_axis, tensor_input, wrap_dim

__all__ = ["gradient"]

Number = int | float


def _at(f: Tensor, d: int, start: int, length: int = 1) -> Tensor:
    return f.narrow(d, start, length)


def _uniform(f: Tensor, d: int, h: float, edge_order: int) -> Tensor:
    n = f.shape[d]
    inner = (_at(f, d, 2, n - 2) - _at(f, d, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (_at(f, d, 1) - _at(f, d, 0)) / h
        last = (_at(f, d, n - 1) - _at(f, d, n - 2)) / h
    else:
        first = (_at(f, d, 0) * -1.5 + _at(f, d, 1) * 2 - _at(f, d, 2) * 0.5) / h
        last = (_at(f, d, n - 3) * 0.5 - _at(f, d, n - 2) * 2 + _at(f, d, n - 1) * 1.5) / h
    return cat([first, inner, last], dim=d)


def _coordinates(f: Tensor, d: int, x: Tensor, edge_order: int) -> Tensor:
    n, shape = f.shape[d], [1] * f.ndim
    shape[d] = n - 1
    dx = (x[1:] - x[:-1]).to(f.dtype).reshape(shape)  # dx[i] = x[i + 1] - x[i], along d
    hl, hr = _at(dx, d, 0, n - 2), _at(dx, d, 1, n - 2)
    inner = (
        _at(f, d, 0, n - 2) * (-hr / (hl * (hl + hr)))
        + _at(f, d, 1, n - 2) * ((hr - hl) / (hl * hr))
        + _at(f, d, 2, n - 2) * (hl / (hr * (hl + hr)))
    )
    if edge_order == 1:
        first = (_at(f, d, 1) - _at(f, d, 0)) / _at(dx, d, 0)
        last = (_at(f, d, n - 1) - _at(f, d, n - 2)) / _at(dx, d, n - 2)
    else:
        a, b = _at(dx, d, 0), _at(dx, d, 1)
        first = (
            _at(f, d, 0) * (-(2 * a + b) / (a * (a + b)))
            + _at(f, d, 1) * ((a + b) / (a * b))
            + _at(f, d, 2) * (-a / (b * (a + b)))
        )
        a, b = _at(dx, d, n - 3), _at(dx, d, n - 2)
        last = (
            _at(f, d, n - 3) * (b / (a * (a + b)))
            + _at(f, d, n - 2) * (-(a + b) / (a * b))
            + _at(f, d, n - 1) * ((2 * b + a) / (b * (a + b)))
        )
    return cat([first, inner, last], dim=d)


@tensor_input
@dim_or_axis
def gradient(
    input: Tensor,
    *,
    spacing: Number | Sequence[Number] | Sequence[Tensor] | None = 1,
    dim: int | Sequence[int] | None = None,
    edge_order: int = 1,
) -> tuple[Tensor, ...]:
    r"""The derivative of the function sampled by ``input``, estimated along each of ``dim``.

    Inside, the central difference (second-order accurate, on uneven coordinates too); at the
    ends a one-sided difference of order ``edge_order``.

    Args:
        input (Tensor): the samples.
        spacing (Number, sequence of Number or sequence of Tensor, optional): the distance between
            samples (one for every dimension, or one per dimension in ``dim``), or per dimension the
            1-D tensor of the samples' coordinates; ``None`` is ``1``. Default: ``1``.
        dim (int or sequence of int, optional): the dimensions to differentiate along. Default: all.
        edge_order (int, optional): 1 or 2, the order of the differences at the ends. Default: ``1``.

    Returns:
        A tuple with one tensor of ``input``'s shape per dimension.

    Example::

        >>> ember.gradient(ember.tensor([1.0, 4.0, 9.0, 16.0]), spacing=2.0)
        (tensor([1.5000, 2.0000, 3.0000, 3.5000]),)
    """
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if input.dtype is dtypes.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if input.dtype is dtypes.bool:  # PyTorch's differences of bool samples
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [wrap_dim(d, input.ndim) for d in dims]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (int, float)):
        spacings: list = [spacing] * len(dims)
    else:
        spacings = list(spacing)
        if len(spacings) != len(dims):
            if dim is not None:  # PyTorch's own words for this case
                raise RuntimeError(
                    "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments "
                    f"to have the same length, but got a spacing argument of length {len(spacings)} and a dim "
                    f"argument of length {len(dims)}."
                )
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal to "
                f"'self.dim() = {input.ndim}', since dim argument was not given, but got a list of length "
                f"{len(spacings)}"
            )
        devices = [h.device for h in spacings if isinstance(h, Tensor)]
        for device in devices:
            if device != input.device:
                raise RuntimeError(
                    f"torch.gradient expected each tensor to be on the same device, but got devices {input.device} "
                    f"and {device}!"
                )
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    f = input if input.dtype.is_floating_point or input.dtype.is_complex else input.to(dtypes.get_default_dtype())
    return tuple(
        _coordinates(f, d, h, edge_order) if isinstance(h, Tensor) else _uniform(f, d, float(h), edge_order)
        for d, h in zip(dims, spacings)
    )
