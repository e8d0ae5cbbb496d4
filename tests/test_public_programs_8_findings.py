"""Differences from PyTorch found by the round-8 public programs (tests/test_public_programs_8.py), each
checked against torch on its own."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")


def _logged(lib, program, mode=False):
    """The names ``__torch_function__`` sees (``func.__name__`` and ``resolve_name`` without the library's
    name) while ``program`` runs on a logging subclass's tensor (or, with ``mode``, under a mode)."""
    calls = []

    def note(func):
        calls.append((func.__name__, lib.overrides.resolve_name(func).partition(".")[2]))

    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            note(func)
            return super().__torch_function__(func, types, args, kwargs)

    class Mode(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            note(func)
            return func(*args, **(kwargs or {}))

    x = lib.arange(1.0, 7.0).view(2, 3)
    if mode:
        with Mode():
            program(lib, x)
    else:
        program(lib, x.as_subclass(Logged))
    return calls


METHODS = {
    "getitem": lambda lib, x: x[0],
    "setitem": lambda lib, x: x.__setitem__(0, 1.0),
    "eq": lambda lib, x: x == 1,
    "ne": lambda lib, x: x != 1,
    "rsub": lambda lib, x: 1 - x,
    "rpow": lambda lib, x: 2**x,
    "invert": lambda lib, x: x.bool().__invert__(),
    "repr": lambda lib, x: repr(x),
    "split": lambda lib, x: x.split(1),
    "float": lambda lib, x: x.float(),
    "type": lambda lib, x: x.type(lib.float64),
    "T": lambda lib, x: x.T,
    "mT": lambda lib, x: x.mT,
    "ndim": lambda lib, x: x.ndim,
    "is_leaf": lambda lib, x: x.is_leaf,
    "add": lambda lib, x: 1 + x * 2 - 1,
    "matmul": lambda lib, x: x @ x.mT,
    "floordiv": lambda lib, x: x // 2,
    "pos": lambda lib, x: +x,
    "and": lambda lib, x: (x.long() & 1) | 2,
    "rand": lambda lib, x: 1 & x.long(),
    "iter": lambda lib, x: list(x),
    "top_level": lambda lib, x: lib.relu(lib.flatten(x)),
}


@pytest.mark.parametrize("mode", [False, True], ids=["subclass", "mode"])
@pytest.mark.parametrize("name", list(METHODS))
def test_handlers_see_pytorchs_method_names(name, mode):
    """A handler that logs ``func.__name__``/``resolve_name(func)`` sees PyTorch's names: ember gave the
    internal function names (``x[0]``: ``getitem``, ``x == 1``: ``_eq``, ``1 - x``: ``_rsub``, ``x.split``:
    ``_split``, ``x.float()``: ``float32``, ``x.type``: ``type_``, ``repr``: ``tensor_repr``; PyTorch
    ``__getitem__``, ``__eq__``, ``__rsub__``, ``split``, ``float``, ``type``, ``__repr__``), and
    ``resolve_name`` of a property's getter ``ember.Tensor.__get__`` (PyTorch ``torch.Tensor.T.__get__``).
    Operators pass the method PyTorch passes (``x != 1``: ``ne``; ``+x``: ``positive``; ``x // 2``:
    ``__floordiv__``; ``x & 1``: ``__and__``; ``1 & x``: ``bitwise_and``; ember passed ``__ne__``, ``__pos__``,
    ``floor_divide``, ``bitwise_and``, ``__rand__``), and under a mode as for a subclass (ember's mode saw
    ``__radd__``/``_matmul_operator`` where PyTorch's sees ``add``/``matmul``, and ``resolve_name`` gave a
    module path, ``tensor_methods.add``, for every method). ``iter(x)`` asks ``dim()`` (ember: ``ndim``)."""
    program = METHODS[name]
    assert _logged(ember, program, mode) == _logged(torch, program, mode)


def test_as_subclass_and_linear_are_not_seen_by_the_handler():
    """``x.as_subclass(C)`` of a logging subclass and ``nn.Linear`` on one: the handler sees ``linear``
    only. ember's ``as_subclass`` passed ``x[...]`` (and its ``ndim``/``shape``) through the handler, and
    ``Linear``'s input check its ``ndim``/``shape``: the log had ``__getitem__``, ``ndim.__get__`` and
    ``shape.__get__`` calls PyTorch's has not."""

    torch.manual_seed(0)
    layers = {torch: torch.nn.Linear(3, 2)}
    layers[ember] = ember.nn.Linear(3, 2)
    layers[ember].load_state_dict({k: ember.tensor(v.numpy()) for k, v in layers[torch].state_dict().items()})

    def program(lib, x):
        layers[lib](x).as_subclass(lib.Tensor)

    assert _logged(ember, program) == _logged(torch, program) == [("linear", "nn.functional.linear")]
    assert _logged(ember, program, mode=True) == _logged(torch, program, mode=True)


def test_linear_still_names_the_wrong_feature_count():
    with pytest.raises(RuntimeError, match=r"Linear: expected input with 3 features \(in_features\), got 2"):
        ember.nn.Linear(3, 2)(ember.ones(4, 2))
    with pytest.raises(RuntimeError, match="a 0-d tensor"):
        ember.nn.Linear(3, 2)(ember.tensor(1.0))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_copy_of_a_subclass_keeps_its_attributes(requires_grad):
    """``copy.copy`` of a tensor subclass carrying metadata (a tv_tensors-style box set): the copy is of the
    class, with the attributes and ``requires_grad``. ember's copy had the class but lost the attributes (its
    ``__copy__`` ran under the handler, with subclasses off, and the plain result was made the class anew).
    (PyTorch's copy of a leaf that requires grad is an alias with ``AliasBackward0``, its pickling path; ember's
    is a leaf: ``is_leaf`` is not compared.)"""
    import copy

    results = []
    for lib in (torch, ember):

        class Boxes(lib.Tensor):
            pass

        boxes = lib.tensor([[1.0, 2.0, 3.0, 4.0]]).as_subclass(Boxes).requires_grad_(requires_grad)
        boxes.format = "XYXY"
        copied = copy.copy(boxes)
        results.append((type(copied).__name__, copied.__dict__, copied.requires_grad, copied.tolist()))
    assert results[0] == results[1]


def test_parameter_of_a_subclass_instance_keeps_its_class():
    """``nn.Parameter(t)`` of a tensor subclass's instance (a tv_tensors-like or quantized weight): PyTorch keeps
    the class, flags the tensor ``_is_param`` (``isinstance(p, nn.Parameter)`` holds, the module registers it,
    it prints as ``Parameter(B(...))``) and optimizers update it in place. ember made a plain ``Parameter`` of
    it, losing the class."""
    results = []
    for lib in (torch, ember):

        class Weight(lib.Tensor):
            pass

        model = lib.nn.Linear(2, 2)
        model.weight = lib.nn.Parameter(lib.ones(2, 2).as_subclass(Weight))
        marked = model.weight
        out = model(lib.ones(1, 2))
        out.sum().backward()
        lib.optim.SGD(model.parameters(), lr=0.5).step()
        frozen = lib.nn.Parameter(lib.ones(2, dtype=lib.float64).as_subclass(Weight), requires_grad=False)
        results.append(
            (
                type(marked).__name__,
                isinstance(marked, lib.nn.Parameter),
                isinstance(lib.ones(1).as_subclass(Weight), lib.nn.Parameter),
                isinstance(lib.ones(1), lib.nn.Parameter),
                [name for name, _ in model.named_parameters()],
                (marked.requires_grad, marked.is_leaf, model.weight is marked, type(out).__name__),
                type(model.state_dict()["weight"]).__name__,
                marked.tolist(),
                repr(marked).replace("torch.", "").replace("ember.", ""),
                repr(frozen).replace("torch.", "").replace("ember.", ""),
            )
        )
    assert results[1] == results[0]
