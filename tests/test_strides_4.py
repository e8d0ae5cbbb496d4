"""Strides of tensors with a size-0 dimension, and of gradients of non-contiguous inputs, against PyTorch.

NumPy zeroes the strides of a new array without elements; PyTorch keeps row-major ones, and its views of
an empty tensor step from them (``zeros(0, 3).t().stride() == (1, 3)``), its channels-last and permuted
element-wise results step a size-0 dimension's outer dimensions by 0, ``nonzero`` lays its result out
column by column. The gradients (and results) of ``copysign``, ``logsigmoid``, ``fmax``/``fmin``, ``glu``,
``roll``, ``prod``, ``diagonal``, the norms and ``adaptive_avg_pool2d`` of a channels-last or transposed
input are laid out as PyTorch's. Values are compared too."""

import pytest
import torch

import ember


def _f64(lib, *shape, **kw):
    return lib.zeros(*shape, dtype=lib.float64, **kw)


#: name -> a function of (library, device keyword) that makes a tensor with a size-0 dimension
_EMPTY = {
    "empty_0x3": lambda L, k: L.empty(0, 3, **k),
    "zeros_2x0x4": lambda L, k: _f64(L, 2, 0, 4, **k),
    "t": lambda L, k: _f64(L, 0, 3, **k).t(),
    "transpose": lambda L, k: _f64(L, 2, 0, 4, **k).transpose(0, 2),
    "permute": lambda L, k: _f64(L, 2, 0, 4, **k).permute(2, 0, 1),
    "movedim": lambda L, k: _f64(L, 2, 0, 4, **k).movedim(0, -1),
    "select": lambda L, k: _f64(L, 2, 0, 4, **k)[:, :, 1],
    "slice_step": lambda L, k: _f64(L, 2, 4, **k)[:, 1:1:2],
    "slice_step_1d": lambda L, k: _f64(L, 5, **k)[5:5:4],
    "slice_new_axes": lambda L, k: _f64(L, 0, 3, **k)[:, None, 1:3:2],
    "slice_of_t": lambda L, k: _f64(L, 0, 3, **k).t()[::2],
    "chunk": lambda L, k: _f64(L, 0, 4, **k).chunk(2, 1)[1],
    "narrow_t": lambda L, k: _f64(L, 5, 3, **k).t().narrow(1, 5, 0),
    "split_t": lambda L, k: _f64(L, 0, 6, **k).t().split(2)[1],
    "unbind": lambda L, k: _f64(L, 2, 0, 4, **k).unbind(0)[0],
    "unfold": lambda L, k: _f64(L, 0, 6, **k).unfold(1, 2, 1),
    "expand": lambda L, k: _f64(L, 0, 1, **k).expand(0, 4),
    "expand_t": lambda L, k: _f64(L, 0, 1, **k).t().expand(3, 0),
    "reshape_same_t": lambda L, k: _f64(L, 0, 3, **k).t().reshape(3, 0),
    "view_same_sliced": lambda L, k: _f64(L, 0, 6, **k)[:, ::2].view(0, 3),
    "reshape": lambda L, k: _f64(L, 2, 0, 4, **k).reshape(0, 8),
    "unsqueeze_0": lambda L, k: _f64(L, 0, 3, **k).unsqueeze(0),
    "unsqueeze_t_last": lambda L, k: _f64(L, 0, 3, **k).t().unsqueeze(2),
    "squeeze_t": lambda L, k: _f64(L, 3, 1, 0, **k).permute(2, 1, 0).squeeze(1),
    "squeeze_all_t": lambda L, k: _f64(L, 3, 1, 0, **k).permute(2, 1, 0).squeeze(),
    "diagonal": lambda L, k: _f64(L, 0, 3, **k).diagonal(),
    "diagonal_past_end": lambda L, k: _f64(L, 3, 3, **k).diagonal(5),
    "diagonal_kept_empty": lambda L, k: _f64(L, 2, 0, 3, **k).diagonal(0, 0, 2),
    "detach_t": lambda L, k: _f64(L, 0, 3, **k).t().detach(),
    "clone_t": lambda L, k: _f64(L, 0, 3, **k).t().clone(),
    "contiguous_t": lambda L, k: _f64(L, 0, 3, **k).t().contiguous(),
    "empty_like_t": lambda L, k: L.empty_like(_f64(L, 0, 3, **k).t()),
    "copy_into_t": lambda L, k: _f64(L, 0, 3, **k).t().copy_(_f64(L, 3, 0, **k)),
    "flip_t": lambda L, k: _f64(L, 4, 3, **k).t()[:, :0].flip(0),
    "add_number_t": lambda L, k: _f64(L, 0, 3, **k).t() + 1,
    "mul_number_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1) * 2.5,
    "gt_number_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1) > 0,
    "add_broadcast_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1) + _f64(L, 3, 0, **k),
    "add_same_shapes": lambda L, k: _f64(L, 0, 5, **k) + _f64(L, 5, 0, **k).t(),
    "where_permuted": lambda L, k: L.where(_f64(L, 3, 0, 4, **k).permute(2, 0, 1) > 0, 1.0, 0.0),
    "exp_t": lambda L, k: _f64(L, 0, 3, **k).t().exp(),
    "sum_dim": lambda L, k: _f64(L, 2, 0, 4, **k).sum(2),
    "sum_dim_t": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1).sum(0),
    "cumsum": lambda L, k: _f64(L, 2, 0, 4, **k).cumsum(1),
    "matmul": lambda L, k: _f64(L, 0, 3, **k) @ _f64(L, 3, 4, **k),
    "matmul_t": lambda L, k: _f64(L, 0, 3, **k).t() @ _f64(L, 0, 4, **k),
    "bmm": lambda L, k: L.bmm(_f64(L, 2, 0, 4, **k), _f64(L, 2, 4, 5, **k)),
    "cat_t": lambda L, k: L.cat([_f64(L, 0, 3, **k).t(), _f64(L, 0, 3, **k).t()], 1),
    "stack": lambda L, k: L.stack([_f64(L, 0, 3, **k), _f64(L, 0, 3, **k)], 1),
    "index_select": lambda L, k: _f64(L, 3, 4, **k).index_select(1, L.zeros(0, dtype=L.int64, **k)),
    "index_select_t": lambda L, k: _f64(L, 0, 3, **k).t().index_select(1, L.zeros(0, dtype=L.int64, **k)),
    "nonzero": lambda L, k: _f64(L, 3, 4, **k).nonzero(),
    "nonzero_1d": lambda L, k: _f64(L, 3, **k).nonzero(),
    "nonzero_0d": lambda L, k: L.tensor(0.0, **k).nonzero(),
    "argwhere": lambda L, k: L.argwhere(_f64(L, 0, 4, **k)),
    "channels_last_empty_channels": lambda L, k: L.empty(2, 0, 4, 5, memory_format=L.channels_last, **k),
    "channels_last_empty_height": lambda L, k: L.empty(2, 3, 0, 5, memory_format=L.channels_last, **k),
    "channels_last_3d": lambda L, k: L.empty(2, 0, 4, 5, 6, memory_format=L.channels_last_3d, **k),
    "to_channels_last": lambda L, k: _f64(L, 2, 0, 4, 5, **k).to(memory_format=L.channels_last),
    "contiguous_channels_last": lambda L, k: _f64(L, 2, 3, 0, 5, **k).contiguous(memory_format=L.channels_last),
    "empty_like_channels_last": lambda L, k: L.empty_like(_f64(L, 2, 0, 4, 5, **k), memory_format=L.channels_last),
    "channels_last_add_number": lambda L, k: L.empty(2, 3, 0, 5, memory_format=L.channels_last, **k) + 1,
    "channels_last_mul_self": lambda L, k: (lambda x: x * x)(L.empty(2, 3, 0, 5, memory_format=L.channels_last, **k)),
    "permuted_add_number": lambda L, k: _f64(L, 2, 4, 5, 0, **k).permute(0, 3, 1, 2) + 1,
    "resize_channels_last": lambda L, k: _f64(L, 0, **k).resize_(2, 0, 4, 5, memory_format=L.channels_last),
    "sort_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1).sort(0)[0],
    "sort_indices_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1).sort(1)[1],
    "argsort_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1).argsort(1),
    "zeros_like_permuted": lambda L, k: L.zeros_like(_f64(L, 3, 0, 4, **k).permute(2, 0, 1)),
    "softmax_permuted": lambda L, k: L.nn.functional.softmax(_f64(L, 3, 0, 4, **k).permute(2, 0, 1), 0),
    "log_softmax_t": lambda L, k: L.nn.functional.log_softmax(_f64(L, 0, 3, **k).t(), 1),
    "nan_to_num_permuted": lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1).nan_to_num(),
    "scatter_permuted": lambda L, k: (
        _f64(L, 3, 0, 4, **k).permute(2, 0, 1).scatter(0, L.zeros(4, 3, 0, dtype=L.int64, **k), 1.0)
    ),
    "index_add_t": lambda L, k: _f64(L, 0, 3, **k).t().index_add(0, L.tensor([0], **k), _f64(L, 1, 0, **k)),
    "empty_permuted": lambda L, k: L.empty_permuted((2, 0, 3), (0, 2, 1), **k),
    "empty_permuted_last": lambda L, k: L.empty_permuted((2, 3, 0), (2, 0, 1), **k),
}


#: scatter ops given an empty index: PyTorch's result is row-major whatever the input's layout
_EMPTY_INDEX = {
    "scatter_value": lambda L, x, i: x.scatter(0, i, 1.0),
    "scatter_src": lambda L, x, i: x.scatter(0, i, x),
    "scatter_add": lambda L, x, i: x.scatter_add(0, i, x),
    "scatter_reduce": lambda L, x, i: x.scatter_reduce(0, i, x, "amax", include_self=False),
    "index_add": lambda L, x, i: x.index_add(0, i.reshape(-1), x[:0]),
}


@pytest.mark.parametrize("op", sorted(_EMPTY_INDEX))
def test_scatter_of_an_empty_index_is_row_major(device, op):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = lib.arange(6.0, dtype=lib.float64, **kw).reshape(2, 3).t()
        results.append(_EMPTY_INDEX[op](lib, x, lib.zeros(0, 2, dtype=lib.int64, **kw)))
    t, e = results
    assert e.stride() == t.stride() == (2, 1)
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_of_an_empty_tensor_node(device, name):
    nodes = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = lib.zeros(0, 3, dtype=lib.float64, **kw).t().requires_grad_()
        nodes.append(getattr(lib.nn.functional, name)(x, 1).grad_fn.name())
    assert nodes[1] == nodes[0]


def _layout(t, lib):
    four_d = lib.channels_last if t.ndim == 4 else None
    return (
        tuple(t.shape),
        t.stride(),
        t.is_contiguous(),
        None if four_d is None else t.is_contiguous(memory_format=four_d),
    )


@pytest.mark.parametrize("case", sorted(_EMPTY))
def test_empty_tensor_strides(device, case):
    t = _EMPTY[case](torch, {})
    e = _EMPTY[case](ember, {"device": device})
    assert _layout(e, ember) == _layout(t, torch)


def test_empty_view_keeps_its_storage(device):
    # the strides given to an empty tensor for its views leave it a view of the same storage
    x = ember.zeros(4, 3, device=device, dtype=ember.float64)
    empty = x[:, :0]
    view = empty.t()
    assert view.stride() == torch.zeros(4, 3).t()[:0].stride() == (1, 3)
    assert view._base is x and view.untyped_storage().nbytes() == x.untyped_storage().nbytes() == 96


#: name -> (a leaf with a size-0 dimension, the op whose sum is differentiated)
_EMPTY_LEAVES = {
    "permuted_sort": (lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1), lambda x: x.sort(0)[0]),
    "permuted_add": (lambda L, k: _f64(L, 3, 0, 4, **k).permute(2, 0, 1), lambda x: x + 1),
    "transposed_mul": (lambda L, k: _f64(L, 0, 3, **k).t(), lambda x: x * 2),
    "channels_last_exp": (
        lambda L, k: L.empty(2, 3, 0, 5, dtype=L.float64, memory_format=L.channels_last, **k),
        lambda x: x.exp(),
    ),
    "row_major_mul": (lambda L, k: _f64(L, 2, 0, 4, **k), lambda x: x * 2),
}


@pytest.mark.parametrize("case", sorted(_EMPTY_LEAVES))
def test_empty_leaf_gradient_strides(device, case):
    # a leaf without elements counts as dense: its gradient takes its strides (PyTorch's layout contract)
    make, op = _EMPTY_LEAVES[case]
    grads = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = make(lib, kw).requires_grad_()
        op(x).sum().backward()
        grads.append(x.grad)
    assert grads[1].stride() == grads[0].stride()
    assert tuple(grads[1].shape) == tuple(grads[0].shape)


def _inputs(lib, layout, dtype, device):
    """A channels-last (2, 3, 4, 5) or a transposed (4, 5) tensor of fixed random values, requiring grad."""
    g = torch.Generator().manual_seed(7 if layout == "channels_last" else 8)
    shape = (2, 3, 4, 5) if layout == "channels_last" else (4, 5)
    values = torch.randn(*shape, generator=g, dtype=torch.float64).tolist()
    kw = {} if lib is torch else {"device": device}
    x = lib.tensor(values, dtype=getattr(lib, dtype), **kw)
    x = x.to(memory_format=lib.channels_last) if layout == "channels_last" else x.t()
    return x.detach().requires_grad_()


def _f(lib):
    return lib.nn.functional


_GRADIENT_OPS = {
    "copysign": lambda L, x: L.copysign(x, -x.detach()),
    "copysign_number": lambda L, x: L.copysign(x, -1.0),
    "copysign_other": lambda L, x: L.copysign(x.detach().exp(), x),
    "copysign_row_major_first": lambda L, x: L.copysign(L.ones(x.shape, dtype=x.dtype, device=x.device), x),
    "copysign_0d": lambda L, x: L.copysign(x, L.tensor(-1.0, dtype=x.dtype, device=x.device)),
    "logsigmoid": lambda L, x: _f(L).logsigmoid(x),
    "fmax": lambda L, x: L.fmax(x, x.detach() * 0.5),
    "fmin": lambda L, x: L.fmin(x, x.detach() * 0.5),
    "fmax_row_major_first": lambda L, x: L.fmax(L.zeros(x.shape, dtype=x.dtype, device=x.device), x),
    "glu_outer": lambda L, x: _f(L).glu(x, [d for d, n in enumerate(x.shape) if n % 2 == 0][0]),
    "glu_inner": lambda L, x: _f(L).glu(x, [d for d, n in enumerate(x.shape) if n % 2 == 0][-1]),
    "roll": lambda L, x: L.roll(x, 1, 0),
    "roll_flat": lambda L, x: L.roll(x, 2),
    "roll_two": lambda L, x: L.roll(x, (1, 2), (0, 1)),
    "prod": lambda L, x: x.prod(),
    "prod_dim": lambda L, x: x.prod(0),
    "prod_keepdim": lambda L, x: x.prod(1, keepdim=True),
    "diagonal": lambda L, x: x.diagonal(),
    "diagonal_last": lambda L, x: x.diagonal(1, -2, -1),
    "norm": lambda L, x: L.norm(x),
    "norm_dim": lambda L, x: L.norm(x, dim=1),
    "norm_p1": lambda L, x: L.norm(x, p=1),
    "norm_p3": lambda L, x: L.norm(x, p=3),
    "vector_norm": lambda L, x: L.linalg.vector_norm(x),
    "vector_norm_dim": lambda L, x: L.linalg.vector_norm(x, dim=0),
    "vector_norm_inf": lambda L, x: L.linalg.vector_norm(x, ord=float("inf")),
    "vector_norm_3": lambda L, x: L.linalg.vector_norm(x, ord=3, dim=-1),
    "matrix_norm": lambda L, x: L.linalg.matrix_norm(x),
    "matrix_norm_1": lambda L, x: L.linalg.matrix_norm(x, ord=1),
    "matrix_norm_inf": lambda L, x: L.linalg.matrix_norm(x, ord=float("inf")),
    "matrix_norm_nuc": lambda L, x: L.linalg.matrix_norm(x, ord="nuc"),
    "matrix_norm_2": lambda L, x: L.linalg.matrix_norm(x, ord=2),
}


def _run(lib, op, layout, dtype, device):
    x = _inputs(lib, layout, dtype, device)
    y = op(lib, x)
    kw = {} if lib is torch else {"device": device}
    grad = lib.arange(float(y.numel()), dtype=y.dtype, **kw).reshape(y.shape).cos() if y.ndim else None
    y.backward(grad)
    return x, y


def _close(e, t, dtype):
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-5}
    torch.testing.assert_close(torch.tensor(e.tolist(), dtype=t.dtype), t.detach(), **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
@pytest.mark.parametrize("op", sorted(_GRADIENT_OPS))
def test_gradient_and_result_strides(device, op, layout, dtype):
    tx, ty = _run(torch, _GRADIENT_OPS[op], layout, dtype, device)
    ex, ey = _run(ember, _GRADIENT_OPS[op], layout, dtype, device)
    assert ey.stride() == ty.stride()
    assert ex.grad.stride() == tx.grad.stride()
    assert ex.grad.is_contiguous() == tx.grad.is_contiguous()
    if layout == "channels_last":
        assert ex.grad.is_contiguous(memory_format=ember.channels_last)
    _close(ey, ty, dtype)
    _close(ex.grad, tx.grad, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output_size", [(2, 3), 1, (4, 5), (3, 2)])
def test_adaptive_avg_pool2d_channels_last(device, output_size, dtype):
    results = []
    for lib in (torch, ember):
        x = _inputs(lib, "channels_last", dtype, device)
        y = _f(lib).adaptive_avg_pool2d(x, output_size)
        kw = {} if lib is torch else {"device": device}
        y.backward(lib.arange(float(y.numel()), dtype=y.dtype, **kw).reshape(y.shape).sin())
        results.append((x, y))
    (tx, ty), (ex, ey) = results
    assert ey.stride() == ty.stride()
    assert ex.grad.stride() == tx.grad.stride()
    _close(ey, ty, dtype)
    _close(ex.grad, tx.grad, dtype)


#: (function, input shape, output_size): PyTorch averages into sizes of all 1 with mean() before it checks the rank
_ADAPTIVE_ONES = [
    ("adaptive_avg_pool2d", (5, 4), 1),
    ("adaptive_avg_pool2d", (2, 3, 4, 5, 6), (1, 1)),
    ("adaptive_avg_pool2d", (2, 3, 4, 5, 6), (None, 1)),
    ("adaptive_avg_pool3d", (2, 3, 4, 5, 6, 2), 1),
    ("adaptive_avg_pool3d", (4, 5, 6), 1),
    ("adaptive_avg_pool2d", (7,), 1),  # mean's IndexError
    ("adaptive_avg_pool2d", (5, 4), (1, 1)),  # the Python-level ValueError
    ("adaptive_avg_pool2d", (5, 4), 2),  # the rank's RuntimeError
]


@pytest.mark.parametrize("fn,shape,output_size", _ADAPTIVE_ONES)
def test_adaptive_avg_pool_to_ones_of_any_rank(device, fn, shape, output_size):
    outcomes = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        numel = 1
        for n in shape:
            numel *= n
        x = lib.arange(float(numel), dtype=lib.float64, **kw).reshape(shape).requires_grad_()
        try:
            y = getattr(lib.nn.functional, fn)(x, output_size)
        except (ValueError, IndexError, RuntimeError) as error:
            outcomes.append((type(error), str(error)))
            continue
        y.sum().backward()
        outcomes.append((tuple(y.shape), y.stride(), y.grad_fn.name(), y.tolist(), x.grad.stride(), x.grad.tolist()))
    assert outcomes[1] == outcomes[0]
