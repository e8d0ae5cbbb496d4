"""The ``meta`` device, differential against PyTorch: tensors with a shape, dtype and strides but no
data; modules built on it without memory, then materialised with ``to_empty`` or
``load_state_dict(assign=True)``; shape and dtype inference through ops, modules and backward."""

from __future__ import annotations

import copy
import pickle
import re
import time
import tracemalloc

import pytest

import ember

torch = pytest.importorskip("torch")

M = "meta"


def _signature(value, lib):
    """What a meta result is: shapes, dtypes, devices and strides (nested as the result is)."""
    if isinstance(value, lib.Tensor):
        return tuple(value.shape), str(value.dtype).split(".")[-1], value.device.type, tuple(value.stride())
    if isinstance(value, (tuple, list)):
        return [_signature(v, lib) for v in value]
    return value


def _same(fn):
    assert _signature(fn(ember), ember) == _signature(fn(torch), torch)


CREATION = {
    "empty": lambda t: t.empty(2, 3, device=M),
    "zeros int32": lambda t: t.zeros(2, 3, device=M, dtype=t.int32),
    "ones": lambda t: t.ones((4,), device=M),
    "full int": lambda t: t.full((2, 2), 3, device=M),
    "full bool": lambda t: t.full((2, 2), True, device=M),
    "rand": lambda t: t.rand(2, 5, device=M),
    "randn float64": lambda t: t.randn(2, 5, device=M, dtype=t.float64),
    "randint": lambda t: t.randint(0, 10, (3,), device=M),
    "randperm": lambda t: t.randperm(5, device=M),
    "arange": lambda t: t.arange(10, device=M),
    "arange float step": lambda t: t.arange(0, 1, 0.1, device=M),
    "linspace": lambda t: t.linspace(0, 1, 7, device=M),
    "linspace of meta ends": lambda t: t.linspace(t.tensor(0.0, device=M), t.tensor(1.0, device=M), 5),
    "linspace of a meta end and a number": lambda t: t.linspace(t.tensor(0, device=M), 3, 4, dtype=t.float64),
    "linspace of meta ends asked on cpu": lambda t: t.linspace(t.tensor(0.0, device=M), 1.0, 5, device="cpu"),
    "linspace of cpu ends on meta": lambda t: t.linspace(t.tensor(0.0), t.tensor(1.0), 3, device=M),
    "logspace of meta ends": lambda t: t.logspace(t.tensor(0.0, device=M), t.tensor(1.0, device=M), 5, base=2),
    "logspace of meta ends int64": lambda t: t.logspace(t.tensor(0.0, device=M), 2.0, 3, dtype=t.int64),
    "eye": lambda t: t.eye(3, 4, device=M),
    "zeros_like": lambda t: t.zeros_like(t.empty(2, 3, device=M)),
    "rand_like": lambda t: t.rand_like(t.empty(2, 3, device=M, dtype=t.float64)),
    "tensor": lambda t: t.tensor([[1, 2, 3]], device=M),
    "to meta": lambda t: t.ones(2, 3).t().to(M),
    "to meta of a strided view": lambda t: t.ones(2, 3, 4)[:, ::2].transpose(0, 2).to(M),
    "to meta of a broadcast": lambda t: t.ones(3, 1).expand(3, 4).to(M),
    "to meta float16": lambda t: t.ones(2, 3).to(M, t.float16),
}


@pytest.mark.parametrize("case", list(CREATION))
def test_creation_on_meta(case):
    _same(CREATION[case])


def _x(t, *shape, dtype=None):
    return t.empty(*shape, device=M, dtype=dtype or t.float32)


def _long(t, *shape):
    return t.zeros(*shape, dtype=t.long, device=M)


def _input_grad(t, fn, *shape):
    """The gradient of ``fn(x).sum()`` in a meta ``x`` of ``shape``."""
    x = _x(t, *shape).requires_grad_()
    return t.autograd.grad(fn(x).sum(), x)[0]


OPS = {
    "broadcast add": lambda t: _x(t, 2, 3) + _x(t, 3, dtype=t.float64),
    "int32 + float scalar": lambda t: _x(t, 2, 3, dtype=t.int32) + 2.5,
    "int32 / int scalar": lambda t: _x(t, 2, 3, dtype=t.int32) / 2,
    "uint8 + int8": lambda t: _x(t, 2, 3, dtype=t.uint8) + _x(t, 3, dtype=t.int8),
    "bfloat16 * scalar": lambda t: _x(t, 2, 3, dtype=t.bfloat16) * 2,
    "comparison": lambda t: _x(t, 2, 3) > 0,
    "where": lambda t: t.where(_x(t, 2, 1) > 0, _x(t, 1, 3), 0.0),
    "unary chain": lambda t: _x(t, 2, 3).exp().log().sqrt().tanh().sigmoid(),
    "matmul": lambda t: _x(t, 2, 3) @ _x(t, 3, 5),
    "batched matmul by vector": lambda t: _x(t, 7, 2, 3) @ _x(t, 3),
    "batched matmul broadcast": lambda t: _x(t, 4, 1, 2, 3) @ _x(t, 5, 3, 6, dtype=t.float32),
    "sum": lambda t: _x(t, 2, 3).sum(),
    "sum keepdim": lambda t: _x(t, 2, 3).sum(1, keepdim=True),
    "sum int32": lambda t: _x(t, 2, 3, dtype=t.int32).sum(0),
    "mean": lambda t: _x(t, 2, 3).mean(0),
    "max dim": lambda t: list(_x(t, 2, 3).max(1)),
    "argmax": lambda t: _x(t, 2, 3).argmax(),
    "var": lambda t: _x(t, 2, 3, dtype=t.float64).var(1),
    "softmax": lambda t: _x(t, 2, 3).softmax(-1),
    "cumsum": lambda t: _x(t, 2, 3).cumsum(1),
    "sort": lambda t: list(_x(t, 2, 3).sort(1)),
    "topk": lambda t: list(_x(t, 4).topk(2)),
    "transpose": lambda t: _x(t, 2, 3).t(),
    "permute": lambda t: _x(t, 2, 3, 4).permute(2, 0, 1),
    "permute contiguous": lambda t: _x(t, 2, 3, 4).permute(2, 0, 1).contiguous(),
    "reshape of transpose": lambda t: _x(t, 2, 3, 4).transpose(0, 1).reshape(6, 4),
    "view": lambda t: _x(t, 2, 3, 4).view(-1, 2),
    "expand": lambda t: _x(t, 2, 1, 4).expand(2, 5, 4),
    "basic index": lambda t: _x(t, 2, 3, 4)[:, 1:3, ::2],
    "integer index": lambda t: _x(t, 2, 3, 4)[1, 2],
    "advanced index": lambda t: _x(t, 2, 3, 4)[:, t.tensor([0, 1], device=M), t.tensor([[0], [1]], device=M)],
    "cat": lambda t: t.cat([_x(t, 2, 3), _x(t, 4, 3)]),
    "stack": lambda t: t.stack([_x(t, 2, 3), _x(t, 2, 3)], 1),
    "unsqueeze": lambda t: _x(t, 2, 3).unsqueeze(1),
    "squeeze": lambda t: _x(t, 2, 1).squeeze(),
    "flip": lambda t: _x(t, 2, 3).flip(0),
    "flip of a permutation": lambda t: _x(t, 5, 4, 3).transpose(0, 2).flip(1),
    "rot90 backward": lambda t: _input_grad(t, lambda x: x.rot90(1, (1, 2)) * _x(t, 5, 5, 5), 5, 5, 5),
    "chunk": lambda t: _x(t, 6, 2).chunk(3)[1],
    "repeat": lambda t: _x(t, 4).repeat(2, 3),
    "gather": lambda t: _x(t, 4, 3).gather(0, t.zeros(2, 3, dtype=t.long, device=M)),
    "index_select": lambda t: _x(t, 4, 3).index_select(0, t.zeros(5, dtype=t.long, device=M)),
    "scatter_add": lambda t: _x(t, 4).scatter_add(0, t.zeros(2, dtype=t.long, device=M), _x(t, 2)),
    "in place": lambda t: _x(t, 2, 3).abs_().mul_(2),
    "astype": lambda t: _x(t, 2, 3).to(t.float16),
    "astype of a transpose": lambda t: _x(t, 2, 3).t().to(t.float16),
    "clone of a transpose": lambda t: _x(t, 2, 3).t().clone(),
    "clone of a strided view": lambda t: _x(t, 2, 3, 4)[:, :, 1:].transpose(1, 2).clone(),
    "view dtype": lambda t: _x(t, 2, 4).view(t.int16),
    "view_as_real": lambda t: t.view_as_real(_x(t, 2, 3, dtype=t.complex64)),
    "storage offset": lambda t: _x(t, 2, 3)[:, 1:].storage_offset(),
    "is_contiguous": lambda t: (_x(t, 2, 3).is_contiguous(), _x(t, 2, 3).t().is_contiguous()),
    "einsum": lambda t: t.einsum("ij,jk->ik", _x(t, 2, 3), _x(t, 3, 4)),
    "data_ptr": lambda t: _x(t, 2, 3).data_ptr(),
    "rfft": lambda t: t.fft.rfft(_x(t, 3, 8)),
    # torch lays out a transform along an outer dim with that dim innermost, on the CPU as on meta: the
    # layout is compared where the CPU's agrees
    "rfft n dim": lambda t: t.fft.rfft(_x(t, 3, 8), n=5, dim=0).contiguous(),
    "fft float64": lambda t: t.fft.fft(_x(t, 3, 8, dtype=t.float64)),
    "ifft complex n": lambda t: t.fft.ifft(_x(t, 3, 8, dtype=t.complex64), n=12),
    "irfft": lambda t: t.fft.irfft(_x(t, 3, 5, dtype=t.complex64)),
    "fft2": lambda t: t.fft.fft2(_x(t, 2, 3, 8)),
    "rfftn s": lambda t: t.fft.rfftn(_x(t, 2, 3, 8), s=(4, 6)),
    "irfftn dims": lambda t: t.fft.irfftn(_x(t, 2, 3, 8, dtype=t.complex64), dim=(0, 2)).contiguous(),
    "hfft": lambda t: t.fft.hfft(_x(t, 5, dtype=t.complex64)),
    # ops whose CPU form checks the values first: on meta there are none to check
    "one_hot": lambda t: t.nn.functional.one_hot(t.zeros(4, dtype=t.long, device=M), 5),
    "multinomial": lambda t: t.multinomial(_x(t, 4), 2),
    "bernoulli": lambda t: t.bernoulli(_x(t, 4)),
    "normal": lambda t: t.normal(_x(t, 3), _x(t, 3)),
    "binary_cross_entropy": lambda t: t.nn.functional.binary_cross_entropy(_x(t, 4), _x(t, 4)),
    "orthogonal_": lambda t: t.nn.init.orthogonal_(_x(t, 3, 4)),
    "embedding_bag 2-d": lambda t: t.nn.functional.embedding_bag(t.zeros(2, 3, dtype=t.long, device=M), _x(t, 10, 4)),
    "embedding_bag offsets": lambda t: t.nn.functional.embedding_bag(
        t.zeros(6, dtype=t.long, device=M), _x(t, 10, 4), t.zeros(3, dtype=t.long, device=M), mode="max"
    ),
    "get_device": lambda t: _x(t, 2).get_device(),
    "integer remainder": lambda t: t.remainder(_x(t, 3, dtype=t.int64), _x(t, 3, dtype=t.int64)),
    "integer floor_divide": lambda t: t.floor_divide(_x(t, 2, 3, dtype=t.int32), _x(t, 3, dtype=t.int32)),
    "unfold backward": lambda t: _input_grad(t, lambda x: x.unfold(0, 3, 2), 10),
    "as_strided backward": lambda t: _input_grad(t, lambda x: x.as_strided((2, 3), (1, 2), 1), 4, 2),
    "conv1d padding backward": lambda t: _input_grad(
        t, lambda x: t.nn.functional.conv1d(x, _x(t, 3, 3, 3), stride=2, padding=2), 1, 3, 4
    ),
    "conv2d padding backward": lambda t: _input_grad(
        t, lambda x: t.nn.functional.conv2d(x, _x(t, 4, 3, 3, 3), padding=(1, 2)), 2, 3, 5, 5
    ),
    "triu_indices": lambda t: t.triu_indices(4, 5, 1, device=M),
    "tril_indices int32": lambda t: t.tril_indices(5, 3, -1, dtype=t.int32, device=M),
    "pdist": lambda t: t.nn.functional.pdist(_x(t, 5, 3)),
    "masked_scatter": lambda t: _x(t, 3, 4).masked_scatter(_x(t, 4) > 0, _x(t, 12)),
    "masked_scatter backward": lambda t: [
        g
        for x, source in [(_x(t, 3, 4).t().requires_grad_(), _x(t, 2, 7).requires_grad_())]
        for g in t.autograd.grad(x.masked_scatter(_x(t, 4, 1) > 0, source).sum(), [x, source])
    ],
    "repeat_interleave output_size": lambda t: _x(t, 3, 4).repeat_interleave(_long(t, 3), dim=0, output_size=7),
    "repeat_interleave one repeat": lambda t: _x(t, 4, 3).t().repeat_interleave(_long(t, 1), dim=1, output_size=8),
    "repeat_interleave alone": lambda t: t.repeat_interleave(_long(t, 3).int(), output_size=5),
    "tensor_split cpu indices": lambda t: _x(t, 5, 2).tensor_split(t.tensor([1, 3])),
    "ctc_loss": lambda t: t.nn.functional.ctc_loss(_x(t, 10, 2, 5), _long(t, 2, 3), [10, 8], [3, 2], reduction="none"),
    "ctc_loss concatenated": lambda t: t.nn.functional.ctc_loss(_x(t, 10, 2, 5), _long(t, 5), [10, 8], [3, 2]),
    "multilabel_margin_loss": lambda t: t.nn.functional.multilabel_margin_loss(_x(t, 3, 4), _long(t, 3, 4)),
    "multilabel_margin_loss none": lambda t: t.nn.functional.multilabel_margin_loss(
        _x(t, 3, 4), _long(t, 3, 4), reduction="none"
    ),
    "chebyshev_polynomial_t of meta degrees": lambda t: t.special.chebyshev_polynomial_t(_x(t, 3, 1), _x(t, 4)),
    "hermite_polynomial_h of meta degrees": lambda t: t.special.hermite_polynomial_h(_x(t, 3), _long(t, 2, 1)),
    "legendre_polynomial_p of a large degree": lambda t: t.special.legendre_polynomial_p(
        _x(t, 3, dtype=t.float64), 500
    ),
    "max_unpool2d": lambda t: t.nn.functional.max_unpool2d(
        _x(t, 1, 1, 2, 2), t.zeros(1, 1, 2, 2, dtype=t.long, device=M), 2
    ),
}


@pytest.mark.parametrize("case", list(OPS))
def test_shape_inference_on_meta(case):
    _same(OPS[case])


def _shapes(value, lib):
    """What a result is, without its strides: shapes, dtypes and devices (nested as the result is)."""
    if isinstance(value, lib.Tensor):
        return tuple(value.shape), str(value.dtype).split(".")[-1], value.device.type
    return [_shapes(v, lib) for v in value]


def _with_input_grad(fn, *shape, dtype="float32"):
    """``fn`` of a meta input of ``shape``, and the gradient of its outputs' sum in that input."""

    def run(t):
        x = _x(t, *shape, dtype=getattr(t, dtype)).requires_grad_()
        out = fn(t, x)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
        return [*out] if isinstance(out, tuple) else [out], t.autograd.grad(sum(o.sum() for o in outs), x)

    return run


#: the linear algebra on meta: the factors' shapes and dtypes and the input's gradient, with no value
#: read (torch lays LAPACK's factors out column-major on the CPU and on meta; ember's CPU returns them
#: row-major, and its meta device follows its CPU: the strides are not compared)
LINALG = {
    "inv": _with_input_grad(lambda t, x: t.linalg.inv(x), 2, 4, 4),
    "inv_ex": _with_input_grad(lambda t, x: tuple(t.linalg.inv_ex(x)), 4, 4),
    "solve": _with_input_grad(lambda t, x: t.linalg.solve(x, _x(t, 4, 2)), 3, 4, 4),
    "det float64": _with_input_grad(lambda t, x: t.linalg.det(x), 3, 5, 5, dtype="float64"),
    "slogdet": _with_input_grad(lambda t, x: tuple(t.linalg.slogdet(x)), 5, 5),
    "cholesky": _with_input_grad(lambda t, x: t.linalg.cholesky(x), 3, 3),
    "lu_factor": _with_input_grad(lambda t, x: tuple(t.linalg.lu_factor(x)), 2, 5, 3),
    "lu": _with_input_grad(lambda t, x: tuple(t.linalg.lu(x)), 3, 5),
    "qr complete": _with_input_grad(lambda t, x: tuple(t.linalg.qr(x, mode="complete")), 3, 5),
    "svd": _with_input_grad(lambda t, x: tuple(t.linalg.svd(x, full_matrices=False)), 2, 5, 3),
    "svd full": _with_input_grad(lambda t, x: tuple(t.linalg.svd(x)), 3, 5),
    "svdvals": _with_input_grad(lambda t, x: t.linalg.svdvals(x), 4, 6),
    "eigh": _with_input_grad(lambda t, x: tuple(t.linalg.eigh(x)), 2, 4, 4),
    "eigvalsh float64": _with_input_grad(lambda t, x: t.linalg.eigvalsh(x), 4, 4, dtype="float64"),
    "pinv": _with_input_grad(lambda t, x: t.linalg.pinv(x), 5, 3),
    "matrix_rank": lambda t: t.linalg.matrix_rank(_x(t, 5, 3)),
    "matrix_exp": _with_input_grad(lambda t, x: t.linalg.matrix_exp(x), 2, 3, 3),
    "cond": _with_input_grad(lambda t, x: t.linalg.cond(x), 4, 4),
    "nuclear norm": _with_input_grad(lambda t, x: t.linalg.matrix_norm(x, "nuc"), 2, 4, 3),
    "tensorinv": lambda t: t.linalg.tensorinv(_x(t, 4, 2, 2), ind=1),
    # the portable LDL kernels raised NotImplementedError; lu_unpack read the pivots' values
    "ldl_factor_ex": lambda t: tuple(t.linalg.ldl_factor_ex(_x(t, 2, 4, 4))),
    "ldl_solve": lambda t: t.linalg.ldl_solve(*t.linalg.ldl_factor(_x(t, 2, 4, 4)), _x(t, 3, 1, 4, 2)),
    "lu_unpack": lambda t: tuple(t.lu_unpack(*t.linalg.lu_factor(_x(t, 2, 5, 3)))),
    "cholesky_inverse": lambda t: t.cholesky_inverse(_x(t, 2, 4, 4)),
}


@pytest.mark.parametrize("case", list(LINALG))
def test_linear_algebra_on_meta(case):
    assert _shapes(LINALG[case](ember), ember) == _shapes(LINALG[case](torch), torch)


def test_linear_algebra_of_a_large_matrix_on_meta_is_immediate():
    x = ember.empty(4096, 4096, device=M)
    start = time.perf_counter()
    for fn in (ember.linalg.inv, ember.linalg.det, ember.linalg.svd, ember.linalg.eigh, ember.linalg.lu_factor):
        fn(x)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: _x(t, 2, 3) + _x(t, 4),
        lambda t: _x(t, 2, 3) @ _x(t, 4, 5),
        lambda t: t.cat([_x(t, 2, 3), _x(t, 4, 4)]),
        lambda t: _x(t, 2, 3, 4).transpose(0, 1).view(-1),
    ],
)
def test_shape_errors_on_meta(fn):
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(RuntimeError):
        fn(ember)


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda t: _x(t, 2, 3).cpu(), NotImplementedError, "Cannot copy out of meta tensor"),
        (lambda t: _x(t, 2, 3).tolist(), NotImplementedError, "Cannot copy out of meta tensor"),
        (lambda t: _x(t, 2, 3).numpy(), TypeError, "can't convert meta device type tensor to numpy"),
        (lambda t: _x(t, 2, 3)[0, 0].item(), RuntimeError, "Tensor.item() cannot be called on meta tensors"),
        (lambda t: float(_x(t, 1)), RuntimeError, "Tensor.item() cannot be called on meta tensors"),
        (lambda t: _x(t, 2, 3).item(), RuntimeError, "a Tensor with 6 elements cannot be converted to Scalar"),
    ],
)
def test_reading_values_of_meta_tensors_raises_as_torch(fn, error, message):
    for lib in (torch, ember):
        with pytest.raises(error, match=re.escape(message)):
            fn(lib)


#: op named in ember's error -> an op whose result depends on the values (torch: NotImplementedError)
VALUE_DEPENDENT = {
    "nonzero": lambda t: _x(t, 2, 3).nonzero(),
    "index with a boolean mask": lambda t: _x(t, 2, 3)[_x(t, 2, 3) > 0],
    "unique": lambda t: _x(t, 2, 3).unique(),
    "unique ": lambda t: t.unique(_x(t, 2, 3), dim=0, return_counts=True),
    "unique_consecutive": lambda t: t.unique_consecutive(_x(t, 5)),
    "masked_select": lambda t: t.masked_select(_x(t, 2, 3), _x(t, 3) > 0),
    "bincount": lambda t: t.bincount(_long(t, 4)),
    "to_sparse": lambda t: _x(t, 2, 3).to_sparse(),
    "equal": lambda t: t.equal(_x(t, 2, 3), _x(t, 2, 3)),
    "histogram": lambda t: t.histogram(_x(t, 10), 4),
    "histogramdd": lambda t: t.histogramdd(_x(t, 10, 2), [3, 4]),
    "ctc_loss": lambda t: t.nn.functional.ctc_loss(
        _x(t, 10, 2, 5).log_softmax(2), _long(t, 2, 3), t.full((2,), 10, device=M), t.full((2,), 3, device=M)
    ),
}


@pytest.mark.parametrize("op", list(VALUE_DEPENDENT))
def test_value_dependent_ops_raise_not_implemented_naming_the_op(op):
    with pytest.raises(NotImplementedError):
        VALUE_DEPENDENT[op](torch)
    with pytest.raises(NotImplementedError, match=rf"^(torch\.)?{op.strip()}: .*meta device"):
        VALUE_DEPENDENT[op](ember)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: _x(t, 3, 4).repeat_interleave(_long(t, 3), dim=0),
        lambda t: _x(t, 3, 4).repeat_interleave(_long(t, 1), dim=1),
        lambda t: t.repeat_interleave(_long(t, 3)),
        lambda t: _x(t, 3, 4).tensor_split(_long(t, 2)),
    ],
    ids=["repeats", "one repeat", "repeats alone", "tensor_split"],
)
def test_meta_counts_and_split_points_raise_runtime_errors_as_torch(fn):
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as error:
            fn(lib)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_repeat_interleave_of_int32_counts_gives_int32_positions():
    counts = [1, 0, 2]
    assert str(ember.repeat_interleave(ember.tensor(counts, dtype=ember.int32)).dtype) == str(
        torch.repeat_interleave(torch.tensor(counts, dtype=torch.int32)).dtype
    ).replace("torch", "ember")


def test_istft_on_meta_gives_the_cpu_shape():
    spectrum, window = ember.randn(9, 5, dtype=ember.complex64), ember.hann_window(16)
    expected = ember.istft(spectrum, 16, window=window)
    out = ember.istft(spectrum.to(M), 16, window=window.to(M))
    assert out.is_meta and out.shape == expected.shape and out.dtype == expected.dtype


@pytest.mark.parametrize("op", ["linspace", "logspace"])
@pytest.mark.parametrize("ends", [((1,), ()), ((), (2, 1)), (None, (1,))], ids=["start", "end", "number and end"])
@pytest.mark.parametrize("where", ["cpu", M])
def test_linspace_refuses_ends_of_more_than_zero_dimensions(op, ends, where):
    messages = []
    for lib in (torch, ember):
        start, end = (0.5 if shape is None else lib.zeros(shape, device=where) for shape in ends)
        with pytest.raises(RuntimeError) as error:
            getattr(lib, op)(start, end, 3)
        messages.append(str(error.value))
    if where == "cpu":
        assert messages[0] == messages[1]
    else:  # torch's meta kernel says less (and 'linspace' for logspace)
        assert all("only supports 0-dimensional start and end tensors" in m for m in messages)


@pytest.mark.parametrize(
    "write",
    [
        lambda t, x: x.__setitem__(x > 0, 0.0),
        lambda t, x: x.__setitem__((x[:, 0] > 0, 1), t.empty(5, device=M)),
        lambda t, x: x.index_put_((x > 0,), t.tensor(1.0, device=M)),
        lambda t, x: x.index_put_((x > 0,), t.tensor(1.0, device=M), accumulate=True),
    ],
)
def test_writes_through_a_boolean_meta_mask_are_no_ops(write):
    for lib in (torch, ember):
        x = lib.empty(3, 4, device=M)
        write(lib, x)
        assert x.is_meta and tuple(x.shape) == (3, 4)


def test_unsupported_op_names_the_op_and_the_meta_device():
    with pytest.raises(NotImplementedError, match="nonzero: .*meta device"):
        _x(ember, 2, 3).nonzero()
    xp = ember.backends.get_backend(M).xp
    with pytest.raises(NotImplementedError, match="svd: the meta device has no implementation"):
        xp.svd(xp.full((2, 2), 1.0))
    assert getattr(xp, "svd", None) is None  # still an AttributeError to a probe with a default


@pytest.mark.parametrize(
    ("dtype", "requires_grad"), [("float32", False), ("int64", False), ("bool", False), ("float32", True)]
)
def test_printing_meta_tensors(dtype, requires_grad):
    texts = []
    for lib in (torch, ember):
        x = lib.empty(2, 3, device=M, dtype=getattr(lib, dtype), requires_grad=requires_grad)
        texts.append([repr(y).replace("torch.", "ember.") for y in (x, x * 2 if requires_grad else x[0])])
    assert texts[0] == texts[1]


def test_meta_device_name_and_is_meta():
    x = ember.empty(2, device=M)
    assert x.is_meta and not ember.empty(2).is_meta
    assert str(x.device) == str(torch.empty(2, device=M).device) == "meta"
    assert x.device == ember.device("meta")


def test_device_context_manager_and_default_device():
    with ember.device(M):
        inner = ember.zeros(2), ember.tensor([1, 2]), ember.nn.Linear(2, 3).weight
        with ember.device("cpu"):
            nested = ember.ones(1)
        after_nested = ember.ones(1)
    assert [t.device.type for t in inner] == [M, M, M]
    assert nested.device.type == "cpu" and after_nested.device.type == M
    assert ember.zeros(1).device.type == "cpu"
    ember.set_default_device(M)
    try:
        assert ember.zeros(2).is_meta
    finally:
        ember.set_default_device(None)


def _module(lib, name):
    nn = lib.nn
    return {
        "linear": lambda: nn.Linear(20, 30),
        "conv2d": lambda: nn.Conv2d(3, 8, 3, stride=2, padding=1),
        "conv1d groups": lambda: nn.Conv1d(4, 8, 5, groups=2, dilation=2),
        "conv transpose": lambda: nn.ConvTranspose2d(3, 8, 3, stride=2),
        "embedding": lambda: nn.Embedding(100, 16),
        "layer norm": lambda: nn.LayerNorm(16),
        "batch norm": lambda: nn.BatchNorm2d(8),
        "multihead attention": lambda: nn.MultiheadAttention(16, 4, batch_first=True),
        "encoder layer": lambda: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True),
        "decoder layer": lambda: nn.TransformerDecoderLayer(16, 4, 32, batch_first=True),
        "lstm": lambda: nn.LSTM(8, 16, num_layers=2, batch_first=True),
        "cnn": lambda: nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 10)
        ),
    }[name]()


_INPUTS = {
    "linear": (4, 20),
    "conv2d": (2, 3, 32, 32),
    "conv1d groups": (2, 4, 40),
    "conv transpose": (2, 3, 9, 9),
    "layer norm": (4, 7, 16),
    "batch norm": (4, 8, 5, 5),
    "multihead attention": (2, 5, 16),
    "encoder layer": (2, 5, 16),
    "decoder layer": (2, 5, 16),
    "lstm": (3, 5, 8),
    "cnn": (2, 3, 12, 12),
}
MODULES = ["embedding", *_INPUTS]


def _forward(lib, name, module, x):
    if name == "multihead attention":
        return module(x, x, x)
    if name == "decoder layer":
        return module(x, x)
    return module(x)


def _input(lib, name):
    if name == "embedding":
        return lib.zeros(4, 7, dtype=lib.long, device=M)
    return lib.empty(*_INPUTS[name], device=M, requires_grad=True)


@pytest.mark.parametrize("name", MODULES)
def test_module_built_on_meta_runs_forward_and_backward(name):
    def run(lib):
        with lib.device(M):
            module = _module(lib, name)
        x = _input(lib, name)
        out = _forward(lib, name, module, x)
        first = out[0] if isinstance(out, tuple) else out
        first.sum().backward()
        grads = [p.grad for p in module.parameters()] + ([x.grad] if x.requires_grad else [])
        return list(module.parameters()) + list(module.buffers()), out, grads

    _same(run)


def _cpu_input(name):
    return ember.zeros(4, 7, dtype=ember.long) if name == "embedding" else ember.randn(*_INPUTS[name])


@pytest.mark.parametrize("name", MODULES)
def test_to_empty_then_reset_parameters(name):
    with ember.device(M):
        module = _module(ember, name)
    module.to_empty(device="cpu")
    assert all(t.device.type == "cpu" for t in [*module.parameters(), *module.buffers()])
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    x = _cpu_input(name)
    out, expected = _forward(ember, name, module, x), _forward(ember, name, _module(ember, name), x)
    assert _signature(out, ember) == _signature(expected, ember)


@pytest.mark.parametrize("name", MODULES)
def test_load_state_dict_assign_replaces_meta_tensors(name):
    with ember.device(M):
        module = _module(ember, name)
    state = _module(ember, name).state_dict()
    module.load_state_dict(state, assign=True)
    for key, value in module.state_dict().items():
        assert value.device.type == "cpu" and ember.equal(value, state[key])
    assert all(isinstance(p, ember.nn.Parameter) and p.requires_grad for p in module.parameters())


def test_load_state_dict_into_meta_without_assign_warns_that_it_is_a_no_op():
    messages = []
    for lib in (torch, ember):
        with lib.device(M):
            module = lib.nn.Linear(2, 3)
        with pytest.warns(UserWarning) as records:
            module.load_state_dict(lib.nn.Linear(2, 3).state_dict())
        assert module.weight.is_meta
        messages.append([str(r.message) for r in records if "meta" in str(r.message)])
    assert messages[0] == messages[1] and len(messages[0]) == 2


def test_meta_tensors_and_modules_pickle():
    x = ember.empty(2, 3, device=M, requires_grad=True).t()
    back = pickle.loads(pickle.dumps(x))
    assert back.is_meta and back.shape == (3, 2) and back.stride() == (1, 3) and back.requires_grad
    module = pickle.loads(pickle.dumps(ember.nn.Linear(2, 3).to(M)))
    assert isinstance(module.weight, ember.nn.Parameter) and module.weight.is_meta
    assert copy.copy(x).is_meta


def test_in_place_init_on_meta_is_a_no_op_that_keeps_the_meta_tensor():
    with ember.device(M):
        weight = ember.empty(30, 20)
    for init in (
        ember.nn.init.kaiming_uniform_,
        ember.nn.init.xavier_normal_,
        ember.nn.init.trunc_normal_,
        ember.nn.init.zeros_,
    ):
        assert init(weight) is weight and weight.is_meta and weight.shape == (30, 20)


def test_a_model_too_big_for_memory_builds_on_meta():
    with ember.device(M):
        model = ember.nn.Sequential(*[ember.nn.Linear(50_000, 50_000) for _ in range(4)])  # 40 GB on a CPU
    out = model(ember.empty(8, 50_000, device=M))
    assert sum(p.numel() for p in model.parameters()) == 4 * (50_000 * 50_000 + 50_000)
    assert out.shape == (8, 50_000) and out.is_meta


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ember.fft.rfft(x),
        lambda x: ember.fft.fft(x, dim=0),
        lambda x: ember.fft.rfftn(x, s=(8, 6)),
        lambda x: x @ x.t(),
        lambda x: x[ember.zeros(3000, dtype=ember.long, device=M)],
        lambda x: ember.cat([x, x]).sum(0),
    ],
)
def test_shape_inference_on_meta_allocates_no_elements(fn):
    x = ember.empty(3000, 4096, device=M)  # 48 MB as float32 on a CPU
    tracemalloc.start()
    try:
        fn(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000


def test_safetensors_refuses_meta_tensors_as_safetensors_does_and_the_torch_format_keeps_them(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    with pytest.raises(NotImplementedError):
        safetensors_torch.save({"w": torch.empty(2, 3, device=M)})
    with ember.device(M):
        state = ember.nn.Linear(3, 2).state_dict()
    with pytest.raises(NotImplementedError, match="ember.save: the tensor at weight is on the meta device"):
        ember.save(state, tmp_path / "model.safetensors")
    assert not (tmp_path / "model.safetensors").exists()
    ember.save(state, tmp_path / "model.pt")
    back = ember.load(tmp_path / "model.pt")
    assert all(v.is_meta and v.shape == state[k].shape for k, v in back.items())
    back = torch.load(tmp_path / "model.pt")
    assert all(v.is_meta and tuple(v.shape) == tuple(state[k].shape) for k, v in back.items())


def test_module_to_another_device_from_meta_points_to_to_empty():
    messages = []
    for lib in (torch, ember):
        module = lib.nn.Linear(2, 3, device=M)
        with pytest.raises(NotImplementedError) as error:
            module.to("cpu")
        messages.append(str(error.value))
        assert module.to(lib.float64).weight.is_meta  # a cast stays on meta
    assert messages[0] == messages[1]


def test_assert_close_of_meta_tensors_compares_their_attributes_only():
    for lib in (torch, ember):
        lib.testing.assert_close(lib.empty(3, device=M), lib.empty(3, device=M))
        with pytest.raises(AssertionError, match="'shape' do not match"):
            lib.testing.assert_close(lib.empty(3, device=M), lib.empty(4, device=M))
        with pytest.raises(AssertionError, match="'dtype' do not match"):
            lib.testing.assert_close(lib.empty(3, device=M), lib.empty(3, device=M, dtype=lib.float64))


@pytest.mark.parametrize(
    "sample",
    [
        lambda t, g, **kw: t.randn(3000, 1000, generator=g, **kw),
        lambda t, g, **kw: t.randint(0, 9, (3000, 1000), generator=g, **kw),
        lambda t, g, **kw: t.randperm(3_000_000, generator=g, **kw),
        lambda t, g, **kw: t.nn.init.normal_(t.empty(3000, 1000, **kw), generator=g),
    ],
    ids=["randn", "randint", "randperm", "normal_"],
)
def test_a_cpu_generator_on_meta_draws_nothing(sample):
    for lib in (torch, ember):
        generator = lib.Generator().manual_seed(3)
        state = generator.get_state().clone()
        sample(lib, generator, device=M)  # (the first call's imports are not measured)
        tracemalloc.start()
        try:
            out = sample(lib, generator, device=M)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out.is_meta and lib.equal(generator.get_state(), state)
        assert lib is torch or peak < 4_000_000  # no values drawn on the host (12 MB and more)
        with lib.device(M):  # the default device, not the generator's, as in torch
            assert sample(lib, generator).is_meta


def test_fractional_max_pool_refuses_samples_on_another_device():
    # torch raises NotImplementedError for a meta input with CPU samples (it copies them) and ignores the device
    # of meta samples given with a CPU input; mixing devices is ember's RuntimeError both ways
    for input_device, samples_device in (("cpu", M), (M, "cpu")):
        with pytest.raises(RuntimeError, match="fractional_max_pool2d"):
            ember.nn.functional.fractional_max_pool2d(
                ember.empty(1, 3, 8, 8, device=input_device),
                2,
                4,
                _random_samples=ember.rand(1, 3, 2, device=samples_device),
            )


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: _x(t, 5, 3).scatter_reduce(0, _long(t, 2, 3), _x(t, 2, 3), "amax"),
        lambda t: _x(t, 5, 3).scatter_reduce(0, _long(t, 2, 3), _x(t, 2, 3), "mean", include_self=False),
        lambda t: _x(t, 5, 3).index_reduce(0, _long(t, 2), _x(t, 2, 3), "prod"),
    ],
    ids=["scatter_reduce amax", "scatter_reduce mean", "index_reduce"],
)
def test_index_reductions_on_meta(fn):
    # (ember's CPU lays some of these out column-major where torch's does not: the strides are not compared)
    assert _shapes(fn(ember), ember) == _shapes(fn(torch), torch)
