"""The double-backward graphs that a sweep of PyTorch's ``module_db`` found recorded otherwise than PyTorch's.

Under ``create_graph=True`` the first-order gradients must be what PyTorch's are: each requires grad where
PyTorch's does, its node (``type(g.grad_fn).__name__``) is PyTorch's, and a second derivative through them
gives PyTorch's values. The sweep found this broken for the adaptive average pools and eval-mode batch and
instance norm (an input's gradient made of ops on the incoming gradient only: no edge to the input, so that
the second derivative failed), ``nll_loss``/``cross_entropy`` of a spatial input (the gradient's last node was
the permute that put the classes last) and the 1-D pools of an unbatched input (the batch dimension's
unsqueeze, whose gradient was a view, not PyTorch's squeeze).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, torch

import ember

_rng = np.random.default_rng(0)


def _node(t):
    return None if t is None or t.grad_fn is None else type(t.grad_fn).__name__


def _double_backward(lib, fn, arrays, device, dtype, grad):
    """``(output's node, [(requires_grad, node) of each first-order gradient], second-order gradients)`` of
    ``fn(lib, *tensors)``, the inputs at ``grad`` differentiated, the output weighted by a fixed array."""
    kw = {} if lib is torch else {"device": device}
    tensors = []
    for i, a in enumerate(arrays):
        t = lib.tensor(a, **kw)
        if t.dtype.is_floating_point:
            t = t.to(getattr(lib, dtype.name))
            t.requires_grad_(i in grad)
        tensors.append(t)
    out = fn(lib, *tensors)
    weights = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)), **kw).to(out.dtype)
    inputs = [tensors[i] for i in grad]
    first = lib.autograd.grad((out * weights).sum(), inputs, create_graph=True, allow_unused=True)
    graph = [None if g is None else (g.requires_grad, _node(g)) for g in first]
    terms = [(g * g).sum() for g in first if g is not None and g.requires_grad]
    second = lib.autograd.grad(sum(terms), inputs, allow_unused=True) if terms else None
    return _node(out), graph, second


def _check(fn, arrays, device, dtype, grad=(0,), names=None):
    """ember's double-backward graph and values are PyTorch's; ``names``: the positions in ``grad`` whose
    first-order gradient's node name is compared (all by default)."""
    e_node, e_graph, e_second = _double_backward(ember, fn, arrays, device, dtype, grad)
    t_node, t_graph, t_second = _double_backward(torch, fn, arrays, device, dtype, grad)
    assert e_node == t_node
    for i, (e, t) in enumerate(zip(e_graph, t_graph)):
        assert (e is None) == (t is None)
        if t is not None:
            assert e[0] == t[0], f"requires_grad of gradient {i}"
            if names is None or i in names:
                assert e[1] == t[1], f"node of gradient {i}"
    assert (e_second is None) == (t_second is None)
    for e, t in zip(e_second or (), t_second or ()):
        if t is not None:
            assert_close(e, t, dtype, what="second derivative")


@pytest.mark.parametrize(
    ("nd", "shape", "size"),
    [
        (1, (2, 3, 7), 3),
        (1, (2, 3, 8), 4),
        (1, (3, 7), 3),
        (1, (2, 3, 7), 1),
        (2, (2, 3, 7, 5), (3, 2)),
        (2, (2, 3, 7, 5), (3, None)),
        (2, (2, 3, 4, 6), (2, 3)),
        (2, (2, 3, 2, 3), (5, 4)),
        (2, (2, 3, 7, 5), 1),
        (3, (2, 3, 7, 5, 4), (3, 2, 2)),
        (3, (2, 2, 4, 4, 4), (2, 2, 2)),
        (3, (2, 2, 3, 3, 3), 1),
    ],
)
def test_adaptive_avg_pool_double_backward(device, dtype, nd, shape, size):
    """The gradient is PyTorch's ``adaptive_avg_pool{n}d_backward``, with an edge to the input
    (AdaptiveAvgPool2DBackwardBackward0; SqueezeBackward1 for the 1-D pool, a 2-D one between an unsqueeze and
    a squeeze) whose second derivative is zeros; ember's was made of ops on the incoming gradient only, so that
    it required no grad and the second derivative raised. An output of all ones is still mean()'s, unconnected."""

    def fn(lib, x):
        return getattr(lib.nn.functional, f"adaptive_avg_pool{nd}d")(x, size)

    _check(fn, [_rng.standard_normal(shape)], device, dtype)


def _norm_arrays(shape):
    c = shape[1]
    return [
        _rng.standard_normal(shape),
        np.abs(_rng.standard_normal(c)) + 0.5,
        _rng.standard_normal(c),
        _rng.standard_normal(c),
        np.abs(_rng.standard_normal(c)) + 0.5,
    ]


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 2), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_double_backward(device, dtype, shape, affine):
    """Eval-mode batch norm's gradients come out of one node, NativeBatchNormBackwardBackward0, with edges to the
    incoming gradient, the input and the weight: each requires grad (the bias's too), and the second derivative
    reaches the input through the weight's gradient. ember's were a MulBackward0 and views, and without the
    affine parameters the input's required no grad (the second derivative raised)."""

    def fn(lib, x, w, b, mean, var):
        return lib.nn.functional.batch_norm(x, mean, var, w if affine else None, b if affine else None)

    _check(fn, _norm_arrays(shape), device, dtype, grad=(0, 1, 2) if affine else (0,))


@pytest.mark.parametrize("shape", [(4, 3, 5), (2, 3, 4, 2), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_running_stats_double_backward(device, dtype, shape, affine):
    """Instance norm with the running statistics is PyTorch's batch norm of the input viewed as one sample of
    N * C channels: the input's gradient is that batch norm's, viewed back (ViewBackward0), requiring grad. ember's
    was its own eval batch norm's, which required no grad without the affine parameters. (The weight's and bias's
    gradient nodes, PyTorch's ``repeat`` backward SumBackward1, are ember's ViewBackward0: not compared.)"""

    def fn(lib, x, w, b, mean, var):
        return lib.nn.functional.instance_norm(
            x, mean, var, w if affine else None, b if affine else None, use_input_stats=False
        )

    arrays = _norm_arrays(shape)
    if affine:
        _check(fn, arrays, device, dtype, grad=(0, 1, 2), names=(0,))
    else:  # (PyTorch's second derivative of the input is unconnected, None; ember's zeros: not compared)
        e_node, e_graph, _ = _double_backward(ember, fn, arrays, device, dtype, (0,))
        t_node, t_graph, _ = _double_backward(torch, fn, arrays, device, dtype, (0,))
        assert (e_node, e_graph) == (t_node, t_graph)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 3, 4), (2, 3, 2, 2, 2), (2, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("loss", "kwargs"),
    [("nll_loss", {}), ("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.2})],
)
def test_class_index_loss_gradient_node(device, dtype, shape, reduction, loss, kwargs):
    """The input's gradient's node under ``create_graph``: nll_loss's of a 4-D input is nll_loss2d's
    (NllLoss2DBackwardBackward0), of a 3-D or over 4-D one the view back from 4-D (ViewBackward0); cross_entropy's
    is log_softmax's backward (LogSoftmaxBackwardDataBackward0). ember's was the permute that put the classes
    last (PermuteBackward0), or the subtraction of its composed gradient (SubBackward0)."""
    target = _rng.integers(0, shape[1], (shape[0],) + shape[2:])

    def fn(lib, x, t):
        return getattr(lib.nn.functional, loss)(x, t, reduction=reduction, **kwargs)

    _check(fn, [_rng.standard_normal(shape), target], device, dtype)


@pytest.mark.parametrize(
    "pool",
    [
        lambda lib, x: lib.nn.functional.max_pool1d(x, 2),
        lambda lib, x: lib.nn.functional.avg_pool1d(x, 2),
        lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 4),
        lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 4),
    ],
    ids=["max_pool1d", "avg_pool1d", "adaptive_max_pool1d", "adaptive_avg_pool1d"],
)
@pytest.mark.parametrize("shape", [(3, 6), (2, 3, 6)])
def test_pool1d_gradient_node(device, dtype, pool, shape):
    """PyTorch's 1-D pool is its 2-D one between an unsqueeze and a squeeze: the gradient's last node is the
    unsqueeze's backward, SqueezeBackward1, of an unbatched input too (ember's was ViewBackward0, its batch
    dimension's unsqueeze's backward a view)."""
    _check(pool, [_rng.standard_normal(shape)], device, dtype)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.unsqueeze(0),
        lambda x: x.unsqueeze(-1),
        lambda x: x.squeeze(1),
        lambda x: x.squeeze(0),
        lambda x: x.squeeze((1, 3)),
        lambda x: x.squeeze(),
    ],
    ids=["unsqueeze0", "unsqueeze-1", "squeeze1", "squeeze-kept", "squeeze-dims", "squeeze-all"],
)
def test_squeeze_unsqueeze_gradient_node(device, dtype, op):
    """The gradient of an unsqueeze is a squeeze (SqueezeBackward1), of a squeeze an unsqueeze
    (UnsqueezeBackward0), as PyTorch's backward formulas; a squeeze that removed no dimension passes the gradient
    on as it is. ember's were reshapes (ViewBackward0)."""
    x = _rng.standard_normal((2, 1, 3, 1))
    e_x = ember.tensor(x, device=device, dtype=getattr(ember, dtype.name), requires_grad=True)
    t_x = torch.tensor(x, dtype=getattr(torch, dtype.name), requires_grad=True)
    nodes = []
    for lib, t in ((ember, e_x), (torch, t_x)):
        y = op(t)
        u = lib.ones_like(y).requires_grad_()
        (g,) = lib.autograd.grad(y, t, u, create_graph=True)
        nodes.append((_node(y), _node(g), g.requires_grad, g is u))
    assert nodes[0] == nodes[1]
