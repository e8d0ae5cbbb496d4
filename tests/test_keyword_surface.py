"""The keyword names PyTorch accepts for its arguments (``torch.reshape(x, shape=...)``,
``torch.manual_seed(seed=0)``, ``x.uniform_(**{"from": 0, "to": 1})``) work in ember too, and the
misuses PyTorch refuses are refused with its error type."""

import io
import pickle
import warnings
import zipfile

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _same(r, expected):
    """``r`` (ember) holds ``expected``'s values (torch), of the same dtype and shape; tuples item by item."""
    if isinstance(expected, (tuple, list)):
        assert len(r) == len(expected)
        for a, b in zip(r, expected):
            _same(a, b)
        return
    assert str(r.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    assert tuple(r.shape) == tuple(expected.shape)
    np.testing.assert_allclose(r.numpy(force=True), expected.numpy(), rtol=1e-6, atol=1e-6)


def _tensor(lib, device, dtype_name, shape=(2, 3, 4)):
    dev = device if lib is ember else "cpu"
    return lib.arange(float(np.prod(shape)), dtype=getattr(lib, dtype_name), device=dev).reshape(shape)


# name -> function of (lib, x): x a (2, 3, 4) tensor
CALLS = {
    "reshape": lambda lib, x: lib.reshape(x, shape=(4, 6)),
    "reshape_input": lambda lib, x: lib.reshape(input=x, shape=[-1]),
    "Tensor.reshape": lambda lib, x: x.reshape(shape=(6, -1)),
    "Tensor.view": lambda lib, x: x.view(size=(6, -1)),
    "view": lambda lib, x: lib.Tensor.view(x, size=[24]),
    "Tensor.expand": lambda lib, x: x[:1].expand(size=(2, 2, 3, 4)),
    "Tensor.repeat": lambda lib, x: x.repeat(repeats=(2, 1, 1)),
    "Tensor.sum_to_size": lambda lib, x: x.sum_to_size(size=(1, 3, 1)),
    "permute": lambda lib, x: lib.permute(x, dims=(2, 0, 1)),
    "Tensor.permute": lambda lib, x: x.permute(dims=[1, 2, 0]),
    "tile": lambda lib, x: lib.tile(x, dims=(2, 1)),
    "Tensor.tile": lambda lib, x: x.tile(dims=(1, 2, 1, 1)),
    "swapaxes": lambda lib, x: lib.swapaxes(x, axis0=0, axis1=2),
    "Tensor.swapaxes": lambda lib, x: x.swapaxes(axis0=1, axis1=-1),
    "swapdims": lambda lib, x: lib.swapdims(x, dim0=0, dim1=1),
    "Tensor.swapdims": lambda lib, x: x.swapdims(dim0=2, dim1=0),
    "split": lambda lib, x: lib.split(tensor=x, split_size_or_sections=[1, 2], dim=1),
    "Tensor.split": lambda lib, x: x.split(split_size=3, dim=2),
    "concatenate_axis": lambda lib, x: lib.concatenate((x, x), axis=1),
    "cat_axis": lambda lib, x: lib.cat([x, x], axis=-1),
    "concat_axis": lambda lib, x: lib.concat([x, x], axis=0),
    "dot": lambda lib, x: lib.dot(input=x[0, 0], tensor=x[1, 2]),
    "Tensor.dot": lambda lib, x: x[0, 0].dot(tensor=x[1, 1]),
    "matrix_power": lambda lib, x: lib.matrix_power(input=x[:, :2, :2] / 10, n=3),
    "linalg.matrix_power": lambda lib, x: lib.linalg.matrix_power(input=x[0, :2, :2] / 10, n=2),
    "Tensor.matrix_power": lambda lib, x: (x[:, :2, :2] / 10).matrix_power(n=2),
    "cholesky_solve": lambda lib, x: lib.cholesky_solve(
        input=x[0, :2], input2=lib.eye(2, dtype=x.dtype, device=x.device) * 2
    ),
    "Tensor.cholesky_solve": lambda lib, x: x[1, :2].cholesky_solve(
        input2=lib.eye(2, dtype=x.dtype, device=x.device) * 2, upper=True
    ),
}


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_keyword_names(device, dtype_name, name):
    if dtype_name == "float64" and ember.device(device).type != "cpu":
        if ember.ones(1, device=device).double().dtype != ember.float64:
            pytest.skip("no float64 on this device")
    expected = CALLS[name](torch, _tensor(torch, "cpu", dtype_name))
    _same(CALLS[name](ember, _tensor(ember, device, dtype_name)), expected)


# misuses PyTorch refuses: the same error type
REFUSED = [
    lambda lib, x: lib.reshape(x, shape=24),  # a tuple only
    lambda lib, x: lib.reshape(x, (24,), shape=(24,)),  # both
    lambda lib, x: lib.permute(x, (0, 1, 2), dims=(0, 1, 2)),
    lambda lib, x: x.tile(dims=2),
    lambda lib, x: x.view(24, size=(24,)),
    lambda lib, x: x.expand(size=24),
    lambda lib, x: x.repeat(repeats=2),
    lambda lib, x: x.sum_to_size(size=4),
    lambda lib, x: lib.swapaxes(x, dim0=0, dim1=1),  # swapaxes names its dims axis0, axis1
    lambda lib, x: x.swapaxes(dim0=0, dim1=1),
    lambda lib, x: lib.transpose(x, axis0=0, axis1=1),
    lambda lib, x: lib.split(x, split_size=1),
    lambda lib, x: x.split(split_size_or_sections=1),
    lambda lib, x: lib.concatenate([x, x], 1, axis=1),
    lambda lib, x: lib.dot(x[0, 0], other=x[0, 1]),
    lambda lib, x: lib.matrix_power(A=x[0, :2, :2], n=2),
]


@pytest.mark.parametrize("index", range(len(REFUSED)))
def test_keyword_misuse_refused(index):
    with pytest.raises(TypeError):
        REFUSED[index](torch, _tensor(torch, "cpu", "float32"))
    with pytest.raises(TypeError):
        REFUSED[index](ember, _tensor(ember, "cpu", "float32"))


def test_promote_types_and_manual_seed_by_keyword():
    assert ember.promote_types(type1=ember.float32, type2=ember.int64) is ember.float32
    assert torch.promote_types(type1=torch.float32, type2=torch.int64) is torch.float32
    ember.manual_seed(seed=3)
    a = ember.rand(4)
    ember.manual_seed(3)
    assert ember.equal(a, ember.rand(4))
    assert ember.initial_seed() == 3


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_uniform_from_to_keywords(device, dtype_name):
    """``from`` is a Python keyword: programs pass it as ``**{"from": a}``, as PyTorch's documentation spells it."""
    x = ember.empty(1000, dtype=getattr(ember, dtype_name), device=device).uniform_(**{"from": -3.0, "to": -2.0})
    assert x.dtype is getattr(ember, dtype_name)
    assert -3.0 <= float(x.min()) and float(x.max()) < -2.0 and float(x.max()) - float(x.min()) > 0.9
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="from=3"):
            lib.empty(3).uniform_(**{"from": 3.0})  # to defaults to 1
        with pytest.raises(TypeError, match="multiple values for argument 'from'"):
            lib.empty(3).uniform_(2.0, **{"from": -3.0})
        with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
            lib.empty(3).uniform_(**{"from": -3.0, "foo": 1})


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"])
def test_random_from_to_keywords(dtype_name):
    """``random_(from, to)``, ``random_(from, None)``: from ``from`` up to the dtype's top (``2**24`` for float32,
    ``2**53`` for float64, the largest value of an integer dtype), and ``random_()``: from 0 to that top."""
    low = 0 if dtype_name == "bool" else 3
    for lib in (torch, ember):
        dt = getattr(lib, dtype_name)
        x = lib.zeros(20000, dtype=dt).random_(**{"from": low, "to": low + 2})
        assert sorted({int(v) for v in x.tolist()}) == [low, low + 1]
        if dt.is_floating_point:
            top = 2 ** (1 - round(np.log2(lib.finfo(dt).eps)))
        else:
            top = 1 if dt is lib.bool else lib.iinfo(dt).max
        for drawn in (
            lib.zeros(20000, dtype=dt).random_(**{"from": low, "to": None}),
            lib.zeros(20000, dtype=dt).random_(),
        ):
            values = drawn.double()
            assert float(values.max()) <= top and float(values.max()) > top * 0.9, (lib.__name__, dtype_name)
        assert float(lib.zeros(20000, dtype=dt).random_(low, None).double().min()) >= low
        with pytest.raises(TypeError):
            lib.zeros(3, dtype=dt).random_(**{"from": low})  # from without to


def _signal(lib, dtype_name):
    real = lib.tensor([[1.0, -2.0, 3.0, 0.5], [0.25, 4.0, -1.5, 2.0]], dtype=getattr(lib, dtype_name))
    return real, lib.complex(real, real.flip(-1))


def _transform(name, operand):
    """``lib.fft.<name>`` of the complex (``operand="z"``) or the real (``"x"``) signal, into ``out``."""
    return lambda lib, x, z, out: getattr(lib.fft, name)(z if operand == "z" else x, out=out)


# out= of the ops whose results are complex (or whose inputs are): the out dtypes torch takes and refuses
COMPLEX_OUTS = {
    **{
        f"fft.{name}": _transform(name, "z")
        for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "irfft", "hfft", "irfft2", "hfft2")
    },
    **{
        f"fft.{name}_real": _transform(name, "x")
        for name in ("fft", "rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn", "irfftn", "hfftn")
    },
    "fft.fft_n": lambda lib, x, z, out: lib.fft.fft(z, 6, dim=0, norm="ortho", out=out),
    "fft.rfftn_s": lambda lib, x, z, out: lib.fft.rfftn(x, s=(2, 6), norm="forward", out=out),
    "polar": lambda lib, x, z, out: lib.polar(x.abs(), x, out=out),
    "complex": lambda lib, x, z, out: lib.complex(x, -x, out=out),
    "angle": lambda lib, x, z, out: lib.angle(z, out=out),
}


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(COMPLEX_OUTS))
def test_out_of_complex_ops(dtype_name, name):
    """As torch: the transforms write a complex result into a complex out of either precision and a real one into a
    real floating out; polar and complex want their result's dtype exactly; angle casts."""
    call = COMPLEX_OUTS[name]
    for out_dtype in ("complex64", "complex128", "float32", "float64", "int64"):
        try:
            expected = call(torch, *_signal(torch, dtype_name), torch.full((3,), 7.0).to(getattr(torch, out_dtype)))
        except RuntimeError as error:
            if name == "fft.ihfft_real" and "Found dtype" in str(error):
                continue  # torch's 1-D ihfft alone wants the result's precision exactly (its n-D forms do not)
            with pytest.raises(RuntimeError):
                call(ember, *_signal(ember, dtype_name), ember.full((3,), 7.0).to(getattr(ember, out_dtype)))
            continue
        o = ember.full((3,), 7.0).to(getattr(ember, out_dtype))
        with pytest.warns(UserWarning, match="resized"):
            assert call(ember, *_signal(ember, dtype_name), o) is o
        _same(o, expected)
        o = ember.empty(0, dtype=getattr(ember, out_dtype))
        assert call(ember, *_signal(ember, dtype_name), o) is o
        _same(o, expected)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_out_of_histogram_and_lu_unpack(dtype_name):
    """Both write their named tuple into a tuple of tensors of the input's dtype exactly."""
    tuples = {
        "histogram": lambda lib, x, out: lib.histogram(x, 3, weight=x.abs(), out=out),
        "histogram_edges": lambda lib, x, out: lib.histogram(x, lib.linspace(-2.0, 4.0, 4, dtype=x.dtype), out=out),
        "lu_unpack": lambda lib, x, out: lib.lu_unpack(*lib.linalg.lu_factor(x[:, :2]), out=out),
        "lu_unpack_pivots": lambda lib, x, out: lib.lu_unpack(*lib.linalg.lu_factor(x[:, :2]), False, out=out),
    }
    for name, call in tuples.items():
        x, tx = _signal(ember, dtype_name)[0], _signal(torch, dtype_name)[0]
        n = 2 if name.startswith("histogram") else 3
        expected = call(torch, tx, tuple(torch.empty(0, dtype=tx.dtype) for _ in range(n)))
        outs = tuple(ember.empty(0, dtype=x.dtype) for _ in range(n))
        r = call(ember, x, outs)
        assert all(a is b for a, b in zip(r, outs)), name
        _same(tuple(r), tuple(expected))
        wrong = (ember.empty(0, dtype=ember.int64),) + outs[1:]
        with pytest.raises(RuntimeError):
            call(
                torch,
                tx,
                (torch.empty(0, dtype=torch.int64),) + tuple(torch.empty(0, dtype=tx.dtype) for _ in range(n - 1)),
            )
        with pytest.raises(RuntimeError):
            call(ember, x, wrong)


def _py2_checkpoint():
    """A PyTorch zip checkpoint whose pickle holds a Python 2 ``str`` (bytes ``caf\\xe9``), as old checkpoints do."""
    source, rewritten = io.BytesIO(), io.BytesIO()
    torch.save(0, source)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_STORED) as archive:
        for info in original.infolist():
            data = b"\x80\x02U\x04caf\xe9." if info.filename.endswith("data.pkl") else original.read(info)
            archive.writestr(info.filename, data)
    rewritten.seek(0)
    return rewritten


def test_save_and_load_pickle_keywords():
    """torch.save(pickle_module=, _disable_byteorder_record=) and torch.load(pickle_module=, **pickle_load_args):
    a pickle_module makes weights_only default to False and is refused with weights_only=True; the unpickler's
    keywords (encoding=...) reach it, unknown ones raise its TypeError."""
    for lib in (torch, ember):
        stream = io.BytesIO()
        lib.save({"w": lib.arange(3.0), "name": "x"}, stream, pickle_module=pickle, _disable_byteorder_record=True)
        for load in (torch.load, ember.load):
            stream.seek(0)
            state = load(stream, pickle_module=pickle)
            assert state["name"] == "x" and state["w"].tolist() == [0.0, 1.0, 2.0]
        stream.seek(0)
        assert ember.load(stream, None, pickle, weights_only=False)["name"] == "x"  # positional, as torch's
        stream.seek(0)
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
            ember.load(stream, pickle_module=pickle, weights_only=True)
        stream.seek(0)
        with pytest.raises(TypeError, match="'foo'"):
            ember.load(stream, weights_only=False, foo=1)
    for load in (torch.load, ember.load):
        with pytest.raises(UnicodeDecodeError):
            load(_py2_checkpoint(), weights_only=False)
        assert load(_py2_checkpoint(), weights_only=False, encoding="latin1") == "café"
        assert load(_py2_checkpoint(), weights_only=False, encoding="bytes") == b"caf\xe9"
        with pytest.warns(UserWarning, match="pickle_load_args only works if `weights_only=False`"):
            assert load(_py2_checkpoint(), encoding="latin1") == "café"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load(_py2_checkpoint(), weights_only=False, encoding="latin1")


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
def test_weighted_pointwise_losses(device, dtype_name, reduction, name):
    """weight= of l1_loss (new in torch), mse_loss and huber_loss: 'mean' of l1 and mse is the weighted mean
    (the sum over the sum of the weights), huber's the plain mean; a weight of another size raises ValueError."""
    values = ([1.0, -2.0, 3.0], [0.5, 0.0, -1.0], [1.0, 0.5, 4.0])
    dt = getattr(torch, dtype_name)
    expected = getattr(torch.nn.functional, name)(
        *(torch.tensor(v, dtype=dt) for v in values[:2]), reduction=reduction, weight=torch.tensor(values[2], dtype=dt)
    )
    e = [ember.tensor(v, dtype=getattr(ember, dtype_name), device=device) for v in values]
    _same(getattr(ember.nn.functional, name)(e[0], e[1], reduction=reduction, weight=e[2]), expected)
    for lib, args in ((torch, [torch.tensor(v) for v in values]), (ember, e)):
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            getattr(lib.nn.functional, name)(args[0], args[1], weight=args[2][:1])


def test_sparse_coo_tensor_keywords():
    """check_invariants=, is_coalesced= and pin_memory= of torch.sparse_coo_tensor; a tensor of at most one
    coordinate is coalesced, as torch's."""
    for lib in (torch, ember):
        make = lib.sparse_coo_tensor
        assert make([[1]], [1.0], (2,)).is_coalesced()
        assert not make([[0, 1]], [1.0, 2.0], (2,)).is_coalesced()
        assert not make([[0, 1]], [1.0, 2.0], (2,), is_coalesced=False).is_coalesced()
        declared = make([[0, 0]], [1.0, 2.0], (2,), is_coalesced=True)  # trusted, as torch trusts it
        assert declared.is_coalesced() and declared.to_dense().tolist() == [3.0, 0.0]
        assert make([[0, 1]], [1.0, 2.0], (2,), is_coalesced=True, check_invariants=True).is_coalesced()
        assert make([[0, 1]], [1.0, 2.0], (2,), pin_memory=False).to_dense().tolist() == [1.0, 2.0]
        for indices in ([[1, 0]], [[0, 0]]):
            with pytest.raises(RuntimeError, match="cannot set is_coalesced to true"):
                make(indices, [1.0, 2.0], (2,), is_coalesced=True, check_invariants=True)
        with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
            make([[5]], [1.0], (2,), check_invariants=True)


def test_cpu_memory_format_and_to_dense_dtype():
    for lib in (torch, ember):
        x = lib.ones(2, 3).t()
        assert x.cpu(memory_format=lib.contiguous_format) is x
        assert x.cpu(memory_format=lib.preserve_format) is x
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            x.cpu(memory_format=lib.channels_last)
        assert x.to_dense(dtype=lib.float32) is x and x.to_dense(masked_grad=False) is x
        assert x.to_dense(dtype=lib.float64).dtype is lib.float64
        with pytest.raises(RuntimeError, match="dtype argument is not supported by sparse_to_dense"):
            x.to_sparse().to_dense(dtype=lib.float64)
        assert x.to_sparse().to_dense(masked_grad=True).tolist() == x.tolist()
    assert ember.from_dlpack(ext_tensor=np.arange(3.0)).tolist() == [0.0, 1.0, 2.0]


# NumPy's names PyTorch's argument parser takes for dim and keepdim: name -> function of (lib, x, keywords)
NUMPY_NAMES = (
    "sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "max", "min", "var", "std", "var_mean", "std_mean",
    "logsumexp", "all", "any", "median", "nansum", "nanmean",
)  # fmt: skip


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_numpy_names_of_dim_and_keepdim(device, dtype_name, name):
    def call(lib, x, kw):
        return getattr(lib, name)(x, **kw)

    for kw in ({"axis": 1}, {"axis": -1, "keepdims": True}, {"dim": 0, "keepdims": True}, {"axis": 0, "keepdim": True}):
        expected = call(torch, _tensor(torch, "cpu", dtype_name) - 11, kw)
        _same(call(ember, _tensor(ember, device, dtype_name) - 11, kw), expected)
    x = _tensor(ember, device, dtype_name)
    if hasattr(torch.Tensor, name):  # the methods too
        expected = getattr(_tensor(torch, "cpu", dtype_name), name)(2, keepdim=True)
        _same(getattr(x, name)(axis=2, keepdims=True), expected)
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            call(lib, _tensor(lib, "cpu", dtype_name), {"dim": 1, "axis": 0})
        with pytest.raises(TypeError):
            call(lib, _tensor(lib, "cpu", dtype_name), {"dim": 1, "keepdim": True, "keepdims": True})


def test_count_nonzero_axis():
    assert (
        ember.count_nonzero(ember.eye(3)[:2], axis=1).tolist() == torch.count_nonzero(torch.eye(3)[:2], axis=1).tolist()
    )


# the ops with a dim (and no keepdim) that take NumPy's axis too: name -> function of (lib, x, keywords)
AXIS_ONLY = {
    "cumsum": lambda lib, x, kw: lib.cumsum(x, **kw),
    "cumprod": lambda lib, x, kw: lib.cumprod(x, **kw),
    "cummax": lambda lib, x, kw: lib.cummax(x, **kw),
    "cummin": lambda lib, x, kw: lib.cummin(x, **kw),
    "softmax": lambda lib, x, kw: lib.softmax(x, **kw),
    "log_softmax": lambda lib, x, kw: lib.log_softmax(x, **kw),
    "squeeze": lambda lib, x, kw: lib.squeeze(x[:, :1], **kw),
    "unsqueeze": lambda lib, x, kw: lib.unsqueeze(x, **kw),
    "stack": lambda lib, x, kw: lib.stack([x, x], **kw),
    "unbind": lambda lib, x, kw: lib.unbind(x, **kw),
    "chunk": lambda lib, x, kw: lib.chunk(x, 2, **kw),
    "sort": lambda lib, x, kw: lib.sort(-x, **kw),
    "argsort": lambda lib, x, kw: lib.argsort(-x, **kw),
    "topk": lambda lib, x, kw: lib.topk(x, 2, **kw),
    "take_along_dim": lambda lib, x, kw: lib.take_along_dim(
        x, lib.zeros(2, 1, 4, dtype=lib.int64, device=x.device), **kw
    ),
    "diff": lambda lib, x, kw: lib.diff(x * x, **kw),
    "tensor_split": lambda lib, x, kw: lib.tensor_split(x, 2, **kw),
    "split_with_sizes": lambda lib, x, kw: lib.split_with_sizes(x[:, :2], [1, 1], **kw),
    "logcumsumexp": lambda lib, x, kw: lib.logcumsumexp(x, **kw),
    "repeat_interleave": lambda lib, x, kw: lib.repeat_interleave(x, 2, **kw),
    "cross": lambda lib, x, kw: lib.cross(x[:, :, :3], x[:, :, 1:] * x[:, :, 1:], **{k: 2 for k in kw}),
    "trapezoid": lambda lib, x, kw: lib.trapezoid(x * x, dx=0.5, **kw),
    "cumulative_trapezoid": lambda lib, x, kw: lib.cumulative_trapezoid(x * x, **kw),
    "F.cosine_similarity": lambda lib, x, kw: lib.nn.functional.cosine_similarity(x, x.flip(-1), **kw),
}
WITH_KEEPDIM = {
    "kthvalue": lambda lib, x, kw: lib.kthvalue(x, 2, **kw),
    "mode": lambda lib, x, kw: lib.mode(x.round(), **kw),
    "nanmedian": lambda lib, x, kw: lib.nanmedian(x, **kw),
    "quantile": lambda lib, x, kw: lib.quantile(x, 0.25, **kw),
    "nanquantile": lambda lib, x, kw: lib.nanquantile(x, 0.75, **kw),
    "linalg.norm": lambda lib, x, kw: lib.linalg.norm(x, **kw),
    "linalg.vector_norm": lambda lib, x, kw: lib.linalg.vector_norm(x, 3, **kw),
}


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(AXIS_ONLY) + sorted(WITH_KEEPDIM))
def test_numpy_axis_of_other_ops(device, dtype_name, name):
    call = AXIS_ONLY.get(name) or WITH_KEEPDIM[name]
    keywords = [{"axis": 1}, {"axis": 0}]
    if name in WITH_KEEPDIM:
        keywords += [{"axis": 1, "keepdims": True}, {"dim": 0, "keepdims": True}]
    for kw in keywords:
        expected = call(torch, _tensor(torch, "cpu", dtype_name) / 7, kw)
        _same(call(ember, _tensor(ember, device, dtype_name) / 7, kw), expected)
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            call(lib, _tensor(lib, "cpu", dtype_name), {"dim": 2, "axis": 0})


def _index(lib, x, rows):
    return lib.tensor(rows, dtype=lib.int64, device=x.device)


# the ops whose dim sits between required operands (torch.gather(input, dim, index)): name -> function of
# (lib, x, keywords), x a (2, 3, 4) tensor and the keywords naming dimension 1
AXIS_BETWEEN_OPERANDS = {
    "gather": lambda lib, x, kw: lib.gather(x, index=_index(lib, x, [[[0, 2, 1, 0]]] * 2), **kw),
    "Tensor.gather": lambda lib, x, kw: x.gather(index=_index(lib, x, [[[2, 2, 1, 0]]] * 2), **kw),
    "index_select": lambda lib, x, kw: lib.index_select(x, index=_index(lib, x, [2, 0]), **kw),
    "index_add": lambda lib, x, kw: lib.index_add(x, index=_index(lib, x, [2, 0]), source=x[:, :2], **kw),
    "index_copy": lambda lib, x, kw: lib.index_copy(x, index=_index(lib, x, [2, 0]), source=-x[:, :2], **kw),
    "index_fill": lambda lib, x, kw: lib.index_fill(x, index=_index(lib, x, [1]), value=-1.0, **kw),
    "index_reduce": lambda lib, x, kw: lib.index_reduce(
        x, index=_index(lib, x, [1, 1]), source=x[:, :2], reduce="amax", **kw
    ),
    "Tensor.index_add_": lambda lib, x, kw: x.clone().index_add_(index=_index(lib, x, [0]), source=x[:, :1], **kw),
    "scatter": lambda lib, x, kw: lib.scatter(x, index=_index(lib, x, [[[1, 0, 2, 1]]] * 2), src=-x, **kw),
    "Tensor.scatter_": lambda lib, x, kw: x.clone().scatter_(index=_index(lib, x, [[[1]]] * 2), value=5.0, **kw),
    "scatter_add": lambda lib, x, kw: lib.scatter_add(x, index=_index(lib, x, [[[1, 0, 2, 1]]] * 2), src=x, **kw),
    "scatter_reduce": lambda lib, x, kw: lib.scatter_reduce(
        x, index=_index(lib, x, [[[1, 0, 2, 1]]] * 2), src=x, reduce="prod", **kw
    ),
    "select": lambda lib, x, kw: lib.select(x, index=-1, **kw),
    "select_scatter": lambda lib, x, kw: lib.select_scatter(x, -x[:, 0], index=0, **kw),
    "slice_scatter": lambda lib, x, kw: lib.slice_scatter(x, -x[:, :2], start=1, **kw),
    "narrow": lambda lib, x, kw: lib.narrow(x, start=1, length=2, **kw),
    "renorm": lambda lib, x, kw: lib.renorm(x, 2, maxnorm=5.0, **kw),
    "unflatten": lambda lib, x, kw: lib.unflatten(x[:, :2], sizes=(1, 2), **kw),
    "unsafe_chunk": lambda lib, x, kw: lib.unsafe_chunk(x, 3, **kw),
    "unsafe_split": lambda lib, x, kw: lib.unsafe_split(x, 2, **kw),
    "unsafe_split_with_sizes": lambda lib, x, kw: lib.unsafe_split_with_sizes(x, [2, 1], **kw),
    "gradient": lambda lib, x, kw: lib.gradient(x * x, **kw),
    "trapz": lambda lib, x, kw: lib.trapz(x * x, **kw),
}


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(AXIS_BETWEEN_OPERANDS))
def test_numpy_axis_between_operands(device, dtype_name, name):
    """PyTorch's argument parser takes ``axis=`` for every ``dim``, also where ``dim`` is a required
    operand between others (``torch.gather(x, axis=1, index=i)``)."""
    call = AXIS_BETWEEN_OPERANDS[name]
    expected = call(torch, _tensor(torch, "cpu", dtype_name) / 7, {"dim": 1})
    for kw in ({"axis": 1}, {"dim": 1}):
        _same(call(ember, _tensor(ember, device, dtype_name) / 7, kw), expected)
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            call(lib, _tensor(lib, "cpu", dtype_name), {"dim": 1, "axis": 1})


def test_from_dlpack_device_and_copy(device):
    """torch.from_dlpack(ext_tensor, *, device=, copy=): copy=True never shares, copy=False always does."""
    for lib in (torch, ember):
        source = np.arange(3.0)
        shared, copied = lib.from_dlpack(source, copy=False), lib.from_dlpack(ext_tensor=source, copy=True)
        source[0] = 9.0
        assert shared.tolist() == [9.0, 1.0, 2.0] and copied.tolist() == [0.0, 1.0, 2.0]
        assert lib.from_dlpack(source, device="cpu").tolist() == [9.0, 1.0, 2.0]
    if ember.device(device).type != "cpu":
        moved = ember.from_dlpack(np.arange(3.0), device=device)
        assert moved.device == ember.device(device) and moved.tolist() == [0.0, 1.0, 2.0]
        with pytest.raises(BufferError):
            ember.from_dlpack(np.arange(3.0), device=device, copy=False)


FACTORIES_WITH_LAYOUT = {
    "zeros": lambda lib, **kw: lib.zeros(2, 3, **kw),
    "ones": lambda lib, **kw: lib.ones(2, **kw),
    "empty": lambda lib, **kw: lib.empty(2, **kw).zero_(),
    "full": lambda lib, **kw: lib.full((2,), 1.5, **kw),
    "arange": lambda lib, **kw: lib.arange(4, **kw),
    "linspace": lambda lib, **kw: lib.linspace(0, 1, 5, **kw),
    "logspace": lambda lib, **kw: lib.logspace(0, 1, 5, **kw),
    "eye": lambda lib, **kw: lib.eye(3, **kw),
    "rand": lambda lib, **kw: lib.rand(3, generator=lib.Generator().manual_seed(2), **kw),
    "randn": lambda lib, **kw: lib.randn(3, generator=lib.Generator().manual_seed(2), **kw),
    "randint": lambda lib, **kw: lib.randint(0, 9, (3,), generator=lib.Generator().manual_seed(2), **kw),
    "randperm": lambda lib, **kw: lib.randperm(5, generator=lib.Generator().manual_seed(2), **kw),
    "empty_strided": lambda lib, **kw: lib.empty_strided((2, 3), (1, 2), **kw).zero_(),
    "empty_permuted": lambda lib, **kw: lib.empty_permuted((2, 3, 4), (2, 0, 1), **kw).zero_(),
    "new_empty_strided": lambda lib, **kw: lib.ones(1).new_empty_strided((2, 3), (1, 2), **kw).zero_(),
}


@pytest.mark.parametrize("name", FACTORIES_WITH_LAYOUT)
def test_factories_take_layout_and_pin_memory(name):
    """torch.zeros(..., layout=torch.strided, pin_memory=False) & co.: the dense layout is accepted,
    another one refused; pin_memory=True needs an accelerator on both sides."""
    make = FACTORIES_WITH_LAYOUT[name]
    expected = make(torch, layout=torch.strided, pin_memory=False)
    got = make(ember, layout=ember.strided, pin_memory=False)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    if name in ("zeros", "empty"):  # an empty sparse COO tensor of the size, as PyTorch's
        sparse, tsparse = make(ember, layout=ember.sparse_coo), make(torch, layout=torch.sparse_coo)
        assert sparse.layout is ember.sparse_coo and tsparse.layout is torch.sparse_coo
        assert tuple(sparse.shape) == tuple(tsparse.shape) and sparse._nnz() == tsparse._nnz() == 0
    else:
        with pytest.raises(NotImplementedError, match=f"{name}: layout ember.sparse_coo is not supported"):
            make(ember, layout=ember.sparse_coo)
    if not torch.accelerator.is_available() and not ember.accelerator.is_available():
        with pytest.raises(RuntimeError):
            make(torch, pin_memory=True)
        with pytest.raises(RuntimeError):
            make(ember, pin_memory=True)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_factories_take_layout(name):
    x = ember.ones(2, 3)
    assert getattr(ember, name)(x, layout=ember.strided).shape == (2, 3)
    with pytest.raises(NotImplementedError, match="layout"):
        getattr(ember, name)(x, layout=ember.sparse_coo)


def test_random_like_factories_take_a_generator():
    source = torch.ones(2, 3)
    for name, args in (("rand_like", ()), ("randn_like", ()), ("randint_like", (7,))):
        expected = getattr(torch, name)(source, *args, generator=torch.Generator().manual_seed(5))
        got = getattr(ember, name)(ember.ones(2, 3), *args, generator=ember.Generator().manual_seed(5))
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_new_methods_take_layout_and_pin_memory():
    x = ember.ones(2)
    assert x.new_zeros(3, layout=ember.strided, pin_memory=False).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(NotImplementedError, match="new_ones: layout"):
        x.new_ones(3, layout=ember.sparse_coo)
