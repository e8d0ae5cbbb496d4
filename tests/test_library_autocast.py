"""ember.library.register_autocast against torch.library.register_autocast: which inputs a custom
operator sees cast inside an autocast region (floating-point tensors on the device type, not float64 ones,
also in lists), that autocast is off inside it, that the first registration stands, and the errors."""

import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = {"torch": torch, "ember": ember}


def _observe(lib, tag):
    seen = []

    @lib.library.custom_op(f"autocast_{tag}_{lib.__name__}::mix", mutates_args=())
    def mix(x: lib.Tensor, y: lib.Tensor, xs: list[lib.Tensor], i: lib.Tensor) -> lib.Tensor:
        seen.append([str(t.dtype).split(".")[1] for t in (x, y, xs[0], i)] + [lib.is_autocast_enabled("cpu")])
        return (x.double() @ y.double()).to(x.dtype) + xs[0].sum() + i.sum()

    name = f"autocast_{tag}_{lib.__name__}::mix"
    lib.library.register_autocast(name, "cpu", lib.float16)
    mix.register_autocast("cpu", lib.bfloat16)  # a second registration for a device type is ignored
    x, i = lib.ones(2, 2), lib.ones(2, dtype=lib.int64)
    results = [str(mix(x, x, [x], i).dtype)]
    with lib.autocast("cpu", dtype=lib.bfloat16):
        results.append(str(mix(x, x, [x], i).dtype))
        results.append(str(mix(x.double(), x.double(), [x], i).dtype))
        with lib.autocast("cpu", enabled=False):
            results.append(str(mix(x, x, [x], i).dtype))
    return [r.split(".")[1] for r in results], seen


def test_register_autocast_casts_as_torch():
    assert _observe(ember, "a") == _observe(torch, "a")


@pytest.mark.parametrize(
    "device_type, error, match",
    [
        ("cpu2", RuntimeError, "cpu2"),
        (3, TypeError, "must be str"),
        ("opencl", ValueError, "Device type 'opencl' does not support autocast"),
    ],
)
def test_register_autocast_errors_as_torch(device_type, error, match):
    for lib in LIBS.values():

        @lib.library.custom_op(f"autocast_err_{lib.__name__}::f{abs(hash(repr(device_type)))}", mutates_args=())
        def f(x: lib.Tensor) -> lib.Tensor:
            return x.clone()

        with pytest.raises(error, match=match):
            lib.library.register_autocast(f, device_type, lib.float16)
