"""The names of the backward nodes (``type(y.grad_fn).__name__`` and ``y.grad_fn.name()``) against
PyTorch's, for the ops whose graph has PyTorch's shape: one node per op, with the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# fmt: off
_OPS = {
    # views in a new shape
    "view": lambda T, F, x, m, v, s: x.view(6, 4),
    "reshape_view": lambda T, F, x, m, v, s: x.reshape(6, 4),
    "reshape_copy": lambda T, F, x, m, v, s: x.transpose(0, 1).reshape(-1),
    "flatten": lambda T, F, x, m, v, s: x.flatten(),
    "flatten_copy": lambda T, F, x, m, v, s: x.transpose(0, 1).flatten(),
    "unflatten": lambda T, F, x, m, v, s: m.unflatten(1, (2, 2)),
    "view_as": lambda T, F, x, m, v, s: x.view_as(T.zeros(24)),
    "ravel": lambda T, F, x, m, v, s: x.ravel(),
    "view_0d": lambda T, F, x, m, v, s: s.view(1),
    "squeeze": lambda T, F, x, m, v, s: x.unsqueeze(0).squeeze(),
    "squeeze_nothing": lambda T, F, x, m, v, s: m.squeeze(),
    "squeeze_dim": lambda T, F, x, m, v, s: x.unsqueeze(0).squeeze(0),
    "squeeze_dims": lambda T, F, x, m, v, s: x.unsqueeze(0).squeeze((0, 1)),
    "unsqueeze": lambda T, F, x, m, v, s: x.unsqueeze(1),
    "atleast_2d": lambda T, F, x, m, v, s: T.atleast_2d(v),
    # transposes
    "t": lambda T, F, x, m, v, s: m.t(),
    "t_vector": lambda T, F, x, m, v, s: v.t(),
    "T": lambda T, F, x, m, v, s: m.T,
    "mT": lambda T, F, x, m, v, s: x.mT,
    "transpose": lambda T, F, x, m, v, s: x.transpose(0, 2),
    "swapaxes": lambda T, F, x, m, v, s: x.swapaxes(0, 2),
    "permute": lambda T, F, x, m, v, s: x.permute(2, 0, 1),
    "movedim": lambda T, F, x, m, v, s: x.movedim(0, 2),
    "expand": lambda T, F, x, m, v, s: v.expand(3, 4),
    # indexing: PyTorch's node for the last op of the key
    "index_none": lambda T, F, x, m, v, s: v[None],
    "index_slice": lambda T, F, x, m, v, s: m[1:],
    "index_slice_dim1": lambda T, F, x, m, v, s: m[:, 1:],
    "index_step": lambda T, F, x, m, v, s: m[::2],
    "index_int": lambda T, F, x, m, v, s: m[1],
    "index_int_then_slice": lambda T, F, x, m, v, s: m[1, 1:],
    "index_slice_then_int": lambda T, F, x, m, v, s: m[1:, 1],
    "index_int_then_none": lambda T, F, x, m, v, s: m[1, None],
    "index_everything": lambda T, F, x, m, v, s: m[...],
    "index_tensor": lambda T, F, x, m, v, s: m[T.tensor([0, 2])],
    "index_mask": lambda T, F, x, m, v, s: v[v > 1],
    "select": lambda T, F, x, m, v, s: m.select(1, 2),
    "narrow": lambda T, F, x, m, v, s: m.narrow(1, 0, 2),
    # several views, the outputs of one node
    "split": lambda T, F, x, m, v, s: m.split(2)[1],
    "split_sizes": lambda T, F, x, m, v, s: m.split([1, 2])[1],
    "split_with_sizes": lambda T, F, x, m, v, s: T.split_with_sizes(m, [1, 3], 1)[1],
    "chunk": lambda T, F, x, m, v, s: m.chunk(2, 1)[1],
    "chunk_empty": lambda T, F, x, m, v, s: m[:0].chunk(2)[1],
    "unbind": lambda T, F, x, m, v, s: m.unbind(1)[2],
    "tensor_split": lambda T, F, x, m, v, s: m.tensor_split(2)[1],
    "unsafe_split": lambda T, F, x, m, v, s: T.unsafe_split(m, 2)[1],
    "unsafe_chunk": lambda T, F, x, m, v, s: T.unsafe_chunk(m, 2)[1],
    "unsafe_split_with_sizes": lambda T, F, x, m, v, s: T.unsafe_split_with_sizes(m, [1, 2])[1],
    "index_select": lambda T, F, x, m, v, s: m.index_select(0, T.tensor([0, 2])),
    "masked_select": lambda T, F, x, m, v, s: m.masked_select(m > 1),
    "gather": lambda T, F, x, m, v, s: m.gather(1, T.zeros(3, 2, dtype=T.int64)),
    "scatter_src": lambda T, F, x, m, v, s: m.scatter(1, T.zeros(3, 1, dtype=T.int64), m[:, :1]),
    "scatter_value": lambda T, F, x, m, v, s: m.scatter(1, T.zeros(3, 1, dtype=T.int64), 1.0),
    # joining, copies
    "cat": lambda T, F, x, m, v, s: T.cat([m, m]),
    "stack": lambda T, F, x, m, v, s: T.stack([m, m], 1),
    "flip": lambda T, F, x, m, v, s: m.flip(0),
    "contiguous": lambda T, F, x, m, v, s: m.t().contiguous(),
    "clone": lambda T, F, x, m, v, s: m.clone(),
    "to_dtype": lambda T, F, x, m, v, s: m.to(T.float64),
    "double": lambda T, F, x, m, v, s: m.double(),
    # products
    "mm": lambda T, F, x, m, v, s: m.mm(m.t()),
    "matmul_2d": lambda T, F, x, m, v, s: m @ m.t(),
    "bmm": lambda T, F, x, m, v, s: x.bmm(x.transpose(1, 2)),
    # reductions
    "sum": lambda T, F, x, m, v, s: m.sum(),
    "sum_dim": lambda T, F, x, m, v, s: m.sum(1),
    "sum_dims_keepdim": lambda T, F, x, m, v, s: x.sum((0, 2), keepdim=True),
    "mean": lambda T, F, x, m, v, s: m.mean(),
    "mean_dim": lambda T, F, x, m, v, s: m.mean(1),
    "prod": lambda T, F, x, m, v, s: m.prod(),
    "prod_dim": lambda T, F, x, m, v, s: m.prod(1),
    "max": lambda T, F, x, m, v, s: m.max(),
    "min": lambda T, F, x, m, v, s: m.min(),
    "amax": lambda T, F, x, m, v, s: m.amax(1),
    "std": lambda T, F, x, m, v, s: m.std(),
    "std_dim": lambda T, F, x, m, v, s: m.std(1),
    "var": lambda T, F, x, m, v, s: m.var(1),
    "norm": lambda T, F, x, m, v, s: m.norm(),
    "norm_dim": lambda T, F, x, m, v, s: m.norm(p=1, dim=1),
    "cumsum": lambda T, F, x, m, v, s: m.cumsum(1),
    # element-wise
    "add": lambda T, F, x, m, v, s: m + m,
    "sub": lambda T, F, x, m, v, s: m - 1,
    "rsub": lambda T, F, x, m, v, s: 1 - m,
    "mul": lambda T, F, x, m, v, s: m * 2,
    "div": lambda T, F, x, m, v, s: m / m,
    "neg": lambda T, F, x, m, v, s: -m,
    "pow_scalar": lambda T, F, x, m, v, s: m ** 2,
    "pow_tensor": lambda T, F, x, m, v, s: m ** m,
    "pow_scalar_base": lambda T, F, x, m, v, s: 2 ** m,
    "exp": lambda T, F, x, m, v, s: m.exp(),
    "log1p": lambda T, F, x, m, v, s: m.log1p(),
    "expm1": lambda T, F, x, m, v, s: m.expm1(),
    "log2": lambda T, F, x, m, v, s: m.log2(),
    "log10": lambda T, F, x, m, v, s: m.log10(),
    "exp2": lambda T, F, x, m, v, s: m.exp2(),
    "sqrt": lambda T, F, x, m, v, s: m.sqrt(),
    "abs": lambda T, F, x, m, v, s: m.abs(),
    "tanh": lambda T, F, x, m, v, s: m.tanh(),
    "sigmoid": lambda T, F, x, m, v, s: m.sigmoid(),
    "clamp": lambda T, F, x, m, v, s: m.clamp(1, 2),
    "clamp_min": lambda T, F, x, m, v, s: m.clamp(min=1),
    "clamp_tensor": lambda T, F, x, m, v, s: m.clamp(min=m * 0),
    "where": lambda T, F, x, m, v, s: T.where(m > 1, m, m),
    # nn
    "relu": lambda T, F, x, m, v, s: F.relu(m),
    "gelu": lambda T, F, x, m, v, s: F.gelu(m),
    "silu": lambda T, F, x, m, v, s: F.silu(m),
    "softmax": lambda T, F, x, m, v, s: F.softmax(m, 1),
    "log_softmax": lambda T, F, x, m, v, s: F.log_softmax(m, 1),
    "conv1d": lambda T, F, x, m, v, s: F.conv1d(x, T.ones(2, 3, 2)),
    "conv2d": lambda T, F, x, m, v, s: F.conv2d(x[None], T.ones(2, 2, 2, 2)),
    "conv_transpose2d": lambda T, F, x, m, v, s: F.conv_transpose2d(x[None], T.ones(2, 1, 2, 2)),
    "batch_norm": lambda T, F, x, m, v, s: F.batch_norm(x, None, None, training=True),
    "max_pool2d": lambda T, F, x, m, v, s: F.max_pool2d(x[None], 2),
    "max_pool3d": lambda T, F, x, m, v, s: F.max_pool3d(x[None, None], (1, 2, 2)),
    "avg_pool2d": lambda T, F, x, m, v, s: F.avg_pool2d(x[None], 2),
    "avg_pool3d": lambda T, F, x, m, v, s: F.avg_pool3d(x[None, None], (1, 2, 2)),
    "adaptive_max_pool2d": lambda T, F, x, m, v, s: F.adaptive_max_pool2d(x[None], 1),
    "embedding": lambda T, F, x, m, v, s: F.embedding(T.tensor([0, 2]), m),
    "nll_loss": lambda T, F, x, m, v, s: F.nll_loss(m, T.tensor([0, 1, 2])),
    "pad": lambda T, F, x, m, v, s: F.pad(m, (1, 1)),
    # in-place: the op's own node; a write through a view, or a copy, PyTorch's C++ nodes
    "add_": lambda T, F, x, m, v, s: m.add_(1),
    "mul_tensor_": lambda T, F, x, m, v, s: m.mul_(m.detach()),
    "div_": lambda T, F, x, m, v, s: m.div_(2),
    "pow_": lambda T, F, x, m, v, s: m.pow_(2),
    "exp_": lambda T, F, x, m, v, s: m.exp_(),
    "sigmoid_": lambda T, F, x, m, v, s: m.sigmoid_(),
    "clamp_": lambda T, F, x, m, v, s: m.clamp_(1, 2),
    "relu_": lambda T, F, x, m, v, s: F.relu_(m),
    "relu_inplace": lambda T, F, x, m, v, s: F.relu(m, inplace=True),
    "iadd": lambda T, F, x, m, v, s: m.__iadd__(v),
    "copy_": lambda T, F, x, m, v, s: m.copy_(m.detach() * 2),
    "fill_": lambda T, F, x, m, v, s: m.fill_(2.0),
    "t_": lambda T, F, x, m, v, s: m.t_(),
    "transpose_": lambda T, F, x, m, v, s: x.transpose_(0, 2),
    "swapaxes_": lambda T, F, x, m, v, s: x.swapaxes_(0, 1),
    "unsqueeze_": lambda T, F, x, m, v, s: x.unsqueeze_(1),
    "squeeze_": lambda T, F, x, m, v, s: m.unsqueeze(0).squeeze_(),
    "squeeze_dim_": lambda T, F, x, m, v, s: m.unsqueeze(0).squeeze_(0),
    "squeeze_dims_": lambda T, F, x, m, v, s: m.unsqueeze(0).squeeze_((0, 1)),
    "zero_": lambda T, F, x, m, v, s: m.zero_(),
    "write_into_a_view": lambda T, F, x, m, v, s: [m[0].mul_(2), m][1],
    "setitem": lambda T, F, x, m, v, s: [m.__setitem__(0, v), m][1],
    "setitem_advanced": lambda T, F, x, m, v, s: [m.__setitem__(T.tensor([0, 2]), v), m][1],
}
# fmt: on


def _node_names(T, F, name):
    x = T.arange(24.0, requires_grad=True).reshape(2, 3, 4) * 1
    m = T.arange(1.0, 13.0, requires_grad=True).reshape(3, 4) * 1
    v = T.arange(4.0, requires_grad=True) * 1
    s = T.tensor(2.0, requires_grad=True) * 1
    node = _OPS[name](T, F, x, m, v, s).grad_fn
    return type(node).__name__, node.name()


@pytest.mark.parametrize("name", list(_OPS))
def test_grad_fn_is_named_as_torch(name):
    expected = _node_names(torch, torch.nn.functional, name)
    assert expected[1] in (expected[0], f"torch::autograd::{expected[0]}")
    assert _node_names(ember, ember.nn.functional, name) == expected


def test_flatten_of_one_dimension_is_the_tensor_itself():
    for T in (ember, torch):
        v = T.arange(4.0, requires_grad=True) * 1
        assert v.flatten() is v and v.flatten(0, 0) is v


def _inputs_of_in_place_nodes(T):
    m = T.arange(1.0, 13.0, requires_grad=True).reshape(3, 4) * 1
    w = T.ones(4, requires_grad=True)
    nodes = [m.add_(w).grad_fn, m.exp_().grad_fn, m.copy_(w * 2).grad_fn, m.__imul__(w).grad_fn]
    return [[(type(n).__name__, nr) if n is not None else None for n, nr in node.next_functions] for node in nodes]


def test_in_place_nodes_take_the_tensors_history_before_the_write():
    assert _inputs_of_in_place_nodes(ember) == _inputs_of_in_place_nodes(torch)


def test_the_nodes_of_pytorchs_core_have_its_names_and_print_by_their_class():
    found = []
    for T in (torch, ember):
        x = T.ones(2, requires_grad=True)
        c = x * 1
        c[0].mul_(2)
        sink = x.clone().grad_fn.next_functions[0][0]
        found.append((type(sink).__name__, sink.name(), repr(c).split("grad_fn=")[1], repr(c.grad_fn).split()[0]))
    assert found[1] == found[0] == ("AccumulateGrad", "torch::autograd::AccumulateGrad", "<CopySlices>)", "<CopySlices")


_SAVING_OPS = {
    "mul": lambda x, w: x * w,
    "mul_number": lambda x, w: x * 2,
    "mul_both": lambda x, w: x * x.exp(),
    "div": lambda x, w: x / w,
    "pow_number": lambda x, w: x**2,
    "pow_tensors": lambda x, w: x**x,
    "exp": lambda x, w: x.exp(),
    "sin": lambda x, w: x.sin(),
    "sigmoid": lambda x, w: x.sigmoid(),
    "tanh": lambda x, w: x.tanh(),
    "log": lambda x, w: x.log(),
    "mm": lambda x, w: x[None].mm(w[:, None]),
    "matmul": lambda x, w: x[None] @ w[:, None],
    "bmm": lambda x, w: x[None, None].bmm(w[None, :, None]),
    "softmax": lambda x, w: x.softmax(0),
    "log_softmax": lambda x, w: x.log_softmax(0),
}


#: the products keep both operands, where PyTorch keeps only those the needed gradients read
_KEEPS_BOTH_OPERANDS = {"mm", "matmul", "bmm"}


def _saved_values(T, name, names=None):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    node = _SAVING_OPS[name](x, T.tensor([3.0, 4.0])).grad_fn
    names = names or list(type(node)._function._saved_attributes)
    values = [getattr(node, k) for k in names]
    return names, [v.tolist() if isinstance(v, T.Tensor) else v for v in values]


@pytest.mark.parametrize("name", sorted(_SAVING_OPS))
def test_nodes_show_what_they_saved_as_torch(name):
    names, got = _saved_values(ember, name)
    _, expected = _saved_values(torch, name, names)
    if name not in _KEEPS_BOTH_OPERANDS:
        assert [v is None for v in got] == [v is None for v in expected]
    for value, reference in zip(got, expected):
        if reference is not None:
            np.testing.assert_allclose(value, reference, rtol=1e-6)


def test_nodes_keep_the_users_metadata():
    x = ember.tensor([1.0], requires_grad=True)
    node, sink = (x * 2).grad_fn, x.clone().grad_fn.next_functions[0][0]
    node.metadata["a"] = 1
    assert node.metadata == {"a": 1} and sink.metadata == {} and (x * 2).grad_fn.metadata == {}
