"""Off the main road, differential against PyTorch: the arguments that reductions refuse or take as PyTorch's
do (``dim=None`` to the ops whose whole-tensor overload takes no dim, ``keepdims`` without a dim,
``unbiased`` with ``correction``, ``logsumexp`` over ``dim=()``, a 0-d integer tensor as ``dim``), and the
op named in the errors of a reduction over an empty dimension."""

from __future__ import annotations

import re

import pytest

import ember

torch = pytest.importorskip("torch")


def _outcome(lib, call, device=None):
    """``("ok", shape, values)`` of ``call(lib, x)`` on a (2, 3) tensor, or ``(exception type name, message)``."""
    kwargs = {"device": device} if device else {}
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], **kwargs)
    try:
        result = call(lib, x)
    except Exception as exc:  # noqa: BLE001 - the outcome compared is the exception
        return type(exc).__name__, str(exc)
    first = result[0] if isinstance(result, tuple) else result
    return "ok", tuple(first.shape), first.detach().cpu().double().flatten().tolist()


# name -> call(lib, x): PyTorch's TypeError (ember accepted them, most with a whole-tensor result)
REFUSED = {
    "x.sum(keepdims=True)": lambda L, x: x.sum(keepdims=True),
    "sum(x, keepdims=True)": lambda L, x: L.sum(x, keepdims=True),
    "x.mean(keepdims=True)": lambda L, x: x.mean(keepdims=True),
    "x.prod(dim=None)": lambda L, x: x.prod(dim=None),
    "x.prod(None)": lambda L, x: x.prod(None),
    "prod(x, dim=None)": lambda L, x: L.prod(x, dim=None),
    "x.max(dim=None)": lambda L, x: x.max(dim=None),
    "max(x, None)": lambda L, x: L.max(x, None),
    "x.min(dim=None)": lambda L, x: x.min(dim=None),
    "x.median(dim=None)": lambda L, x: x.median(dim=None),
    "median(x, None)": lambda L, x: L.median(x, None),
    "x.nanmedian(dim=None)": lambda L, x: x.nanmedian(dim=None),
    "x.var(unbiased=False, correction=1)": lambda L, x: x.var(unbiased=False, correction=1),
    "x.var(0, False, correction=1)": lambda L, x: x.var(0, False, correction=1),
    "x.std(unbiased=True, correction=0)": lambda L, x: x.std(unbiased=True, correction=0),
    "var_mean(x, unbiased=False, correction=1)": lambda L, x: L.var_mean(x, unbiased=False, correction=1),
    "std_mean(x, 0, True, correction=0)": lambda L, x: L.std_mean(x, 0, True, correction=0),
}


@pytest.mark.parametrize("call", sorted(REFUSED))
def test_arguments_refused_as_pytorch(device, call):
    expected = _outcome(torch, REFUSED[call])
    assert expected[0] == "TypeError", expected
    got = _outcome(ember, REFUSED[call], device)
    assert got[0] == "TypeError", got
    op = re.match(r"\w+\(x|x\.(\w+)", call)
    name = op.group(1) or op.group(0)[:-2]
    assert got[1].startswith(f"{name}()"), got


# name -> call(lib, x): accepted by PyTorch; the same shape and values
ACCEPTED = {
    "x.sum(axis=None, keepdims=True)": lambda L, x: x.sum(axis=None, keepdims=True),
    "x.mean(dim=None, keepdims=True)": lambda L, x: x.mean(dim=None, keepdims=True),
    "x.sum(0, keepdims=True)": lambda L, x: x.sum(0, keepdims=True),
    "x.prod()": lambda L, x: x.prod(),
    "x.prod(1)": lambda L, x: x.prod(1),
    "x.prod(dim=1, keepdim=True)": lambda L, x: x.prod(dim=1, keepdim=True),
    "x.max()": lambda L, x: x.max(),
    "x.max(1, True)": lambda L, x: x.max(1, True),
    "x.min(axis=0)": lambda L, x: x.min(axis=0),
    "x.median()": lambda L, x: x.median(),
    "x.median(1)": lambda L, x: x.median(1),
    "x.nanmedian()": lambda L, x: x.nanmedian(),
    "x.var(unbiased=False)": lambda L, x: x.var(unbiased=False),
    "x.var(0, correction=0)": lambda L, x: x.var(0, correction=0),
    "x.std(None, True)": lambda L, x: x.std(None, True),
    "x.std(dim=None, correction=0)": lambda L, x: x.std(dim=None, correction=0),
    "x.std(False)": lambda L, x: x.std(False),
    "logsumexp(x, (), keepdim=True)": lambda L, x: L.logsumexp(x, (), keepdim=True),
    "logsumexp(0-d, ())": lambda L, x: L.logsumexp(x[0, 0], ()),
    "logsumexp(empty, ())": lambda L, x: L.logsumexp(x[:0], ()),
    "x.sum(tensor(1))": lambda L, x: x.sum(L.tensor(1)),
    "x.amax(dim=tensor(0))": lambda L, x: x.amax(dim=L.tensor(0)),
    "x.argmax(tensor(-1))": lambda L, x: x.argmax(L.tensor(-1)),
    "x.cumsum(tensor(1))": lambda L, x: x.cumsum(L.tensor(1)),
    "x.sum((tensor(0), 1))": lambda L, x: x.sum((L.tensor(0), 1)),
}


@pytest.mark.parametrize("call", sorted(ACCEPTED))
def test_arguments_accepted_as_pytorch(device, call):
    expected = _outcome(torch, ACCEPTED[call])
    got = _outcome(ember, ACCEPTED[call], device)
    assert expected[0] == "ok", expected
    assert got[0] == "ok", got
    assert got[1] == expected[1]
    assert got[2] == pytest.approx(expected[2], rel=1e-6)


@pytest.mark.parametrize("shape", [(2, 3), (3,)])
def test_logsumexp_over_no_dims_is_pytorchs_error(device, shape):
    """PyTorch's logsumexp over ``dim=()`` reduces every dim into an output shaped for none: a RuntimeError."""
    with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the broadcast shape"):
        torch.logsumexp(torch.ones(shape), ())
    for dim in ((), []):
        with pytest.raises(RuntimeError, match=r"logsumexp\(\): output with shape \[\] doesn't match the broadcast"):
            ember.logsumexp(ember.ones(shape, device=device), dim)


# name -> call(lib, x) on an input with an empty dim: the same exception type and message as PyTorch's
EMPTY = {
    "x.max(0)": lambda L, x: x.max(0),
    "x.min(-2)": lambda L, x: x.min(-2),
    "x.amax(-2)": lambda L, x: x.amax(-2),
    "x.amin((0, 0))": lambda L, x: x.amin((0, 0)),
    "x.amax((0, -2))": lambda L, x: x.amax((0, -2)),
    "x.nanmedian(0)": lambda L, x: x.nanmedian(0),
    "x.median(0)": lambda L, x: x.median(0),
    "x.argmax(0)": lambda L, x: x.argmax(0),
}


@pytest.mark.parametrize("call", sorted(EMPTY))
def test_empty_dim_errors_name_the_op_as_pytorch(device, call):
    def on_empty(L, x):
        return EMPTY[call](L, x[:0])

    expected = _outcome(torch, on_empty)
    got = _outcome(ember, on_empty, device)
    assert expected[0] == "IndexError", expected
    assert got == expected


def _warnings(lib, call):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(lib)
    return [str(w.message).split(" (Triggered")[0] for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize(
    "shape, dim, correction",
    [((), None, 1), ((3,), None, 3), ((3,), 0, 2.5), ((3,), None, 2), ((0,), None, 0), ((0, 3), 0, 1), ((0, 3), 1, 0),
     ((2, 3), 1, 3), ((2, 3), (0, 1), 5), ((2, 3), (), 1), ((1, 1), 0, 1), ((2, 3), 1, 1)],
)  # fmt: skip
def test_variance_warns_of_no_degrees_of_freedom_as_pytorch(device, op, shape, dim, correction):
    """PyTorch warns "var(): degrees of freedom is <= 0" where the correction reaches the reduction factor."""

    def call(lib):
        kwargs = {"device": device} if lib is ember else {}
        return getattr(lib, op)(lib.zeros(shape, **kwargs), dim=dim, correction=correction)

    expected = _warnings(torch, call)
    assert _warnings(ember, call) == expected


def test_complex_variance_warns_for_each_part_as_pytorch():
    def call(lib):
        lib.tensor([1 + 1j, 2]).std(correction=2)

    assert (
        _warnings(ember, call)
        == _warnings(torch, call)
        == [
            "std(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor (input numel divided by output numel)."
        ]
        * 2
    )
