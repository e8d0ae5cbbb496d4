"""A user's first hour and faults, against PyTorch: the exception type and the words of the error or
warning that a program meets when it asks for CUDA without a GPU, passes the legacy loss arguments,
calls a Function the legacy way, gives autograd.grad a non-tensor, or loses a DataLoader worker."""

from __future__ import annotations

import os
import re
import signal
import sys
import warnings

import pytest

import ember
import ember.utils.data as eud

torch = pytest.importorskip("torch")


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the error is what is compared
        return exc
    raise AssertionError("no error raised")


# -- CUDA asked for without a GPU ------------------------------------------------------------------
_CUDA_CALLS = {
    "Tensor.cuda": lambda lib: lib.ones(2).cuda(),
    "Tensor.to('cuda')": lambda lib: lib.ones(2).to("cuda"),
    "Tensor.to('cuda:0')": lambda lib: lib.ones(2).to("cuda:0"),
    "zeros(device='cuda')": lambda lib: lib.zeros(2, device="cuda"),
    "tensor(device='cuda')": lambda lib: lib.tensor([1.0], device="cuda"),
    "Module.cuda": lambda lib: lib.nn.Linear(2, 2).cuda(),
    "Module.to('cuda')": lambda lib: lib.nn.Linear(2, 2).to("cuda"),
    "cuda.current_device": lambda lib: lib.cuda.current_device(),
}


@pytest.mark.skipif(ember.cuda.is_available() or torch.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("name", list(_CUDA_CALLS))
def test_cuda_without_a_gpu_raises_torch_s_error_type(name):
    call = _CUDA_CALLS[name]
    expected = type(_error(lambda: call(torch)))  # AssertionError in the CPU build, RuntimeError in a CUDA one
    with pytest.raises(expected, match="cuda") as caught:
        call(ember)
    assert isinstance(caught.value, RuntimeError)  # what ember raised before, and a CUDA build's type
    assert ember.device("cuda:0").type == "cuda"  # constructing the device alone is fine, as in torch


@pytest.mark.skipif(ember.cuda.is_available(), reason="a GPU is present")
def test_an_unclaimed_device_type_stays_a_plain_runtime_error():
    for lib in (torch, ember):
        err = _error(lambda lib=lib: lib.nn.Linear(2, 2).to("mps"))
        assert type(err) is RuntimeError and "mps" in str(err)


# -- size_average/reduce: a UserWarning that Python's default filters show -------------------------
def _warnings_under_python_defaults(fn):
    """The warnings ``fn`` raises under Python's default filters, as seen from a module other than
    ``__main__`` (where a DeprecationWarning is ignored)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        fn()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.MSELoss(size_average=False),
        lambda lib: lib.nn.CrossEntropyLoss(reduce=False),
        lambda lib: lib.nn.functional.l1_loss(lib.ones(2), lib.zeros(2), size_average=True, reduce=True),
    ],
    ids=["MSELoss", "CrossEntropyLoss", "F.l1_loss"],
)
def test_legacy_reduction_arguments_warn_visibly_as_torch(make):
    expected = _warnings_under_python_defaults(lambda: make(torch))
    assert expected and "size_average and reduce args will be deprecated" in expected[0]
    assert _warnings_under_python_defaults(lambda: make(ember)) == expected
    with pytest.warns(UserWarning, match=r"please use reduction='(sum|none|mean)' instead\."):
        make(ember)


# -- the legacy autograd.Function style: MyFunction()(x) -------------------------------------------
def _legacy_function(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return Double


def test_instantiating_a_function_warns_and_calling_it_raises_as_torch():
    messages = []
    for lib in (torch, ember):
        cls = _legacy_function(lib)
        with pytest.warns(DeprecationWarning, match="should not be instantiated") as record:
            fn = cls()
        messages.append(str(record[0].message).replace(repr(cls), "CLS"))
        with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method"):
            fn(lib.ones(2, requires_grad=True))
    assert messages[0] == messages[1]
    x = ember.ones(2, requires_grad=True)  # the static style is unaffected
    _legacy_function(ember).apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# -- autograd.grad / backward(inputs=) given something else than a tensor --------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.autograd.grad(x.sum(), [x, 3]),
        lambda lib, x: lib.autograd.grad(x.sum(), [None]),
        lambda lib, x: x.sum().backward(inputs=[x, "x"]),
    ],
    ids=["grad-int", "grad-None", "backward-inputs-str"],
)
def test_non_tensor_inputs_are_torch_s_runtime_error(call, device):
    expected = _error(lambda: call(torch, torch.ones(3, requires_grad=True)))
    assert type(expected) is RuntimeError
    with pytest.raises(RuntimeError) as caught:
        call(ember, ember.ones(3, requires_grad=True, device=device))
    assert str(caught.value) == str(expected)


# -- a DataLoader worker that dies -----------------------------------------------------------------
class _Dies:
    def __init__(self, how, at):
        self.how, self.at = how, at

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.at:
            if self.how == "exit":
                os._exit(3)
            os.kill(os.getpid(), self.how)
        return ember.tensor([i])  # a tensor travels through shared memory that its worker hands over


def _death(lib, how, at):
    """The loader's error and its cause, each pid written N."""
    err = _error(lambda: list(lib.utils.data.DataLoader(_Dies(how, at), batch_size=2, num_workers=1)))
    return [(type(e), re.sub(r"pid(\(s\))? \d+", r"pid\1 N", str(e))) for e in (err, err.__cause__)]


_HOWS = pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, "exit"], ids=["SIGKILL", "SIGTERM", "exit"])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@_HOWS
def test_a_dead_worker_names_the_signal_or_exit_code_as_torch(how):
    # dying on its first batch, while the main process waits: torch's SIGCHLD handler's error is the cause
    expected = _death(torch, how, 0)
    assert expected[0] == (RuntimeError, "DataLoader worker (pid(s) N) exited unexpectedly")
    assert _death(ember, how, 0) == expected


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@_HOWS
def test_a_worker_dead_with_a_batch_in_flight_is_the_same_error(how):
    # the batch it made before dying cannot be received (its shared memory went with it): ember raised
    # the EOFError of that receipt, torch the dead worker's error from it
    for _ in range(3):
        error, cause = _death(ember, how, 3)
        assert error == (RuntimeError, "DataLoader worker (pid(s) N) exited unexpectedly")
        assert issubclass(cause[0], (RuntimeError, EOFError, ConnectionError))
    assert eud.get_worker_info() is None


# -- factories given a size that is no size; NumPy arrays of element types without a dtype ---------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(2.5),
        lambda lib: lib.ones(2.5),
        lambda lib: lib.empty(2.5),
        lambda lib: lib.randn(2.5),
        lambda lib: lib.rand(None),
        lambda lib: lib.full(2.5, 1.0),
    ],
    ids=["zeros", "ones", "empty", "randn", "rand-None", "full"],
)
def test_a_size_that_is_no_size_names_the_factory_as_torch(call):
    expected = _error(lambda: call(torch))
    with pytest.raises(TypeError) as caught:
        call(ember)
    assert str(caught.value) == str(expected)


_ARRAYS = {
    "str": lambda np: np.array(["a"]),
    "bytes": lambda np: np.array([b"a"]),
    "datetime64": lambda np: np.array([np.datetime64("2020-01-01")]),
    "timedelta64": lambda np: np.array([np.timedelta64(1)]),
    "void": lambda np: np.zeros(1, dtype=[("a", "i4")]),
    "object": lambda np: np.array([object()]),
}


@pytest.mark.parametrize("kind", list(_ARRAYS))
@pytest.mark.parametrize("convert", ["tensor", "as_tensor", "from_numpy"])
def test_numpy_arrays_without_a_dtype_are_refused_as_torch(kind, convert):
    import numpy as np

    array = _ARRAYS[kind](np)
    expected = _error(lambda: getattr(torch, convert)(array))
    with pytest.raises(TypeError) as caught:
        getattr(ember, convert)(array)
    assert str(caught.value) == str(expected)


# -- a generator= that is not a Generator (a seed given in its place) ------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.randn(2, generator=3),
        lambda lib: lib.randperm(3, generator="seed"),
        lambda lib: lib.ones(2).normal_(generator=3),
        lambda lib: lib.multinomial(lib.ones(2), 1, generator=3),
        lambda lib: list(lib.utils.data.DataLoader([1, 2], shuffle=True, generator=3)),
    ],
    ids=["randn", "randperm", "normal_", "multinomial", "DataLoader-shuffle"],
)
def test_a_generator_that_is_no_generator_is_a_type_error_as_torch(call):
    assert isinstance(_error(lambda: call(torch)), TypeError)
    with pytest.raises(TypeError, match=r"argument 'generator' must be ember\.Generator, not (int|str)"):
        call(ember)


# -- set_grad_enabled takes a bool only: a truthy string switched recording on ---------------------
@pytest.mark.parametrize("mode", ["no", 0, 1, None, 1.0], ids=["str", "int0", "int1", "None", "float"])
def test_set_grad_enabled_refuses_what_is_not_a_bool_as_torch(mode):
    expected = _error(lambda: torch.set_grad_enabled(mode))
    assert type(expected) is TypeError and torch.is_grad_enabled()
    with pytest.raises(TypeError) as caught:
        ember.set_grad_enabled(mode)
    assert str(caught.value) == str(expected)
    assert ember.is_grad_enabled()
    with ember.set_grad_enabled(False):
        assert not (ember.ones(1, requires_grad=True) * 2).requires_grad
    assert ember.is_grad_enabled()


# -- dropout's training flag is a bool: training="no" dropped elements -----------------------------
@pytest.mark.parametrize("fn", ["dropout", "alpha_dropout", "dropout2d", "dropout3d", "feature_alpha_dropout"])
@pytest.mark.parametrize("training", ["no", None, 1, 0], ids=["str", "None", "int1", "int0"])
def test_dropout_training_flag_must_be_a_bool_as_torch(fn, training, device):
    x = torch.ones(2, 3, 4, 4)
    expected = _error(lambda: getattr(torch.nn.functional, fn)(x, 0.5, training))
    assert type(expected) is TypeError
    with pytest.raises(TypeError) as caught:
        getattr(ember.nn.functional, fn)(ember.ones(2, 3, 4, 4, device=device), 0.5, training)
    assert str(caught.value) == str(expected)
    y = ember.ones(2, 3, 4, 4, device=device)
    assert getattr(ember.nn.functional, fn)(y, 0.5, False) is y
