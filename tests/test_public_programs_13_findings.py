"""Differences from PyTorch found by the round-13 public programs (tests/test_public_programs_13.py), each
checked against torch on its own."""

from __future__ import annotations

import io

import pytest

import ember

torch = pytest.importorskip("torch")


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error)
    return None


def _group_norm(lib, device, weight_shape, bias_shape, module):
    x = lib.randn(2, 6, 3).to(device)
    weight = None if weight_shape is None else lib.ones(weight_shape).to(device)
    bias = None if bias_shape is None else lib.zeros(bias_shape).to(device)
    if module:
        norm = lib.nn.GroupNorm(2, 4).to(device)  # built for 4 channels, given 6 (a mistyped width in a U-Net)
        return _error(lambda: norm(x))
    return _error(lambda: lib.nn.functional.group_norm(x, 2, weight, bias))


@pytest.mark.parametrize(
    ("weight_shape", "bias_shape", "module"),
    [((4,), None, False), ((4,), (4,), True), ((2, 3), None, False), ((6, 1), (6,), False), (None, None, False)],
)
def test_group_norm_refuses_parameters_that_are_not_channel_vectors_as_torch(device, weight_shape, bias_shape, module):
    """A ``GroupNorm`` whose weight (or bias) is not a vector of the input's channels: PyTorch's message names
    the parameter's and the input's shapes (ember gave batch norm's "weight should contain 6 elements not 4",
    and took a (6, 1) weight)."""
    ours = _group_norm(ember, device, weight_shape, bias_shape, module)
    theirs = _group_norm(torch, "cpu", weight_shape, bias_shape, module)
    assert ours == theirs


@pytest.mark.parametrize("bias_shape", [(4,), (2, 3)])
def test_group_norm_names_a_wrong_bias_by_its_own_shape(device, bias_shape):
    """A bias that is not a channel vector: PyTorch's type and message, but for the shape (PyTorch's message
    shows the weight's shape where it means the bias's)."""
    ours = _group_norm(ember, device, (6,), bias_shape, False)
    theirs = _group_norm(torch, "cpu", (6,), bias_shape, False)
    assert ours[0] == theirs[0] == "RuntimeError"
    assert ours[1] == (
        "Expected bias to be a vector of size equal to the number of channels in input, but got bias of shape "
        f"{list(bias_shape)} and input of shape [2, 6, 3]"
    )
    assert ours[1].partition(" of shape ")[0] == theirs[1].partition(" of shape ")[0]


@pytest.mark.parametrize("given", ["tuple", "list", "size", "full-size"])
def test_max_unpool_names_the_output_size_as_given_as_torch(device, given):
    """SegNet's ``unpool(x, indices, output_size=x_before_pooling.size())`` with a size pooling cannot undo:
    PyTorch's message shows ``output_size`` as it was given (a tuple, a list, a Size); ember showed a list."""

    def run(lib, dev):
        x, indices = lib.nn.functional.max_pool2d(lib.randn(1, 1, 4, 4).to(dev), 2, return_indices=True)
        output_size = {"tuple": (7, 7), "list": [7, 7], "size": lib.Size([7, 7]), "full-size": lib.Size([1, 1, 7, 7])}
        return _error(lambda: lib.nn.MaxUnpool2d(2)(x, indices, output_size=output_size[given]))

    ours, theirs = run(ember, device), run(torch, "cpu")
    assert ours == (theirs[0], theirs[1].replace("torch.Size", "ember.Size"))


def _local_function():
    def scale(x):
        return x * 2

    return scale


def _local_class_instance():
    class Config:
        pass

    return Config()


_module_lambda = lambda x: x  # noqa: E731 - its name is "<lambda>", not found in the module


def _model_with_a_local_activation(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 2))
    model.act = _local_function()
    return model


@pytest.mark.parametrize(
    "make",
    [
        _model_with_a_local_activation,
        lambda lib: {"activation": _local_function()},
        lambda lib: {"config": _local_class_instance()},
        lambda lib: [_module_lambda],
    ],
)
@pytest.mark.parametrize("zipfile", [True, False])
def test_saving_an_unpicklable_function_or_class_raises_as_torch(make, zipfile):
    """``torch.save(model)`` of a model holding a lambda or a local function/class: PyTorch's C pickler raises
    ``AttributeError: Can't pickle local object ...`` (or its own ``PicklingError``); ember's Python pickler
    raised a ``PicklingError`` with another message."""

    def run(lib):
        return _error(lambda: lib.save(make(lib), io.BytesIO(), _use_new_zipfile_serialization=zipfile))

    ours, theirs = run(ember), run(torch)
    assert theirs is not None
    assert ours == theirs


@pytest.mark.parametrize(
    "shapes",
    [((3,), (4,)), ((2, 3), (3,), (4,)), ((2, 3), 5), ((2,), "Size(3)"), ((2, -1), (2, 1)), ((3,), (-1,)),
     ((3,), None, (1,)), ((0,), (2,)), ((1, 3), (4, 1), (2, 1, 1))],
)  # fmt: skip
def test_broadcast_shapes_refuses_as_torch(shapes):
    """``broadcast_shapes`` of the mean and covariance batch shapes (the distributions' ``broadcast_all``):
    PyTorch names the dimension and the shape that do not fit ("Attempting to broadcast a dimension of length 4
    at -1! ..."), raises ValueError for a negative length and skips ``None``; ember gave NumPy's "shape mismatch:
    objects cannot be broadcast to a single shape", took negative lengths and failed on ``None``."""

    def run(lib):
        given = [lib.Size([3]) if s == "Size(3)" else s for s in shapes]
        try:
            return "ok", list(lib.broadcast_shapes(*given))
        except Exception as error:  # noqa: BLE001 - the error is the result compared
            return type(error).__name__, str(error).replace(lib.__name__, "lib")

    assert run(ember) == run(torch)


@pytest.mark.parametrize(
    ("loss", "keyword", "weight_shape"),
    [
        ("binary_cross_entropy", "weight", (3,)),
        ("binary_cross_entropy", "weight", (5, 1, 2)),
        ("binary_cross_entropy_with_logits", "pos_weight", (3,)),
        ("binary_cross_entropy_with_logits", "pos_weight", (5, 1)),
        ("binary_cross_entropy_with_logits", "weight", (3,)),
        ("binary_cross_entropy_with_logits", "weight", (4, 3, 2)),
    ],
)
def test_binary_cross_entropy_weights_that_do_not_fit_are_refused_as_torch(device, loss, keyword, weight_shape):
    """A multi-label head's per-class ``pos_weight`` (or ``weight``) given with the batch's length: PyTorch's
    errors are its shape inference's (BCE's weight) or its element-wise product's; ember's were NumPy's
    "shape mismatch: objects cannot be broadcast to a single shape"."""

    def run(lib, dev):
        x, y = lib.rand(3, 2).to(dev), lib.rand(3, 2).to(dev)
        return _error(lambda: getattr(lib.nn.functional, loss)(x, y, **{keyword: lib.ones(weight_shape).to(dev)}))

    ours, theirs = run(ember, device), run(torch, "cpu")
    assert theirs is not None
    assert ours == (theirs[0], theirs[1].replace("torch.Size", "ember.Size"))


@pytest.mark.parametrize("given", ["tuple", "list", "size", "full-size", "one-dimension"])
def test_conv_transpose_names_an_unreachable_output_size_as_torch(device, given):
    """A U-Net decoder's ``up(x, output_size=skip.size())`` with a skip connection the stride cannot reach:
    PyTorch shows ``output_size`` as given and the valid sizes of every dimension as lists; ember showed a list
    and the range of the first dimension that failed."""

    def run(lib, dev):
        x = lib.randn(1, 2, 4, 4).to(dev)
        output_size = {"tuple": (12, 12), "list": [12, 12], "size": lib.Size([3, 3]),
                       "full-size": lib.Size([1, 2, 3, 3]), "one-dimension": (10, 12)}[given]  # fmt: skip
        return _error(lambda: lib.nn.ConvTranspose2d(2, 2, 3, stride=2).to(dev)(x, output_size=output_size))

    ours, theirs = run(ember, device), run(torch, "cpu")
    assert theirs is not None
    assert ours == (theirs[0], theirs[1].replace("torch.Size", "ember.Size"))


@pytest.mark.parametrize(
    ("call", "a", "b"),
    [("matmul", (3,), (4,)), ("matmul", (2, 3), (4,)), ("matmul", (3,), (4, 5)), ("matmul", (2, 2, 3), (4, 5)),
     ("matmul", (2, 2, 3), (4,)), ("matmul", (2, 3), (2, 4, 5)), ("matmul", (3,), (2, 4, 5)),
     ("matmul", (5, 2, 2, 3), (5, 1, 4, 5)), ("matmul", (2, 2, 3), (3, 4, 5)), ("bmm", (2, 3, 4), (3, 4, 5)),
     ("bmm", (2, 3, 4), (2, 5, 5)), ("mv", (2, 3), (4,))],
)  # fmt: skip
def test_products_of_sizes_that_do_not_match_are_refused_as_torch(device, call, a, b):
    """An attention score ``q @ k`` (or a pooled feature ``x @ w``) whose inner sizes differ: PyTorch's message
    is that of the op its matmul runs (dot, mv, mm of the folded input, bmm of the broadcast batches); ember
    gave "mat1 and mat2 shapes cannot be multiplied (3 and 4)" for two vectors, "batch2 tensor to be compatible:
    matmul got shapes (...)" for batches, and "batch1 and batch2 must have same number of batches" for bmm."""

    def run(lib, dev):
        x, y = lib.randn(a).to(dev), lib.randn(b).to(dev)
        return _error(lambda: getattr(lib, call)(x, y))

    ours, theirs = run(ember, device), run(torch, "cpu")
    assert theirs is not None
    assert ours == theirs
