"""Tensor subclasses and PyTorch's ``__torch_function__`` protocol (ember.overrides), against PyTorch.

The same program runs on a ``torch.Tensor`` subclass and an ``ember.Tensor`` subclass: the types of the
results, their values, the gradients, and the functions a logging ``__torch_function__`` sees.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _subclasses(lib):
    class Sub(lib.Tensor):
        pass

    class Logged(lib.Tensor):
        calls: list = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append((func, types))
            return super().__torch_function__(func, types, args, kwargs)

    return Sub, Logged


EMBER_SUB, EMBER_LOGGED = _subclasses(ember)
TORCH_SUB, TORCH_LOGGED = _subclasses(torch)

# (program, is it a tuple of tensors); ``E`` is the library, ``F`` its functional module, ``a`` the subclass
# instance (2 x 3, float64), ``p`` a plain tensor of the same shape
PROGRAMS = [
    "a + 1",
    "1 + a",
    "a * 2.0",
    "2.0 * a",
    "a - p",
    "p - a",
    "p + a",
    "a / 2",
    "-a",
    "a ** 2",
    "a[0]",
    "a[:, 1:]",
    "a == 1",
    "a < 2",
    "a.sum()",
    "a.sum(0)",
    "a.mean()",
    "a.view(6)",
    "a.reshape(3, 2)",
    "a.T",
    "a.t()",
    "a.mT",
    "a.unsqueeze(0)",
    "a.exp()",
    "a.clone()",
    "a.detach()",
    "a.float()",
    "a.to(E.float32)",
    "a @ a.t()",
    "E.add(a, 1)",
    "E.add(p, a)",
    "E.mul(a, p)",
    "E.exp(a)",
    "E.matmul(a, a.t())",
    "E.cat([p, a])",
    "E.stack([a, p])",
    "E.where(a > 1, a, p)",
    "F.relu(a)",
    "F.softmax(a, 0)",
    "F.linear(a, E.ones_like(p)[:1].expand(4, 3))",
    "a.max(0)",
    "E.max(a, 1)",
    "a.sort(1)",
    "a.unbind(0)",
    "a.split(1)",
    "list(a)",
    "a.chunk(2, 1)",
    "a.new_zeros(2)",
    "a.new_full((2,), 3.0)",
    "a.unflatten(1, (3, 1))",
    "E.zeros_like(a)",
    "E.broadcast_tensors(a, p[0])",
    "a.masked_fill(a > 1, 0)",
    "E.einsum('ij->i', a)",
    "F.normalize(a)",
    "a.add_(1)",
    "a.to('cpu')",
    "a.contiguous()",
    "a.data",
    "sum([a, p])",
    "E.linalg.norm(a)",
    "E.linalg.vector_norm(a, dim=1)",
    "E.linalg.det(a[:, :2])",
    "E.special.expit(a)",
    "E.special.erf(a)",
    "E.fft.fft(a)",
    "E.autograd.grad((a * a).sum(), a)",
    # a plain tensor's method with a subclass argument: the subclass's handler runs it, as PyTorch's
    "p.add(a)",
    "p.mul(a)",
    "p.sub(a, alpha=2)",
    "p.matmul(a.t())",
    "p.clone().mul_(a)",
    "p.where(a > 1, a)",
    "p.expand_as(a)",
    "p.masked_fill(a > 1, 0)",
    "p.new_tensor([1.0]).add(a[0, :1])",
    "p.maximum(a)",
    "p.sum().add(a)",
]


def _run(lib, functional, program, cls, device=None):
    values = np.arange(6.0).reshape(2, 3) / 2
    kwargs = {"device": device} if device else {}
    a = lib.tensor(values, **kwargs).as_subclass(cls)
    if "autograd" in program:
        a.requires_grad_()
    p = lib.tensor(values[::-1].copy(), **kwargs)
    return eval(program, {"E": lib, "F": functional, "a": a, "p": p})


def _flatten(result):
    if isinstance(result, (tuple, list)):
        return [type(result).__name__] + [x for item in result for x in _flatten(item)]
    return [type(result).__name__]


def _values(result):
    if isinstance(result, (tuple, list)):
        return [v for item in result for v in _values(item)]
    return [result.detach().cpu().numpy()] if hasattr(result, "detach") else [result]


@pytest.mark.parametrize("program", PROGRAMS)
def test_results_take_the_subclass(program, device):
    """Methods, operators, ``ember.*`` and ``ember.nn.functional`` functions give the subclass, as PyTorch."""
    if "fft" in program and device.split(":")[0] in ("restricted", "opencl"):
        pytest.skip(f"{device} has no complex128")
    expected = _run(torch, TF, program, TORCH_SUB)
    got = _run(ember, F, program, EMBER_SUB, device)
    assert _flatten(got) == [n.replace("TORCH", "EMBER") for n in _flatten(expected)], program
    for g, e in zip(_values(got), _values(expected), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-6, err_msg=program)


def test_named_tuple_results_keep_their_fields():
    values, indices = ember.ones(2, 3).as_subclass(EMBER_SUB).max(1)
    result = ember.ones(2, 3).as_subclass(EMBER_SUB).max(1)
    assert type(result).__name__ == "max" and type(result.values) is EMBER_SUB and type(result.indices) is EMBER_SUB
    assert type(values) is EMBER_SUB and indices.dtype is ember.int64


def _log(lib, functional, cls, device=None):
    kwargs = {"device": device} if device else {}
    a = lib.ones(2, 2, dtype=lib.float64, **kwargs).as_subclass(cls)
    cls.calls.clear()
    lib.add(a, 1)
    a + 1
    1 + a
    a.sum()
    functional.relu(a)
    a[0]
    _ = a == 1
    2 - a
    a.view(4)
    a @ a
    lib.cat([a, a])
    a.max(0)
    functional.linear(a, lib.ones(2, 2, dtype=lib.float64, **kwargs))
    _ = a.T
    len(a)
    return list(cls.calls)


def _public(lib, functional, func):
    """The public name of ``func`` in ``lib``: a Tensor method, a property getter, or a function."""
    for name in sorted(dir(lib.Tensor), key=lambda n: (n.startswith("__"), n)):  # ``add`` before ``__add__``
        attribute = lib.Tensor.__dict__.get(name, getattr(lib.Tensor, name, None))
        if isinstance(attribute, property) or type(attribute).__name__ == "getset_descriptor":
            if func == attribute.__get__:
                return f"Tensor.{name}.__get__"
        elif attribute is func:
            return f"Tensor.{name}"
    for module, prefix in ((lib, ""), (functional, "F.")):
        for name in dir(module):
            if getattr(module, name, None) is func:
                return prefix + name
    return repr(func)


def test_logged_functions_match_torch(device):
    """A logging ``__torch_function__`` sees the same functions (by identity with the public ones) as PyTorch's."""
    expected = [(_public(torch, TF, f), [t.__name__ for t in types]) for f, types in _log(torch, TF, TORCH_LOGGED)]
    got = [(_public(ember, F, f), [t.__name__ for t in types]) for f, types in _log(ember, F, EMBER_LOGGED, device)]
    expected = [(name.replace("_VariableFunctionsClass.", ""), [t.replace("TORCH", "EMBER") for t in types])
                for name, types in expected]  # fmt: skip
    assert got == expected


def test_torch_function_receives_args_and_kwargs():
    seen = []

    class Spy(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append((func, types, args, kwargs))
            return super().__torch_function__(func, types, args, kwargs)

    a = ember.ones(2).as_subclass(Spy)
    a.add(1, alpha=2)
    func, types, args, kwargs = seen[-1]
    assert func is ember.Tensor.add and types == (Spy,) and args[0] is a and args[1] == 1 and kwargs == {"alpha": 2}
    ember.add(a, 1)
    assert seen[-1][0] is ember.add and seen[-1][3] is None


def test_handler_can_replace_the_result():
    class Const(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func is ember.Tensor.sum:
                return 42
            return super().__torch_function__(func, types, args, kwargs)

    a = ember.ones(3).as_subclass(Const)
    assert a.sum() == 42
    assert type(a.mean()) is Const


def test_not_implemented_everywhere_raises_type_error():
    class Refuses(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    class TRefuses(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    message = "Multiple dispatch failed for '{}'; all __torch_function__ handlers returned NotImplemented"
    with pytest.raises(TypeError, match=message.format("torch.add")):
        torch.add(torch.ones(1).as_subclass(TRefuses), 1)
    a = ember.ones(1).as_subclass(Refuses)
    with pytest.raises(TypeError, match=message.format("ember.add") + r":\n\n  - tensor subclass .*Refuses"):
        ember.add(a, 1)
    with pytest.raises(TypeError, match=message.format("ember.Tensor.sum")):
        a.sum()


def test_most_derived_subclass_wins():
    class Base(ember.Tensor):
        pass

    class Derived(Base):
        pass

    class TBase(torch.Tensor):
        pass

    class TDerived(TBase):
        pass

    assert type(torch.ones(1).as_subclass(TBase) + torch.ones(1).as_subclass(TDerived)) is TDerived
    assert type(ember.ones(1).as_subclass(Base) + ember.ones(1).as_subclass(Derived)) is Derived
    assert type(ember.add(ember.ones(1).as_subclass(Base), ember.ones(1).as_subclass(Derived))) is Derived


def test_gradients_through_a_subclass(device):
    """Autograd runs through subclass instances: a subclass leaf gets a plain ``.grad`` (as PyTorch's)."""
    values = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    results = {}
    for lib, functional, cls, kwargs in ((torch, TF, TORCH_SUB, {}), (ember, F, EMBER_SUB, {"device": device})):
        leaf = lib.tensor(values, **kwargs).as_subclass(cls).requires_grad_()
        x = lib.tensor(values, requires_grad=True, **kwargs)
        a = x.as_subclass(cls)
        y = (functional.softplus(leaf * a) + lib.exp(a).sum(0)).sum()
        assert type(y) is cls and y.requires_grad and y.grad_fn is not None
        y.backward()
        results[lib] = (leaf.is_leaf, type(leaf.grad).__name__, leaf.grad.cpu().numpy(), x.grad.cpu().numpy())
    (tl, tt, tg, tx), (el, et, eg, ex) = results[torch], results[ember]
    assert (el, et) == (tl, tt) == (True, "Tensor")
    np.testing.assert_allclose(eg, tg, rtol=1e-12)
    np.testing.assert_allclose(ex, tx, rtol=1e-12)


def test_parameter_does_not_propagate(device):
    """Operations on a Parameter (and on a subclass of it) give plain tensors, as PyTorch's."""

    class MyParam(ember.nn.Parameter):
        pass

    for p in (ember.nn.Parameter(ember.ones(2, device=device)), MyParam(ember.ones(2, device=device))):
        for result in (p + 1, p.sum(), p[0], p.detach(), ember.add(p, 1), F.relu(p), p * p, p.data):
            assert type(result) is ember.Tensor
    tp = torch.nn.Parameter(torch.ones(2))
    assert type(tp + 1) is torch.Tensor and type(torch.add(tp, 1)) is torch.Tensor
    assert type(ember.nn.Buffer(ember.ones(2)) + 1) is ember.Tensor
    assert ember.nn.Parameter.__torch_function__ is ember._C._disabled_torch_function_impl


def test_parameter_subclass_with_its_own_handler():
    seen = []

    class Traced(ember.nn.Parameter):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func.__name__)
            with ember._C.DisableTorchFunctionSubclass():
                return func(*args, **(kwargs or {}))

    p = Traced(ember.ones(2))
    seen.clear()
    assert type(p * 2) is ember.Tensor and seen == ["mul"]


def test_plain_tensors_keep_plain_results():
    """Once a subclass takes part in the protocol, Tensor's own methods look at their arguments (so that
    ``plain.add(sub)`` reaches the subclass's handler): each is its function wrapped once, aliases one
    wrapper (Tensor.nelement is Tensor.numel), and plain operands give plain tensors."""
    from ember import tensor_methods

    checked = ember.Tensor.__dict__["add"].__wrapped__  # the method (which refuses out=) of the table's op
    assert checked._ember_op is tensor_methods.ARITHMETIC["add"]
    assert ember.Tensor.nelement is ember.Tensor.numel and ember.Tensor.add is ember.Tensor.__dict__["add"]
    x = ember.ones(2)
    assert type(x + x) is ember.Tensor and type(ember.add(x, x)) is ember.Tensor and type(x.sum()) is ember.Tensor
    assert type(EMBER_SUB.__dict__["add"]).__name__ == "function" and EMBER_SUB.add is not ember.Tensor.add


def test_isinstance_and_attributes():
    a = ember.ones(2).as_subclass(EMBER_SUB)
    b = a * 2
    assert isinstance(a, ember.Tensor) and isinstance(b, EMBER_SUB) and ember.is_tensor(b)
    assert b.shape == (2,) and b.dtype is ember.float32 and b.tolist() == [2.0, 2.0] and len(b) == 2


def test_repr_names_the_subclass():
    t = torch.ones(2).as_subclass(TORCH_SUB) + 1
    e = ember.ones(2).as_subclass(EMBER_SUB) + 1
    assert repr(e) == repr(t).replace("TORCH", "EMBER")


class PickledSub(ember.Tensor):
    pass


class TorchPickledSub(torch.Tensor):
    pass


def test_pickle_keeps_the_subclass_and_attributes():
    a = ember.tensor([1.0, 2.0]).as_subclass(PickledSub)
    a.tag = "kept"
    b = pickle.loads(pickle.dumps(a))
    t = torch.tensor([1.0, 2.0]).as_subclass(TorchPickledSub)
    t.tag = "kept"
    u = pickle.loads(pickle.dumps(t))
    assert type(u) is TorchPickledSub and u.tag == "kept"
    assert type(b) is PickledSub and b.tag == "kept" and b.tolist() == [1.0, 2.0]


def test_disable_torch_function_subclass():
    a = ember.ones(2).as_subclass(EMBER_SUB)
    ta = torch.ones(2).as_subclass(TORCH_SUB)
    with torch._C.DisableTorchFunctionSubclass():
        assert type(ta + 1) is torch.Tensor
    with ember._C.DisableTorchFunctionSubclass():
        assert type(a + 1) is ember.Tensor and type(ember.add(a, 1)) is ember.Tensor
    with ember._C.DisableTorchFunction():
        assert type(a.sum()) is ember.Tensor
    assert type(a + 1) is EMBER_SUB


def test_overrides_functions():
    from ember import overrides

    a = ember.ones(2).as_subclass(EMBER_SUB)
    p = ember.nn.Parameter(ember.ones(2))
    ta = torch.ones(2).as_subclass(TORCH_SUB)
    tp = torch.nn.Parameter(torch.ones(2))
    t = torch.overrides
    cases = [((ta,), (a,)), ((torch.ones(1), 1.0), (ember.ones(1), 1.0)), ((tp,), (p,)), ((1, ta), (1, a))]
    for targs, eargs in cases:
        assert overrides.has_torch_function(eargs) == t.has_torch_function(targs)
        assert overrides.has_torch_function_variadic(*eargs) == t.has_torch_function_variadic(*targs)
        assert overrides.has_torch_function_unary(eargs[0]) == t.has_torch_function_unary(targs[0])
    for tv, ev in ((ta, a), (torch.ones(1), ember.ones(1)), (tp, p), ([1.0], [1.0]), (3, 3)):
        assert overrides.is_tensor_like(ev) == t.is_tensor_like(tv)
    assert overrides.is_tensor_method_or_property(ember.Tensor.add)
    assert overrides.is_tensor_method_or_property(ember.Tensor.T.__get__)
    assert not overrides.is_tensor_method_or_property(ember.nn.functional.relu)
    assert len(overrides.get_default_nowrap_functions()) == len(t.get_default_nowrap_functions()) == 3
    assert ember.Tensor.grad.__get__ in overrides.get_default_nowrap_functions()
    assert ember.zeros in overrides.get_ignored_functions() and torch.zeros in t.get_ignored_functions()


def test_handle_torch_function_in_a_python_function():
    def scale(x, factor=2.0):
        if ember.overrides.has_torch_function_unary(x):
            return ember.overrides.handle_torch_function(scale, (x,), x, factor=factor)
        return x * factor

    seen = []

    class Spy(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append((func, kwargs))
            return super().__torch_function__(func, types, args, kwargs)

    result = scale(ember.ones(2).as_subclass(Spy), factor=3.0)
    assert type(result) is Spy and result.tolist() == [3.0, 3.0] and seen[0] == (scale, {"factor": 3.0})


def test_torch_function_mode_sees_plain_tensor_calls(device):
    def program(lib, functional, **kwargs):
        x = lib.ones(2, 2, **kwargs)
        y = lib.add(x, 1)
        z = (y * 2).sum()
        functional.relu(x)
        return z

    class TMode(torch.overrides.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    class EMode(ember.overrides.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    before = ember.Tensor.__dict__["sum"]
    with TMode() as tmode:
        tz = program(torch, TF)
    with EMode() as emode:
        ez = program(ember, F, device=device)
    assert ez.item() == tz.item() == 16.0
    assert emode.names == tmode.names
    assert ember.Tensor.__dict__["sum"] is before  # the surface is back after the mode
    x = ember.ones(1)
    with EMode() as outer:
        with ember._C.DisableTorchFunction():
            x + 1
    assert outer.names == []


def test_modules_and_losses_keep_the_subclass(device):
    """Layers and losses (through ``ember.nn.functional``) give the subclass, as PyTorch's."""
    got, expected = [], []
    for lib, cls, out, kwargs in ((torch, TORCH_SUB, expected, {}), (ember, EMBER_SUB, got, {"device": device})):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)).to(**kwargs)
        a = lib.ones(2, 3, **kwargs).as_subclass(cls)
        y = model(a)
        loss = lib.nn.functional.cross_entropy(y, lib.tensor([0, 1], **kwargs))
        grads = lib.autograd.grad(loss, list(model.parameters()))
        out += [type(y).__name__, type(loss).__name__, y.requires_grad, [type(g).__name__ for g in grads]]
    assert got == expected


def test_autograd_grad_of_a_subclass_input():
    for lib, cls in ((torch, TORCH_SUB), (ember, EMBER_SUB)):
        x = lib.tensor([1.0, 2.0]).as_subclass(cls).requires_grad_()
        (g,) = lib.autograd.grad((x * x).sum(), x)
        assert type(g) is cls and g.tolist() == [2.0, 4.0]


def test_make_subclass():
    """``Tensor._make_subclass``: a leaf of the class over the data's memory, as PyTorch's."""
    for lib, cls in ((torch, TORCH_SUB), (ember, EMBER_SUB)):
        data = lib.ones(2, requires_grad=True)
        t = lib.Tensor._make_subclass(cls, data, True)
        assert type(t) is cls and t.requires_grad and t.is_leaf and t.grad_fn is None
        u = lib.Tensor._make_subclass(cls, data)
        assert not u.requires_grad and u.is_leaf
        with lib.no_grad():
            data[0] = 5.0
        assert t.tolist() == u.tolist() == [5.0, 1.0]
        (t * 3).sum().backward()
        assert type(t.grad) is lib.Tensor and t.grad.tolist() == [3.0, 3.0] and data.grad is None
    with pytest.raises(TypeError, match="_make_subclass"):
        ember.Tensor._make_subclass(EMBER_SUB, [1.0])


def test_save_and_load_keep_the_subclass(tmp_path):
    a = ember.tensor([1.0, 2.0]).as_subclass(PickledSub)
    ember.save(a, tmp_path / "a.pt")
    b = ember.load(tmp_path / "a.pt", weights_only=False)
    assert type(b) is PickledSub and b.tolist() == [1.0, 2.0]


def test_duck_type_with_torch_function():
    """An object that is no tensor but implements ``__torch_function__`` handles ember's functions."""

    class Duck:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ("handled", func.__name__, types)

    class TDuck(Duck):
        pass

    assert torch.add(TDuck(), 1) == ("handled", "add", (TDuck,))
    assert ember.add(Duck(), 1) == ("handled", "add", (Duck,))
    assert F.relu(Duck()) == ("handled", "relu", (Duck,))
    assert ember.overrides.is_tensor_like(Duck()) and ember.overrides.has_torch_function_unary(Duck())


def test_opted_out_bases_and_plain_method_handlers():
    """A subclass of an opted-out class that defines its own handler takes part, and ``super()`` reaches
    the opt-out (plain results); a handler written as a plain method still runs, with PyTorch's warning."""
    results = []
    for lib in (torch, ember):

        class Off(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        class On(Off):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return super().__torch_function__(func, types, args, kwargs)

        class Plain(lib.Tensor):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                return (type(self).__name__, func.__name__)

        with pytest.warns(UserWarning, match="as a plain method is deprecated"):
            plain = lib.ones(1).as_subclass(Plain) * 2
        results.append((type(lib.ones(1).as_subclass(Off) + 1), type(lib.ones(1).as_subclass(On) + 1), plain))
    (t_off, t_on, t_plain), (e_off, e_on, e_plain) = results
    assert (t_off, t_on) == (torch.Tensor, torch.Tensor) and (e_off, e_on) == (ember.Tensor, ember.Tensor)
    assert t_plain == e_plain == ("Plain", "mul")


def test_layers_reach_the_handler_through_the_functional_form(device):
    """A layer's ``forward`` calls its functional form by whatever name it holds (``nn.ReLU`` keeps
    ``F.relu`` as a class attribute): the handler sees that one call, as PyTorch's."""
    names = {}
    for lib, cls, kwargs in ((torch, TORCH_LOGGED, {}), (ember, EMBER_LOGGED, {"device": device})):
        nn = lib.nn
        layers = [nn.ReLU(), nn.Dropout(0.0), nn.LayerNorm(3).to(**kwargs), nn.Softmax(-1), nn.GELU(), nn.Tanh()]
        a = lib.ones(2, 3, **kwargs).as_subclass(cls)
        cls.calls.clear()
        y = nn.Sequential(*layers)(a)
        loss = nn.functional.cross_entropy(y, lib.tensor([0, 1], **kwargs))
        assert type(y) is cls and type(loss) is cls
        names[lib] = [f.__name__ for f, _ in cls.calls]
    assert names[ember] == names[torch]


def test_functional_forms_keep_their_identity_and_signature():
    import inspect

    assert F.relu is ember.nn.functional.activation.relu
    assert str(inspect.signature(F.relu)) == "(input, inplace=False)"
    assert F.relu.__name__ == "relu" and "Rectified" in F.relu.__doc__
    assert pickle.loads(pickle.dumps(F.relu)) is F.relu


def test_mode_and_switch_queries():
    from ember import overrides

    assert ember._C._is_torch_function_enabled() is torch._C._is_torch_function_enabled() is True
    with ember._C.DisableTorchFunctionSubclass(), torch._C.DisableTorchFunctionSubclass():
        assert ember._C._is_torch_function_enabled() is torch._C._is_torch_function_enabled() is False
    assert overrides._get_current_function_mode() is None and overrides._get_current_function_mode_stack() == []
    with overrides.BaseTorchFunctionMode() as mode:
        assert overrides._get_current_function_mode() is mode and overrides._is_torch_function_mode_enabled()
        assert type(ember.ones(2) + 1) is ember.Tensor
    assert not overrides._is_torch_function_mode_enabled()


def test_wrap_torch_function_against_torch():
    for lib in (torch, ember):

        @lib.overrides.wrap_torch_function(lambda x, y=None: (x, y))
        def combine(x, y=None):
            return x + (y if y is not None else 0)

        class Sub(lib.Tensor):
            pass

        assert type(combine(lib.ones(1), lib.ones(1).as_subclass(Sub))) is Sub
        assert type(combine(lib.ones(1))) is lib.Tensor


def test_subclass_constructor():
    """``M([1.0, 2.0])``, ``M(2, 3)``, ``M(tensor)`` (aliasing it) make instances of the subclass, as PyTorch's."""
    for lib in (torch, ember):

        class Made(lib.Tensor):
            pass

        assert type(Made([1.0, 2.0])) is Made and Made([1.0, 2.0]).tolist() == [1.0, 2.0]
        assert type(Made(2, 3)) is Made and tuple(Made(2, 3).shape) == (2, 3) and Made(2, 3).dtype is lib.float32
        x = lib.ones(2)
        alias = Made(x)
        x[0] = 5.0
        assert type(alias) is Made and alias.tolist() == [5.0, 1.0] and alias.is_leaf
        assert type(lib.Tensor([1.0])) is lib.Tensor and type(lib.FloatTensor([1.0])) is lib.Tensor


def _mode_and_subclass_log(lib):
    log = []

    class Sub(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append(("sub", func.__name__, func is lib.Tensor.sum))
            return super().__torch_function__(func, types, args, kwargs)

    class Mode(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append(("mode", func.__name__, tuple(t.__name__ for t in types), func is lib.Tensor.sum))
            return func(*args, **(kwargs or {}))

    a = lib.ones(2, 2).as_subclass(Sub)
    with Mode():
        results = (a.sum(), lib.zeros(2), lib.tensor([1.0]), a.T, lib.ones(2).sum())
    return log, [type(r).__name__ for r in results]


def test_mode_sees_factories_and_then_the_subclass_handler():
    """A mode sees factory functions and calls on subclass instances first; calling ``func`` then reaches the
    subclass's handler, which sees the same ``func`` (``func is Tensor.sum`` holds in both), as PyTorch's."""
    assert _mode_and_subclass_log(ember) == _mode_and_subclass_log(torch)


# -- once the checks are on (this module defines subclasses): what plain programs see stays the same --------
def test_warnings_still_point_at_the_caller():
    with pytest.warns(UserWarning, match="To copy construct from a tensor") as record:
        ember.tensor(ember.ones(2, requires_grad=True))
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="To copy construct from a tensor") as record:
        ember.nn.functional.linear(ember.tensor(ember.ones(2)), ember.ones(3, 2))
    assert record[0].filename == __file__


def test_pytorch_tensors_are_read_not_dispatched_to():
    source = torch.arange(3.0)
    assert ember.from_dlpack(source).tolist() == [0.0, 1.0, 2.0]
    assert ember.as_tensor(source.numpy()).tolist() == [0.0, 1.0, 2.0]


def test_one_function_under_every_name():
    import ember.functional
    import ember.utils.dlpack

    assert ember.functional.einsum is ember.einsum and ember.utils.dlpack.from_dlpack is ember.from_dlpack
    assert ember.functional.pca_lowrank is ember.pca_lowrank
