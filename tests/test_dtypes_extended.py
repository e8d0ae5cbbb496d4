"""uint16/32/64 and the float8 types against PyTorch: conversion, promotion, limits, the ops PyTorch
computes for them and the ones it refuses."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

UNSIGNED = ["uint16", "uint32", "uint64"]
FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
CLASSIC = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
ALL = CLASSIC + ["complex64", "complex128"] + UNSIGNED + FLOAT8


def _outcome(fn, *args):
    """``fn(*args)``'s value as a name, or its exception's type and message."""
    try:
        return str(fn(*args)).split(".")[-1]
    except Exception as exc:  # noqa: BLE001 - the error is the compared outcome
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("first", ALL)
def test_promote_types_table(first):
    for second in ALL:
        expected = _outcome(torch.promote_types, getattr(torch, first), getattr(torch, second))
        got = _outcome(ember.promote_types, getattr(ember, first), getattr(ember, second))
        assert got == expected, (first, second)


@pytest.mark.parametrize("name", ALL)
def test_dtype_attributes(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert (e.is_floating_point, e.is_complex, e.is_signed, e.itemsize, e.abbr) == (
        t.is_floating_point,
        t.is_complex,
        t.is_signed,
        t.itemsize,
        t.abbr,
    )
    assert _outcome(e.to_real) == _outcome(t.to_real)
    if name != "float16":  # PyTorch's complex type of float16 is complex32, which ember does not have
        assert _outcome(e.to_complex) == _outcome(t.to_complex)
    for other in ALL:
        assert ember.can_cast(e, getattr(ember, other)) == torch.can_cast(t, getattr(torch, other)), other


@pytest.mark.parametrize("name", UNSIGNED)
def test_unsigned_from_numpy_and_back(name):
    array = np.array([0, 1, np.iinfo(name).max], dtype=name)
    t = ember.from_numpy(array)
    assert t.dtype is getattr(ember, name)
    assert t.tolist() == torch.from_numpy(array).tolist()
    assert t.numpy().dtype == np.dtype(name)
    array[0] = 7  # shares memory
    assert t[0].item() == 7
    assert repr(t).replace("ember", "torch") == repr(torch.from_numpy(array))
    info, expected = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (info.bits, info.min, info.max, info.dtype) == (expected.bits, expected.min, expected.max, expected.dtype)


@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize(
    "code",
    [
        "r = t.tensor([-1, 3]).to(d)",
        "r = t.tensor([-1.0, 3.7, 3e9]).to(d)",
        "r = t.tensor([1, 2], dtype=d).to(t.float64)",
        "r = t.tensor([2**16 - 1], dtype=d).to(t.int16)",
        "r = t.full((2,), -1, dtype=d)",
        "r = t.tensor([1, 2], dtype=d) * t.tensor([3, 4], dtype=d)",
        "r = t.tensor([1, 2], dtype=d) * 3",
        "r = t.tensor([1, 2], dtype=d) * 2.5",
        "r = t.tensor([1, 2], dtype=d) / 2",
        "r = t.tensor([6, 3], dtype=d) & t.tensor([3, 3], dtype=d)",
        "r = t.tensor([6, 3], dtype=d) ^ t.tensor([3, 3], dtype=d)",
        "r = t.tensor([6, 3], dtype=d) == 3",
        "r = t.tensor([6, 3], dtype=d).sum()",
        "r = t.tensor([6, 3], dtype=d).cumsum(0)",
        "r = t.sort(t.tensor([6, 3, 5], dtype=d))[0]",
        "r = t.cat([t.tensor([6], dtype=d), t.tensor([3], dtype=d)])",
        "r = t.tensor([6, 3], dtype=d).view(t.uint8)",
        "r = t.tensor([6, 3], dtype=d)[t.tensor([1, 0])]",
        "r = t.tensor([1, 2], dtype=d) + t.tensor([1, 2], dtype=d)",
        "r = t.tensor([1, 2], dtype=d) - 1",
        "r = t.tensor([1, 2], dtype=d) < 1",
        "r = t.tensor([1, 2], dtype=d).neg()",
        "r = t.tensor([1, 2], dtype=d).abs()",
        "r = t.tensor([1, 2], dtype=d) * t.tensor([1, 2], dtype=t.int32)",
        "r = t.cat([t.tensor([6], dtype=d), t.tensor([3], dtype=t.uint8)])",
        "r = t.tensor([-1], dtype=t.uint64)",
        "r = t.tensor([2**64 - 1], dtype=t.uint64)",
        "r = t.tensor([1.5], dtype=t.uint64)",
        "r = t.ones(2, dtype=t.uint32).fill_(2**32)",
    ],
)
def test_unsigned_ops_against_torch(name, code):
    def run(lib):
        scope = {"t": lib, "d": getattr(lib, name)}
        try:
            exec(code, scope)  # noqa: S102 - the same code on both libraries
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__, str(exc)
        r = scope["r"]
        return r.tolist(), str(r.dtype).split(".")[-1]

    assert run(ember) == run(torch)


SPECIAL = [0.0, -0.0, 1.0, -2.5, 0.3, 448.0, 464.0, 500.0, 1e6, 57344.0, 6e4, 1e-9, 2.0**-127, 3.0]
SPECIAL += [float("inf"), float("-inf"), float("nan"), -float("nan")]


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("source", ["float32", "float64", "float16", "bfloat16", "int64"])
def test_float8_conversion_bit_exact(name, source):
    values = np.concatenate(
        [SPECIAL, np.random.default_rng(0).standard_normal(500) * 10.0 ** np.arange(-5, 5).repeat(50)]
    )
    if source == "int64":
        values = np.nan_to_num(values).clip(-1e6, 1e6)
    if source == "bfloat16":  # PyTorch's bfloat16 NaNs carry other payloads (the float8 NaNs are tested above)
        values = values[~np.isnan(values)]
    expected = torch.tensor(values).to(getattr(torch, source)).to(getattr(torch, name))
    got = ember.tensor(values).to(getattr(ember, source)).to(getattr(ember, name))
    assert got.view(ember.uint8).tolist() == expected.view(torch.uint8).tolist()
    direct = ember.tensor(values.tolist(), dtype=getattr(ember, name)) if source == "float32" else None
    if direct is not None:  # built from Python floats: through float32, as PyTorch
        assert (
            direct.view(ember.uint8).tolist()
            == torch.tensor(values.tolist(), dtype=getattr(torch, name)).view(torch.uint8).tolist()
        )


@pytest.mark.parametrize("name", FLOAT8)
def test_float8_decode_every_code(name):
    codes = np.arange(256, dtype=np.uint8)
    for target in ("float32", "float64", "bfloat16"):
        got = ember.from_numpy(codes.copy()).view(getattr(ember, name)).to(getattr(ember, target)).float()
        expected = torch.from_numpy(codes.copy()).view(getattr(torch, name)).to(getattr(torch, target)).float()
        assert np.array_equal(got.numpy(), expected.numpy(), equal_nan=True), target


@pytest.mark.parametrize("name", FLOAT8)
def test_float8_finfo_repr_and_limited_ops(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert repr(ember.finfo(e)) == repr(torch.finfo(t))
    x, y = ember.tensor([1.0, 2.0, 0.3]).to(e), torch.tensor([1.0, 2.0, 0.3]).to(t)
    assert repr(x).replace("ember", "torch") == repr(y)
    assert (x == 1).tolist() == (y == 1).tolist()
    assert ember.cat([x, x]).float().tolist() == torch.cat([y, y]).float().tolist()
    assert x[ember.tensor([2, 0])].float().tolist() == y[torch.tensor([2, 0])].float().tolist()
    for op in (lambda a: a + a, lambda a: a + 1, lambda a: a - 1.5, lambda a: -a, lambda a: a < a, lambda a: a.exp()):
        with pytest.raises(NotImplementedError):
            op(y)
        with pytest.raises(NotImplementedError, match="Float8_"):
            op(x)
    with pytest.raises(RuntimeError, match="Promotion for Float8 Types is not supported"):
        x.float() * x


@pytest.mark.parametrize(
    "code",
    [
        "r = t.empty(2, dtype=t.float8_e8m0fnu).zero_()",
        "r = t.full((2,), float('nan'), dtype=t.float8_e5m2)",
        "r = t.full((2,), -float('nan'), dtype=t.float8_e4m3fn)",
        "r = t.full((2,), float('inf'), dtype=t.float8_e4m3fn)",
        "r = t.full((2,), float('inf'), dtype=t.float8_e4m3fnuz)",
        "r = t.full((2,), 500.0, dtype=t.float8_e4m3fn)",
        "r = t.full((2,), -3.0, dtype=t.float8_e8m0fnu)",
        "r = t.full((2,), 3.0, dtype=t.float8_e8m0fnu)",
        "r = t.ones(2, dtype=t.float8_e8m0fnu)",
        "r = t.ones(2, dtype=t.float8_e5m2).fill_(float('nan'))",
        "r = t.full((2,), 0.3, dtype=t.float8_e4m3fn)",
    ],
)
def test_float8_fills_against_torch(code):
    def run(lib):
        scope = {"t": lib}
        try:
            exec(code, scope)  # noqa: S102 - the same code on both libraries
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__, str(exc)
        return scope["r"].view(lib.uint8).tolist()

    assert run(ember) == run(torch)


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0.0", "-0.0", "1e-40", "-1e-40", "1e-30", "-2.5"])
def test_float8_full_values_against_torch(name, value):
    def run(lib):
        try:
            return lib.full((2,), float(value), dtype=getattr(lib, name)).view(lib.uint8).tolist()
        except RuntimeError as exc:
            return str(exc)

    assert run(ember) == run(torch)
    assert ember.ones(2, dtype=getattr(ember, name)).zero_().view(ember.uint8).tolist() == [0, 0]


@pytest.mark.parametrize("name", ["int64", "uint8", "bool", "uint32"])
def test_mean_of_integers_names_the_type_as_torch(name):
    with pytest.raises(RuntimeError) as expected:
        torch.ones(2, dtype=getattr(torch, name)).mean()
    with pytest.raises(RuntimeError) as got:
        ember.ones(2, dtype=getattr(ember, name)).mean()
    assert str(got.value) == str(expected.value)


def _torch_values(name):
    if name in UNSIGNED:
        return torch.tensor([0, 1, 7, torch.iinfo(getattr(torch, name)).max], dtype=getattr(torch, name))
    return torch.tensor([1.0, -2.5, 0.3, 500.0]).to(getattr(torch, name))


def _as_lists(t):
    lib = torch if isinstance(t, torch.Tensor) else ember
    return (t.view(lib.uint8) if "float8" in str(t.dtype) else t).tolist(), str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("name", UNSIGNED + FLOAT8)
def test_torch_checkpoints_both_ways(name, tmp_path):
    original = _torch_values(name)
    saved = {"whole": original, "view": original[1:], "param": torch.nn.Parameter(original, requires_grad=False)}
    torch.save(saved, tmp_path / "torch.pt")
    loaded = ember.load(tmp_path / "torch.pt")
    for key, value in saved.items():
        assert _as_lists(loaded[key]) == _as_lists(value), key
    assert loaded["view"].storage_offset() == 1
    assert isinstance(loaded["param"], ember.nn.Parameter)
    ember.save(loaded, tmp_path / "ember.pt")
    again = torch.load(tmp_path / "ember.pt")
    for key, value in saved.items():
        assert _as_lists(again[key]) == _as_lists(value), key
    assert again["view"].storage_offset() == 1
    with pytest.raises(TypeError, match="legacy format"):
        ember.save(loaded["whole"], tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)


@pytest.mark.parametrize("name", UNSIGNED + FLOAT8 + ["bfloat16"])
def test_safetensors_both_ways(name, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    original = _torch_values(name) if name != "bfloat16" else torch.tensor([1.0, -2.5, 0.3]).to(torch.bfloat16)
    safetensors_torch.save_file({"x": original}, tmp_path / "torch.safetensors")
    loaded = ember.load(tmp_path / "torch.safetensors")["x"]
    assert _as_lists(loaded) == _as_lists(original)
    ember.save({"x": loaded}, tmp_path / "ember.safetensors")
    assert _as_lists(safetensors_torch.load_file(tmp_path / "ember.safetensors")["x"]) == _as_lists(original)


def _layouts(lib):
    """Tensors laid out in many ways: permuted, sliced, broadcast, channels-last, with size-1 dimensions."""
    import itertools

    for shape in [(2, 3, 5, 7), (1, 2, 3, 4), (2, 3), (4,), (), (3, 1, 2), (2, 1, 1, 1), (2, 2, 2, 2), (2, 3, 4, 5, 6)]:
        for perm in list(itertools.permutations(range(len(shape))))[:24]:
            yield lib.empty(shape).permute(perm)
            yield lib.empty([2 * n for n in shape]).permute(perm)[tuple(slice(None, None, 2) for _ in shape)]
            if shape:
                yield lib.empty(shape).permute(perm).expand(*[shape[p] for p in perm])
        if len(shape) == 4:
            yield lib.empty(shape, memory_format=lib.channels_last)
    yield lib.empty(3, 1).expand(3, 4)
    yield lib.empty(1, 4).expand(3, 4)
    yield lib.empty(2, 3, 4)[:, :1]
    yield lib.empty(2, 3, 4)[..., 1]


def test_dim_order_against_torch():
    for ours, theirs in zip(_layouts(ember), _layouts(torch), strict=True):
        for check in (False, True, "formats", "ILLEGAL", [1]):
            outcomes = []
            for lib, t in ((ember, ours), (torch, theirs)):
                argument = [lib.contiguous_format, lib.channels_last] if check == "formats" else check
                try:
                    outcomes.append(t.dim_order(ambiguity_check=argument))
                except (RuntimeError, TypeError) as exc:
                    outcomes.append((type(exc).__name__, str(exc)))
            assert outcomes[0] == outcomes[1], (tuple(theirs.shape), theirs.stride(), check)


#: ops on a tensor ``x`` of a limited-support type (``i`` an int64 index, ``m`` a bool mask): PyTorch
#: computes some and refuses the others with its NotImplementedError naming the kernel
LIMITED_OPS = [
    "x + x",
    "x - 1",
    "x * x",
    "x * 2",
    "x[:2] / x[:2]",
    "x / 2",
    "x // x",
    "x // 2",
    "x % x",
    "x ** 2",
    "-x",
    "~x",
    "x.abs()",
    "x.square()",
    "x == x",
    "x != 1",
    "x < x",
    "x >= 1",
    "x & x",
    "x.sign()",
    "x.signbit()",
    "x.sqrt()",
    "x.sum()",
    "x.sum(dtype=t.float32)",
    "x.mean()",
    "x.prod()",
    "x.cumsum(0)",
    "x.nansum()",
    "x.amax()",
    "x.argmax()",
    "x.max()",
    "x.max(0)",
    "x.min()",
    "x.aminmax()",
    "x.median()",
    "x.topk(1)",
    "x.kthvalue(1)",
    "x.cummax(0)",
    "x.sort()",
    "x.argsort()",
    "x.unique()",
    "x.unique_consecutive()",
    "x.msort()",
    "x.count_nonzero()",
    "x.nonzero()",
    "x.flip(0)",
    "x.view(3, 1).flip(0)",
    "x.view(1, 3).flip(0)",
    "x.expand(2, 3).flip(0)",
    "x.expand(2, 3).flip(1)",
    "t.fliplr(x.view(1, 3))",
    "t.flipud(x.expand(2, 3))",
    "t.rot90(x.view(1, 3))",
    "x.view(1, 3).tril()",
    "x.clamp(0, 1)",
    "x.clamp_min(1)",
    "t.nn.functional.relu(x)",
    "x.logical_not()",
    "x.logical_and(x)",
    "x.isfinite()",
    "x.isinf()",
    "x.isnan()",
    "x.isclose(x)",
    "x.nan_to_num()",
    "x.index_select(0, i)",
    "x.view(3, 1).gather(1, i.view(2, 1))",
    "x[i]",
    "x[m]",
    "x.masked_fill(m, 1)",
    "x.masked_select(m)",
    "x.index_add(0, i, x[:2])",
    "x.scatter(0, i, x[:2])",
    "x.take(i)",
    "x.dot(x)",
    "x.view(1, 3).mm(x.view(3, 1))",
    "x.view(1, 3) @ x.view(3, 1)",
    "t.where(m, x, x)",
    "t.cat([x, x])",
    "x.clone()",
    "x.contiguous()",
    "x.view(t.uint8)",
    "x.to(t.float32)",
    "x.float().to(x.dtype)",
    "x.fill_(1)",
    "x.zero_()",
    "x.uniform_()",
    "x.normal_()",
    "x.random_()",
    "x.random_(0, 2)",
    "t.arange(3, dtype=x.dtype)",
    "t.linspace(0, 1, 3, dtype=x.dtype)",
    "t.eye(2, dtype=x.dtype)",
    "t.randperm(3, dtype=x.dtype)",
    "t.rand(2, dtype=x.dtype)",
    "t.randn(2, dtype=x.dtype)",
    "t.randint(0, 3, (2,), dtype=x.dtype)",
    "t.nn.functional.max_pool1d(x.view(1, 3), 2)",
    "t.nn.functional.pad(x.view(1, 3), (1, 1), mode='reflect')",
    "t.nn.functional.pad(x.view(1, 3), (1, 1), mode='replicate')",
    "t.nn.functional.pad(x.view(1, 3), (1, 1), mode='circular')",
    "t.nn.functional.pixel_shuffle(x.expand(4, 3)[:, :1].reshape(1, 4, 1, 1), 2)",
    "t.nn.functional.conv1d(x.view(1, 1, 3), x[:2].view(1, 1, 2))",
    "t.nn.functional.conv_transpose1d(x.view(1, 1, 3), x[:2].view(1, 1, 2))",
    "t.nn.functional.batch_norm(x.repeat(2).reshape(2, 3, 1), None, None, training=True)",
    "t.nn.functional.layer_norm(x, (3,))",
    "t.nn.functional.nll_loss(x.view(1, 3), t.tensor([1]))",
    "t.nn.functional.cross_entropy(x.view(1, 3), t.tensor([1]))",
    "t.nn.functional.linear(x.view(1, 3), x.view(1, 3))",
    "t.nn.functional.interpolate(x.view(1, 1, 3), scale_factor=2)",
    "t.nn.functional.interpolate(x.view(1, 1, 3), scale_factor=2, mode='linear')",
]


def _limited_outcome(lib, name, code):
    x = lib.tensor([1.0, 2.0, 0.0]).to(getattr(lib, name))
    scope = {"t": lib, "x": x, "i": lib.tensor([2, 0]), "m": lib.tensor([True, False, True])}
    try:
        r = eval(code, scope)  # noqa: S307 - the same expression on both libraries
    except (NotImplementedError, RuntimeError, TypeError) as exc:
        return type(exc).__name__, str(exc)
    if isinstance(r, tuple):
        r = r[0]
    if code.endswith(("_()", "_(0, 2)", "dtype=x.dtype)")) and "arange" not in code:
        return str(r.dtype).split(".")[-1]  # a random draw or a fill: its dtype
    if r.dtype.is_floating_point and r.element_size() == 1:
        r = r.view(lib.uint8)
    return r.tolist(), str(r.dtype).split(".")[-1]


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e8m0fnu"])
@pytest.mark.parametrize("code", LIMITED_OPS)
def test_limited_support_ops_against_torch(name, code):
    assert _limited_outcome(ember, name, code) == _limited_outcome(torch, name, code)


@pytest.mark.parametrize("first", ALL)
def test_result_type_table(first):
    """Tensors with and without dimensions and Python numbers, against torch.result_type (complex32, the
    complex type of float16 PyTorch has, is left out: ember has no such dtype)."""

    def make(lib, name, zero_dim):
        return lib.zeros(() if zero_dim else (2,), dtype=getattr(lib, name))

    for second in ALL:
        for zero_first, zero_second in ((False, False), (False, True), (True, False)):
            if "float16" in (first, second) and "complex" in first + second and zero_first != zero_second:
                continue
            outcomes = [
                _outcome(lib.result_type, make(lib, first, zero_first), make(lib, second, zero_second))
                for lib in (ember, torch)
            ]
            assert outcomes[0] == outcomes[1], (first, second, zero_first, zero_second)
    for number in (1, 1.5, True, 1j):
        if first == "float16" and number == 1j:
            continue
        assert _outcome(ember.result_type, make(ember, first, False), number) == _outcome(
            torch.result_type, make(torch, first, False), number
        ), number


@pytest.mark.parametrize(
    ("name", "number"),
    [("float8_e8m0fnu", 0), ("float8_e4m3fn", 500.0), ("float8_e4m3fn", 0.3), ("float8_e4m3fn", -float("inf"))],
)
def test_float8_compared_with_a_number_rounds_it_as_torch(name, number):
    # PyTorch rounds the number into the tensor's type first: 500 is float8_e4m3fn's 448, 0 float8_e8m0fnu's 2**-127
    def run(lib):
        x = lib.tensor([0.0, 448.0, 0.3, -448.0]).to(getattr(lib, name))
        return (x == number).tolist(), (x != number).tolist()

    assert run(ember) == run(torch)


@pytest.mark.parametrize("name", UNSIGNED + FLOAT8)
def test_limited_dtypes_on_each_device(device, name):
    """A backend holds the types (the CPU's NumPy does) or refuses them with a TypeError naming the dtype."""
    dt = getattr(ember, name)
    host = ember.tensor([1.0, 2.0]).to(dt)
    try:
        ember.backends.get_backend(device).native_dtype(dt)
    except TypeError:
        with pytest.raises(TypeError, match=name):
            host.to(device)
        with pytest.raises(TypeError, match=name):
            ember.zeros(2, dtype=dt, device=device)
        return
    moved = host.to(device)
    assert moved.dtype is dt
    if not moved.is_meta:  # a meta tensor has no values
        assert moved.cpu().view(ember.uint8).tolist() == host.view(ember.uint8).tolist()


@pytest.mark.parametrize(
    "code",
    [
        "r = x.type()",
        "r = t.ones(2).type(x.type()).dtype",
        "r = t.tensor([3.7, -2.5, 300.0, 0.0]).to(x.dtype).to(t.uint8).tolist()",
        "r = t.tensor([3.7, -2.5, 200.0, 0.0]).to(x.dtype).to(t.int32).tolist()",  # NaN into int: undefined
        "r = t.tensor([3.7, -2.5, 300.0, 0.0]).to(x.dtype).bool().tolist()",
        "y = x.clone(); y[0] = float('nan'); r = y.view(t.uint8).tolist()",
        "y = x.clone(); y[1] = 0.3; r = y.view(t.uint8).tolist()",
    ],
)
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_names_conversions_and_writes(name, code):
    def run(lib):
        scope = {"t": lib, "x": lib.ones(2).to(getattr(lib, name))}
        try:
            exec(code, scope)  # noqa: S102 - the same code on both libraries
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__, str(exc)
        return str(scope["r"]).replace("torch.", "").replace("ember.", "")

    assert run(ember) == run(torch)


@pytest.mark.parametrize("name", UNSIGNED + ["complex64"])
def test_type_names_without_a_class(name):
    assert ember.ones(1, dtype=getattr(ember, name)).type() == torch.ones(1, dtype=getattr(torch, name)).type().replace(
        "torch", "ember"
    )
    assert ember.ones(1).type(torch.ones(1, dtype=getattr(torch, name)).type()).dtype is getattr(ember, name)


@pytest.mark.parametrize("name", FLOAT8)
def test_float8_arithmetic_on_every_code(name):
    """abs, isnan, ==, != and the product of every pair of codes, bit for bit against torch (PyTorch's
    float8 abs keeps -0.0 and the NaNs' signs; its products saturate float8_e4m3fn)."""
    codes = np.arange(256, dtype=np.uint8)
    pairs = np.repeat(codes, 256), np.tile(codes, 256)

    def run(lib):
        dt = getattr(lib, name)
        x = lib.from_numpy(codes.copy()).view(dt)
        a, b = (lib.from_numpy(p.copy()).view(dt) for p in pairs)
        outcomes = [(a == b).tolist(), (a != b).tolist(), (a * b).view(lib.uint8).tolist(), x.isnan().tolist()]
        try:
            outcomes.append(x.abs().view(lib.uint8).tolist())
        except NotImplementedError as exc:  # float8_e8m0fnu, which has no sign
            outcomes.append(str(exc))
        return outcomes

    for ours, theirs in zip(run(ember), run(torch), strict=True):
        assert ours == theirs


@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize(
    "code",
    [
        "r = x.sort()[0]",
        "r = x.sort(descending=True)[1]",
        "r = x.unique(return_counts=True)[1]",
        "r = x.sum()",
        "r = x.cumsum(0)",
        "r = x * x",
        "r = x * -1",
        "r = x == -1",
        "r = x / 2",
        "r = x.to(t.int64)",
        "r = x.to(t.float32)",
    ],
)
def test_unsigned_extremes_against_torch(name, code):
    """The largest values, beyond the signed type of the width (uint64 beyond int64)."""

    def run(lib):
        top = lib.iinfo(getattr(lib, name)).max
        scope = {"t": lib, "x": lib.tensor([top, 1, top - 1, 0, 7], dtype=getattr(lib, name))}
        exec(code, scope)  # noqa: S102 - the same code on both libraries
        return scope["r"].tolist(), str(scope["r"].dtype).split(".")[-1]

    assert run(ember) == run(torch)
