"""PyTorch's files, round 4, against PyTorch: views in checkpoints (storage sharing, ``storage_offset()`` and
``stride()`` kept both ways, in the zip and the legacy format, ``weights_only`` or not, mapped or read), one
memory saved as two dtypes refused as torch refuses it, and ``torch.serialization.skip_data``'s behaviours
beyond the zip format's (legacy files, mmap, nesting, the tensors it refuses)."""

import io
import pickle
import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = [torch, ember]


def _views(lib, name):
    """The objects of ``name``, built with ``lib``: tensors that view each other's memory."""
    base = lib.arange(24.0).reshape(4, 6)
    if name == "dict_slice":  # torch.save({'a': base, 'v': base[2:5]})
        return {"a": base, "v": base[2:5]}
    if name == "view_of_slice":  # torch.save(base[1:].view(...)): its storage is the whole of base's
        return base[1:].view(3, 2, 3)
    if name == "strided":
        return {"t": base.t(), "col": base[:, 2], "step": base[::2, 1::3], "a": base, "s": base[2, 3]}
    if name == "list_of_rows":
        return [base[1], base[2], base[1, 2:], base.reshape(-1)[7:19].view(2, 6)]
    if name == "parameter":
        p = lib.nn.Parameter(lib.arange(12.0, dtype=lib.float64).reshape(3, 4))
        return {"p": p, "row": p[1], "pt": p.t(), "i": lib.arange(10)[::3], "h": base[1:, ::2]}
    raise KeyError(name)


_NAMES = ["dict_slice", "view_of_slice", "strided", "list_of_rows", "parameter"]


def _leaves(obj):
    if isinstance(obj, dict):
        return [leaf for value in obj.values() for leaf in _leaves(value)]
    if isinstance(obj, list):
        return [leaf for value in obj for leaf in _leaves(value)]
    return [obj]


def _described(obj):
    """Each tensor's geometry, values and type, and which tensors share a storage."""
    leaves = _leaves(obj)
    geometry = [
        (
            type(t).__name__,
            tuple(t.shape),
            t.stride(),
            t.storage_offset(),
            str(t.dtype).split(".")[-1],
            t.untyped_storage().nbytes(),
            t.requires_grad,
            t.tolist(),
        )
        for t in leaves
    ]
    pointers = [t.untyped_storage().data_ptr() for t in leaves]
    return geometry, [[p == q for q in pointers] for p in pointers]


def _save(lib, obj, target, legacy):
    lib.save(obj, target, _use_new_zipfile_serialization=not legacy)


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("saver", LIBS, ids=["torch_saved", "ember_saved"])
@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_load_with_torchs_sharing_offsets_and_strides(name, saver, weights_only, legacy):
    reference = io.BytesIO()
    _save(torch, _views(torch, name), reference, legacy)
    expected = _described(torch.load(io.BytesIO(reference.getvalue()), weights_only=weights_only))
    saved = io.BytesIO()
    _save(saver, _views(saver, name), saved, legacy)
    for loader in LIBS:
        back = loader.load(io.BytesIO(saved.getvalue()), weights_only=weights_only)
        assert _described(back) == expected, (loader.__name__, saver.__name__)


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("saver", LIBS, ids=["torch_saved", "ember_saved"])
def test_mapped_views_as_torch(tmp_path, name, saver):
    reference, path = tmp_path / "torch.pt", tmp_path / "saved.pt"
    torch.save(_views(torch, name), reference)
    saver.save(_views(saver, name), path)
    expected = _described(torch.load(reference, mmap=True))
    for loader in LIBS:
        assert _described(loader.load(path, mmap=True)) == expected, loader.__name__
    if name == "dict_slice":  # a write through one view shows in the other, in the mapped file's private copy
        back = ember.load(path, mmap=True)
        back["a"][2, 1] = -1.0
        assert back["v"][0, 1].item() == -1.0


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_on_the_device_round_trip(device, legacy):
    base = ember.arange(24.0, device=device).reshape(4, 6)
    buffer = io.BytesIO()
    ember.save({"a": base, "v": base[2:4], "t": base[1:].t()}, buffer, _use_new_zipfile_serialization=not legacy)
    back = ember.load(io.BytesIO(buffer.getvalue()))
    assert back["v"].storage_offset() == 12 and back["t"].storage_offset() == 6 and back["t"].stride() == (1, 6)
    assert str(back["v"].device) == str(base.device)
    back["a"][2, 0] = -1.0
    assert back["v"][0, 0].item() == -1.0 and back["t"][0, 1].item() == -1.0


_TWO_DTYPES = {
    "tensor_and_int_view": lambda lib, base: {"a": base, "i": base.view(lib.int32)},
    "two_views": lambda lib, base: [base.view(lib.int32)[2:], base[1:].view(lib.float16)],
    "storage_and_tensor": lambda lib, base: [base.untyped_storage(), base],
    "disjoint_parts": lambda lib, base: [base[:2].view(lib.uint8), base[4:]],
    "one_dtype_twice": lambda lib, base: [base.view(lib.int32), base.view(lib.int32)[1:]],
}


@pytest.mark.parametrize("kind", list(_TWO_DTYPES))
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_one_memory_saved_as_two_dtypes_raises_as_torch(kind, legacy):
    outcomes = []
    for lib in LIBS:
        try:
            _save(lib, _TWO_DTYPES[kind](lib, lib.arange(6.0)), io.BytesIO(), legacy)
            outcomes.append(None)
        except RuntimeError as exc:
            assert "Cannot save multiple tensors or storages that view the same data as different types" in str(exc)
            outcomes.append(RuntimeError)
    assert outcomes[0] is outcomes[1], outcomes
    assert (outcomes[0] is None) == (kind == "one_dtype_twice")


def _legacy_views(lib):
    base = lib.arange(6.0)
    return {"a": base, "v": base[2:4], "i": lib.arange(3)}


@pytest.mark.parametrize("saver", LIBS, ids=["torch_saved", "ember_saved"])
def test_skip_data_reads_no_legacy_storages(saver):
    saved = io.BytesIO()
    saver.save(_legacy_views(saver), saved, _use_new_zipfile_serialization=False)
    saved.write(b"trailing bytes")
    unread = (8 + 6 * 4) + (8 + 3 * 8) + len(b"trailing bytes")  # each storage's count and bytes, then the tail
    for lib in LIBS:
        stream = io.BytesIO(saved.getvalue())
        with lib.serialization.skip_data():
            back = lib.load(stream)
        assert len(saved.getvalue()) - stream.tell() == unread, lib.__name__  # the load stops before the data
        assert back["v"].storage_offset() == 2 and back["v"].untyped_storage().data_ptr() == back["a"].data_ptr()
        assert str(back["i"].dtype).endswith("int64") and tuple(back["a"].shape) == (6,)
        if lib is ember:  # torch's are uninitialized memory; ember's zero
            assert back["a"].tolist() == [0.0] * 6
        assert lib.load(io.BytesIO(saved.getvalue()))["v"].tolist() == [2.0, 3.0]  # outside it: read


def test_skip_data_with_mmap_as_torch(tmp_path):
    for lib in LIBS:
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(_legacy_views(lib), path)
        with lib.serialization.skip_data():
            back = lib.load(path, mmap=True)
        assert back["v"].storage_offset() == 2 and back["v"].untyped_storage().data_ptr() == back["a"].data_ptr()
        assert tuple(back["i"].shape) == (3,)
        if lib is ember:
            assert back["a"].tolist() == [0.0] * 6
        assert lib.load(path, mmap=True)["v"].tolist() == [2.0, 3.0]
        with lib.serialization.skip_data():  # a skip_data save leaves the records' room for another pass
            lib.save(_legacy_views(lib), path)
        assert [tuple(t.shape) for t in lib.load(path, mmap=True).values()] == [(6,), (2,), (3,)]
        legacy = tmp_path / f"{lib.__name__}_legacy.pt"
        lib.save(_legacy_views(lib), legacy, _use_new_zipfile_serialization=False)
        with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
            with lib.serialization.skip_data():
                lib.load(legacy, mmap=True)


def test_nested_skip_data_contexts_as_torch():
    for lib in LIBS:
        with lib.serialization.skip_data():
            with lib.serialization.skip_data(materialize_fake_tensors=True):
                pass
            with pytest.raises(RuntimeError, match="Cannot use skip_data=True with _use_new_zipfile_serialization"):
                lib.save(lib.ones(2), io.BytesIO(), _use_new_zipfile_serialization=False)  # still skipping
        buffer = io.BytesIO()
        lib.save(lib.ones(2), buffer, _use_new_zipfile_serialization=False)  # the outer exit ended it
        assert lib.load(io.BytesIO(buffer.getvalue())).tolist() == [1.0, 1.0]
        with pytest.raises(KeyError):
            with lib.serialization.skip_data():
                raise KeyError("x")
        assert lib.serialization._serialization_tls.skip_data is False
        once = lib.serialization.skip_data()  # one object entered twice: its second entry records "skipping"
        try:
            with once:
                with once:
                    pass
            assert lib.serialization._serialization_tls.skip_data is True, lib.__name__
        finally:
            lib.serialization._serialization_tls.skip_data = False


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_what_skip_data_refuses_as_torch(lib):
    quantized = lib.quantize_per_tensor(lib.ones(3), 0.1, 0, lib.qint8)
    nested = lib.nested.nested_tensor([lib.ones(2), lib.ones(3)])
    with lib.serialization.skip_data():
        with pytest.raises(RuntimeError, match=r"^Cannot serialize qtensor under skip_data context manager, file an"):
            lib.save(quantized, io.BytesIO())
        with pytest.raises(RuntimeError, match=r"^Cannot serialize nested tensor under skip_data context manager"):
            lib.save({"n": nested}, io.BytesIO())
        meta = io.BytesIO()
        with pytest.warns(UserWarning, match="Serializing tensors on the meta device under skip_data context manager"):
            lib.save(lib.ones(2, 3, device="meta"), meta)
        for obj in (lib.arange(3.0), lib.nn.Parameter(lib.ones(2))):  # plain pickle: torch's legacy storage format
            with pytest.raises(RuntimeError, match="Cannot use skip_data=True with _use_new_zipfile_serialization"):
                pickle.dumps(obj)
        with pytest.warns(UserWarning, match="Serializing tensors on the meta device under skip_data"):
            pickle.dumps(lib.ones(2, device="meta"))
    assert tuple(lib.load(io.BytesIO(meta.getvalue())).shape) == (2, 3)
    assert pickle.loads(pickle.dumps(lib.arange(3.0))).tolist() == [0.0, 1.0, 2.0]
    buffer = io.BytesIO()
    lib.save(quantized, buffer)
    assert lib.load(io.BytesIO(buffer.getvalue()), weights_only=False).int_repr().tolist() == [10, 10, 10]


# -- torch.masked.MaskedTensor -----------------------------------------------------------------------------------

_DATA = [[1.0, -2.0, 3.5], [4.0, 0.25, -6.0]]
_MASK = [[True, False, True], [False, False, True]]
_PROTOTYPE = "The PyTorch API of MaskedTensors is in prototype stage"
_quiet = pytest.mark.filterwarnings(f"ignore:{_PROTOTYPE}:UserWarning")


def _mt(lib, data=_DATA, mask=_MASK, dtype="float32", device="cpu"):
    kind = getattr(lib, dtype)
    place = {"device": device} if lib is ember else {}
    return lib.masked.masked_tensor(lib.tensor(data, dtype=kind, **place), lib.tensor(mask, **place))


def _same(ours, theirs):
    """The same MaskedTensor (text, data where specified, mask, dtype) or the same plain result."""
    if isinstance(theirs, torch.Tensor) and not torch.masked.is_masked_tensor(theirs):
        assert not ember.masked.is_masked_tensor(ours)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert ours.tolist() == theirs.tolist() or ember.allclose(ours.cpu(), ember.tensor(theirs.tolist()))
        return
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    if not torch.masked.is_masked_tensor(theirs):
        assert ours == theirs
        return
    assert ember.masked.is_masked_tensor(ours) and isinstance(ours, ember.Tensor)
    assert repr(ours) == repr(theirs)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1] and tuple(ours.shape) == theirs.shape
    assert ours.get_mask().tolist() == theirs.get_mask().tolist()
    fill = False if theirs.dtype == torch.bool else 0
    assert ours.to_tensor(fill).cpu().flatten().tolist() == pytest.approx(
        theirs.to_tensor(fill).flatten().tolist(), rel=1e-6, nan_ok=True
    )


def _both(device, build, dtype="float32"):
    return build(ember, _mt(ember, dtype=dtype, device=device)), build(torch, _mt(torch, dtype=dtype))


@_quiet
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "float16", "int8"])
def test_masked_tensor_construction_and_text_as_torch(device, dtype):
    data = [[1, 0, 3], [4, 0, 6]] if dtype in ("bool", "int64", "int32", "int8") else _DATA
    for build in (
        lambda lib, d: lib.masked.masked_tensor(
            lib.tensor(data, dtype=getattr(lib, dtype), **d), lib.tensor(_MASK, **d)
        ),
        lambda lib, d: lib.masked.as_masked_tensor(
            lib.tensor(data[0], dtype=getattr(lib, dtype), **d), lib.tensor(_MASK[0], **d)
        ),
        lambda lib, d: lib.masked.MaskedTensor(
            lib.tensor(data[1][2], dtype=getattr(lib, dtype), **d), lib.tensor(True, **d)
        ),
        lambda lib, d: lib.masked.masked_tensor(
            lib.tensor(data[0][1], dtype=getattr(lib, dtype), **d), lib.tensor(False, **d)
        ),
        lambda lib, d: lib.masked.masked_tensor(
            lib.tensor([data] * 2, dtype=getattr(lib, dtype), **d), lib.tensor([_MASK, _MASK], **d)
        ),
    ):
        ours, theirs = build(ember, {"device": device}), build(torch, {})
        _same(ours, theirs)
        assert (ours.dim(), ours.numel(), ours.requires_grad, ours.is_leaf) == (
            theirs.dim(),
            theirs.numel(),
            theirs.requires_grad,
            theirs.is_leaf,
        )
        assert str(ours) == str(theirs) and str(ours.device) == str(ember.device(device))


def test_masked_tensor_warnings_and_errors_as_torch():
    for lib in LIBS:
        with pytest.warns(UserWarning, match=_PROTOTYPE):
            mt = lib.masked.masked_tensor(lib.ones(2), lib.tensor([True, False]), requires_grad=True)
        assert mt.requires_grad and lib.masked.is_masked_tensor(mt) and isinstance(mt, lib.Tensor)
        with pytest.warns(
            UserWarning, match="It is not recommended to create a MaskedTensor with a tensor that requires_grad"
        ):
            lib.masked.masked_tensor(lib.ones(2, requires_grad=True), lib.tensor([True, False]))
        assert not lib.masked.is_masked_tensor(lib.ones(2))
    cases = [
        (lambda lib: ([1.0], lib.tensor([True])), TypeError, "data must be a Tensor"),
        (lambda lib: (lib.ones(2), [True, False]), TypeError, "mask must be a Tensor"),
        (lambda lib: (lib.ones(2), lib.ones(2)), TypeError, "mask must have dtype bool."),
        (
            lambda lib: (lib.ones(2, dtype=lib.uint8), lib.tensor([True, True])),
            TypeError,
            "uint8 is not supported in MaskedTensor.",
        ),
        (lambda lib: (lib.ones(2, 3), lib.ones(3, dtype=lib.bool)), ValueError, "data.dim() must equal mask.dim()"),
        (
            lambda lib: (lib.ones(2, 3), lib.ones(3, 2, dtype=lib.bool)),
            ValueError,
            "data.size() must equal mask.size()",
        ),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for make, kind, message in cases:
            for lib in LIBS:
                with pytest.raises(kind) as raised:
                    lib.masked.masked_tensor(*make(lib))
                assert str(raised.value).endswith(message), (lib.__name__, str(raised.value))


_UNARY = {
    "exp": lambda lib, x: x.exp(),
    "function": lambda lib, x: lib.sin(x),
    "neg": lambda lib, x: -x,
    "abs": lambda lib, x: abs(x),
    "sqrt_of_abs": lambda lib, x: x.abs().sqrt(),
    "clamp": lambda lib, x: x.clamp(0, 2),
    "clamp_min": lambda lib, x: x.clamp(min=0.5),
    "pow": lambda lib, x: x**2,
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "isnan": lambda lib, x: x.isnan(),
    "round": lambda lib, x: x.round(),
    "inplace": lambda lib, x: x.exp_(),
    "inplace_then_data": lambda lib, x: x.tanh_().get_data(),
}


@_quiet
@pytest.mark.parametrize("op", list(_UNARY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_tensor_unary_ops_as_torch(device, op, dtype):
    _same(*_both(device, _UNARY[op], dtype))


_BINARY = {
    "add_scalar": lambda lib, x: x + 1,
    "radd": lambda lib, x: 2 + x,
    "mul_itself": lambda lib, x: x * x,
    "sub_tensor": lambda lib, x: x - lib.arange(3.0, dtype=x.dtype).to(x.device),
    "div": lambda lib, x: x / 4,
    "rdiv": lambda lib, x: 2 / x,
    "floordiv": lambda lib, x: x // 2,
    "eq": lambda lib, x: x == 1,
    "lt": lambda lib, x: x < 1,
    "maximum": lambda lib, x: lib.maximum(x, x * 2),
    "inplace": lambda lib, x: x.add_(1),
    "inplace_mt": lambda lib, x: x.mul_(x),
    "tensor_on_the_left": lambda lib, x: lib.ones(3, dtype=x.dtype).to(x.device) * x,
}


@_quiet
@pytest.mark.parametrize("op", list(_BINARY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_tensor_binary_ops_as_torch(device, op, dtype):
    _same(*_both(device, _BINARY[op], dtype))


@_quiet
def test_masked_tensor_op_errors_as_torch(device):
    cases = [
        (
            lambda lib, x: x + lib.masked.masked_tensor(x.get_data(), ~x.get_mask()),
            ValueError,
            "Input masks must match",
        ),
        (lambda lib, x: x.add(x, alpha=2), ValueError, "len(kwargs) must equal 0"),
        (lambda lib, x: x.tolist(), RuntimeError, ".tolist() is not supported for tensor subclasses, got MaskedTensor"),
        (lambda lib, x: x.matmul(x.t()), TypeError, "Multiple dispatch failed"),
        (lambda lib, x: x.max(), TypeError, "Multiple dispatch failed"),
    ]
    for make, kind, message in cases:
        for lib in LIBS:
            x = _mt(lib, device=device if lib is ember else "cpu")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(kind) as raised:
                    make(lib, x)
            assert message in str(raised.value), (lib.__name__, str(raised.value))


_REDUCTIONS = {
    "sum": lambda lib, x: x.sum(),
    "sum_dim": lambda lib, x: x.sum(1),
    "sum_kw": lambda lib, x: lib.sum(x, dim=0, keepdim=True),
    "sum_dims": lambda lib, x: x.sum((0, 1)),
    "mean": lambda lib, x: x.mean(),
    "mean_dim": lambda lib, x: x.mean(0),  # a column with no element specified: unspecified, nan
    "mean_keepdim": lambda lib, x: lib.mean(x, 1, keepdim=True),
    "amax": lambda lib, x: x.amax(),
    "amax_dim": lambda lib, x: x.amax(1),
    "amin": lambda lib, x: lib.amin(x),
    "amin_dims": lambda lib, x: x.amin(dim=(0, 1)),
    "prod_dim": lambda lib, x: x.prod(1),
    "var": lambda lib, x: x.var(),
    "std_dim": lambda lib, x: x.std(1),
    "all": lambda lib, x: (x > 2).all(),
    "all_dim": lambda lib, x: (x > 2).all(1),
    "softmax": lambda lib, x: x.softmax(1),
    "item": lambda lib, x: x.sum().item(),
    "sum_dtype": lambda lib, x: x.sum(-1, dtype=lib.float64),
    "var_dim": lambda lib, x: lib.var(x, 1),
}


@_quiet
@pytest.mark.parametrize("op", list(_REDUCTIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_tensor_reductions_as_torch(device, op, dtype):
    ours, theirs = _both(device, _REDUCTIONS[op], dtype)
    if op == "item":
        assert ours == pytest.approx(theirs)
    else:
        _same(ours, theirs)


@_quiet
def test_masked_tensor_integer_reductions_as_torch(device):
    _same(*_both(device, lambda lib, x: x.sum(), "int64"))
    _same(*_both(device, lambda lib, x: x.amax(0), "int32"))
    for lib in LIBS:
        x = _mt(lib, dtype="int64", device=device if lib is ember else "cpu")
        with pytest.raises(ValueError, match=r"mean\(\): Could not infer output dtype. Input dtype must be either a"):
            x.mean()


_SHAPES = {
    "index": lambda lib, x: x[0],
    "slice": lambda lib, x: x[:, 1:],
    "t": lambda lib, x: x.t(),
    "transpose": lambda lib, x: x.transpose(0, 1),
    "view": lambda lib, x: x.view(3, 2),
    "reshape": lambda lib, x: x.reshape(6),
    "unsqueeze": lambda lib, x: x.unsqueeze(0),
    "cat": lambda lib, x: lib.cat([x, x]),
    "stack": lambda lib, x: lib.stack([x, x], 1),
    "split": lambda lib, x: x.split(1),
    "clone": lambda lib, x: x.clone(),
    "detach": lambda lib, x: x.detach(),
    "to": lambda lib, x: x.to(lib.float64),
    "int": lambda lib, x: x.int(),
    "to_tensor": lambda lib, x: x.to_tensor(-1.0),
    "to_tensor_int": lambda lib, x: x.int().to_tensor(7),
    "get_data": lambda lib, x: x.get_data(),
    "size": lambda lib, x: tuple(x.size()),
    "len": lambda lib, x: len(x),
    "stride": lambda lib, x: x.stride(),
    "bool_index": lambda lib, x: x[lib.tensor([True, False]).to(x.device)],
    "ellipsis": lambda lib, x: x[..., 0],
    "select": lambda lib, x: x.select(1, 2),
    "type": lambda lib, x: x.type(lib.float64),
    "type_name": lambda lib, x: x.type().split(".")[-1],
    "clone_keeps_requires_grad": lambda lib, x: (x.requires_grad_().clone().requires_grad, x.detach().requires_grad),
}


@_quiet
@pytest.mark.parametrize("op", list(_SHAPES))
def test_masked_tensor_shapes_and_conversions_as_torch(device, op):
    _same(*_both(device, _SHAPES[op]))


def test_masked_namespace_as_torch():
    assert sorted(ember.masked.__all__) == sorted(torch.masked.__all__)
