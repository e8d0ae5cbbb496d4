"""nn.Module API off the main road (hooks, state dicts, attributes, moves, containers), run side by side with torch."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")


def _outcome(fn, lib):
    """What ``fn(lib)`` returns, or the type of the exception it raises."""
    try:
        return fn(lib)
    except Exception as error:  # the outcome compared is the exception's type
        return type(error)


def _same(fn):
    """``fn`` gives the same outcome on ember and on torch; returns ember's."""
    ours, theirs = _outcome(fn, ember), _outcome(fn, torch)
    assert ours == theirs, (ours, theirs)
    return ours


def _lists(grads):
    return [None if g is None else g.tolist() for g in grads]


# -- full backward hooks ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_full_backward_hook_grad_input_holds_zeros_for_inputs_without_gradient(dtype):
    def run(lib):
        class TwoInputs(lib.nn.Module):
            def forward(self, a, b, c, unused):
                return a * 2, b + 1, a.detach()

        seen = []
        module = TwoInputs()
        module.register_full_backward_hook(lambda m, gi, go: seen.append((_lists(gi), _lists(go))))
        a = lib.ones(2, dtype=getattr(lib, dtype), requires_grad=True)
        unused = lib.ones(3, dtype=getattr(lib, dtype), requires_grad=True)
        x, _, _ = module(a, lib.ones(2, dtype=getattr(lib, dtype)), 3, unused)
        x.sum().backward()
        return seen, unused.grad.tolist(), a.grad.tolist()

    assert _same(run) == (
        [([[2.0, 2.0], [0.0, 0.0], None, [0.0, 0.0, 0.0]], [[1.0, 1.0], None, None])],
        [0.0, 0.0, 0.0],
        [2.0, 2.0],
    )


@pytest.mark.parametrize(
    "body",
    [
        lambda x: x.relu_(),  # the module's input, written in place inside forward
        lambda x: x.mul_(2),
    ],
)
def test_full_backward_hook_refuses_in_place_writes_into_the_hooked_tensors(body):
    def run(lib):
        class InPlace(lib.nn.Module):
            def forward(self, x):
                return body(x)

        module = InPlace()
        module.register_full_backward_hook(lambda *args: None)
        return module(lib.ones(2, requires_grad=True) * 1)

    assert _same(run) is RuntimeError
    with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view and is being modified inplace"):
        run(ember)


def test_full_backward_hook_refuses_in_place_writes_into_the_output():
    def run(lib):
        module = lib.nn.Linear(2, 2)
        module.register_full_backward_hook(lambda *args: None)
        y = module(lib.ones(2, requires_grad=True))
        y.add_(1)

    assert _same(run) is RuntimeError


def test_full_backward_hook_function_is_named_and_viewed_as_torch():
    def run(lib):
        class Keep(lib.nn.Module):
            def forward(self, a):
                self.seen = a
                return a * 2

        module = Keep()
        module.register_full_backward_hook(lambda *args: None)
        x = lib.ones(2, requires_grad=True)
        y = module(x)
        return y.grad_fn.name(), module.seen._base is x, module.seen is x, y._base is not None

    assert _same(run) == ("BackwardHookFunctionBackward", True, False, True)


def test_full_backward_hook_result_read_as_a_sequence():
    """A hook returning a tensor instead of a tuple: torch reads it as a sequence (by its first dimension)."""

    def run(lib, batch):
        module = lib.nn.Linear(2, 2)
        module.register_full_backward_hook(lambda m, gi, go: gi[0] * 0)
        x = lib.ones(batch, 2, requires_grad=True)
        module(x).sum().backward()

    assert _same(lambda lib: run(lib, 1)) is RuntimeError  # a row where the whole gradient was expected
    assert _same(lambda lib: run(lib, 2)) is RuntimeError  # two "gradients" for one input


@pytest.mark.parametrize("kind", ["linear", "dict output", "two outputs", "non-tensor input", "one node"])
def test_legacy_backward_hook_deprecation_warnings(kind):
    def run(lib):
        import warnings

        class Forward(lib.nn.Module):
            def forward(self, x, *rest):
                if kind == "dict output":
                    return {"a": x * 2}
                if kind == "two outputs":
                    return x * 2, x + 1
                return x.relu() if kind == "one node" else x * 2

        module = lib.nn.Linear(2, 2) if kind == "linear" else Forward()
        module.register_backward_hook(lambda *args: None)
        x = lib.ones(1, 2, requires_grad=True)
        args = (x * 1,) if kind == "one node" else (x, 3) if kind == "non-tensor input" else (x,)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module(*args)
        return [(w.category, str(w.message)) for w in caught]

    expected_count = 0 if kind == "one node" else 1
    assert len(_same(run)) == expected_count


@pytest.mark.parametrize("hooked", ["register_full_backward_hook", "register_full_backward_pre_hook"])
@pytest.mark.parametrize(
    "replace", [lambda g: g.double(), lambda g: g[0], lambda g: 3], ids=["dtype", "shape", "not a tensor"]
)
def test_full_backward_hook_replacements_are_checked_as_torch(hooked, replace):
    def run(lib):
        module = lib.nn.Linear(2, 2)
        getattr(module, hooked)(lambda m, *grads: (replace(grads[0][0]),))
        module(lib.ones(1, 2, requires_grad=True)).sum().backward()

    assert _same(run) in (RuntimeError, TypeError)
    messages = []
    for lib in (ember, torch):
        with pytest.raises((RuntimeError, TypeError)) as error:
            run(lib)
        messages.append(str(error.value).replace(lib.__name__, "lib"))
    assert messages[0] == messages[1]


# -- global hooks ------------------------------------------------------------------------------------------------
def test_global_registration_hooks_see_and_replace_what_modules_register():
    def run(lib):
        hooks = lib.nn.modules.module
        seen = []
        handles = [
            hooks.register_module_buffer_registration_hook(lambda m, n, b: seen.append(("b", n, b is None))),
            hooks.register_module_parameter_registration_hook(lambda m, n, p: seen.append(("p", n, p is None))),
            hooks.register_module_module_registration_hook(lambda m, n, s: seen.append(("m", n, s is None))),
            hooks.register_module_buffer_registration_hook(lambda m, n, b: None if b is None else b * 0 + 9),
            hooks.register_module_module_registration_hook(lambda m, n, s: lib.nn.Tanh() if n == "act" else None),
        ]
        try:
            module = lib.nn.Module()
            module.a = lib.nn.Parameter(lib.ones(1))
            module.a = None
            module.register_buffer("b", lib.ones(1))
            module.b = lib.zeros(1)
            module.b = None
            module.act = lib.nn.ReLU()
            module.act = None
            module.add_module("d", None)
            module.register_buffer("e", lib.ones(1))
            module.f = lib.nn.Buffer(lib.ones(1))
            container = lib.nn.Sequential(lib.nn.ReLU())
            container.append(lib.nn.ReLU())
            container.insert(0, lib.nn.ReLU())
            lib.nn.ParameterList([lib.ones(1)])
        finally:
            for handle in handles:
                handle.remove()
        return seen, module.e.tolist()

    assert _same(run)[0][:10] == [
        ("p", "a", False),
        ("b", "b", False),
        ("b", "b", False),
        ("b", "b", True),
        ("m", "act", False),
        ("m", "act", True),
        ("m", "d", True),
        ("b", "e", False),
        ("b", "f", False),
        ("m", "0", False),
    ]
    assert _same(run)[1] == [9.0]


def test_global_forward_hook_with_kwargs_and_always_call():
    def run(lib):
        hooks = lib.nn.modules.module
        seen = []

        class Scaled(lib.nn.Module):
            def forward(self, x, scale=1.0):
                if scale < 0:
                    raise ValueError("negative scale")
                return x * scale

        handle = hooks.register_module_forward_hook(
            lambda *args: seen.append(len(args)), with_kwargs=True, always_call=True
        )
        try:
            Scaled()(lib.ones(1), scale=2.0)
            try:
                Scaled()(lib.ones(1), scale=-1.0)
            except ValueError:
                pass
        finally:
            handle.remove()
        return seen

    assert _same(run) == [4, 3]  # after an error, torch calls a global hook without the kwargs


def test_always_called_hook_sees_the_arguments_and_output_as_far_as_the_call_got():
    def run(lib):
        seen = []

        def failing(module, args, output):
            raise KeyError("hook")

        module = lib.nn.Identity()
        module.register_forward_pre_hook(lambda m, args: (args[0] * 3,))
        module.register_forward_hook(failing)
        module.register_forward_hook(
            lambda m, args, out: seen.append((args[0].tolist(), out.tolist())), always_call=True
        )
        try:
            module(lib.ones(1))
        except KeyError:
            pass
        return seen

    assert _same(run) == [([3.0], [3.0])]


def test_global_legacy_backward_hook(monkeypatch):
    def run(lib):
        hooks = lib.nn.modules.module
        monkeypatch.setattr(hooks, "_global_is_full_backward_hook", None)
        seen = []
        handle = hooks.register_module_backward_hook(lambda m, gi, go: seen.append(type(m).__name__))
        try:
            module = lib.nn.Linear(1, 1)  # alive until backward: the hook holds it weakly
            with pytest.warns(FutureWarning, match="non-full backward hook"):
                output = module(lib.ones(1, requires_grad=True))
            output.sum().backward()
        finally:
            handle.remove()
        seen.append(_outcome(lambda lib: hooks.register_module_full_backward_hook(lambda *args: None), lib))
        return seen

    assert _same(run) == ["Linear", RuntimeError]


# -- state dicts -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_state_dict_into_a_scalar_takes_only_a_one_element_vector(dtype):
    def run(lib, saved):
        module = lib.nn.Module()
        module.p = lib.nn.Parameter(lib.tensor(0.0, dtype=getattr(lib, dtype)))
        module.load_state_dict({"p": lib.tensor(saved, dtype=getattr(lib, dtype))})
        return module.p.item()

    assert _same(lambda lib: run(lib, [5.0])) == 5.0
    assert _same(lambda lib: run(lib, [5.0, 6.0])) is RuntimeError  # was silently 5.0


def test_load_state_dict_size_mismatch_of_a_scalar_buffer_is_reported():
    def run(lib):
        module = lib.nn.BatchNorm1d(2)
        state = module.state_dict()
        state["num_batches_tracked"] = lib.tensor([1, 2])
        module.load_state_dict(state)

    assert _same(run) is RuntimeError
    with pytest.raises(RuntimeError, match=r"size mismatch for num_batches_tracked: copying a param with shape"):
        run(ember)


def test_incompatible_keys_type_and_repr():
    def run(lib):
        module = lib.nn.Linear(2, 2)
        state = module.state_dict()
        del state["bias"]
        state["foo"] = lib.ones(1)
        result = module.load_state_dict(state, strict=False)
        clean = module.load_state_dict(module.state_dict())
        return type(result).__name__, repr(result), str(result), repr(clean), tuple(result)

    assert _same(run) == (
        "_IncompatibleKeys",
        "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['foo'])",
        "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['foo'])",
        "<All keys matched successfully>",
        (["bias"], ["foo"]),
    )


def test_state_dict_post_hooks_public_and_private():
    def run(lib, register, result):
        module = lib.nn.Linear(1, 1)
        getattr(module, register)(lambda m, state, prefix, local_metadata: result)
        return sorted(module.state_dict())

    assert _same(lambda lib: run(lib, "register_state_dict_post_hook", None)) == ["bias", "weight"]
    assert _same(lambda lib: run(lib, "register_state_dict_post_hook", {"a": 1})) is RuntimeError
    assert _same(lambda lib: run(lib, "_register_state_dict_hook", {"a": 1})) == ["a"]

    def both(lib):
        def hook(m, state, prefix, local_metadata):
            return None

        module = lib.nn.Linear(1, 1)
        module.register_state_dict_post_hook(hook)
        module._register_state_dict_hook(hook)

    assert _same(both) is RuntimeError


def test_private_load_state_dict_pre_hook_with_and_without_module():
    def run(lib):
        seen = []
        model = lib.nn.Sequential(lib.nn.Linear(1, 1))
        model[0]._register_load_state_dict_pre_hook(lambda state, prefix, *rest: seen.append((prefix, rest[1])))
        model[0]._register_load_state_dict_pre_hook(
            lambda module, state, prefix, *rest: seen.append(type(module).__name__), with_module=True
        )
        model.load_state_dict(model.state_dict())
        return seen

    assert _same(run) == [("0.", True), "Linear"]


def test_load_state_dict_post_hook_returning_a_value_is_an_assertion_error():
    def run(lib):
        module = lib.nn.Linear(1, 1)
        module.register_load_state_dict_post_hook(lambda m, keys: keys)
        module.load_state_dict(module.state_dict())

    assert _same(run) is AssertionError


def test_load_from_state_dict_override_sees_the_metadata():
    def run(lib):
        class Migrating(lib.nn.Linear):
            def _load_from_state_dict(self, state, prefix, local_metadata, *rest):
                self.saw_metadata = hasattr(state, "_metadata")
                super()._load_from_state_dict(state, prefix, local_metadata, *rest)

        module = Migrating(1, 1)
        module.load_state_dict(module.state_dict())
        return module.saw_metadata

    assert _same(run) is True


# -- moves and casts ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_to_a_complex_dtype_casts_the_floating_parameters_and_warns(dtype):
    def run(lib):
        module = lib.nn.BatchNorm1d(2)
        with pytest.warns(UserWarning, match="Complex modules are a new feature"):
            module.to(getattr(lib, dtype))
        return str(module.weight.dtype), str(module.running_mean.dtype), str(module.num_batches_tracked.dtype)

    ours = _same(lambda lib: tuple(s.split(".")[-1] for s in run(lib)))
    assert ours == (dtype, dtype, "int64")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_a_floating_dtype_casts_the_complex_parameters(dtype):
    def run(lib):
        module = lib.nn.Module()
        module.p = lib.nn.Parameter(lib.tensor([1 + 2j, 3 - 1j]))
        module.to(getattr(lib, dtype))  # warns that the imaginary part is discarded (torch: once a process)
        return module.p.tolist(), str(module.p.dtype).split(".")[-1], module.p.requires_grad

    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert _same(run) == ([1.0, 3.0], dtype, True)


def test_float_and_half_leave_complex_parameters_alone():
    def run(lib):
        module = lib.nn.Module()
        module.p = lib.nn.Parameter(lib.ones(2, dtype=lib.complex64))
        return [str(getattr(module, cast)().p.dtype).split(".")[-1] for cast in ("double", "half", "float")]

    assert _same(run) == ["complex64"] * 3


# -- attributes and calls ----------------------------------------------------------------------------------------
def test_set_submodule_refuses_a_non_module_with_value_error():
    def run(lib):
        lib.nn.Sequential(lib.nn.Linear(1, 1)).set_submodule("0", 3)

    assert _same(run) is ValueError


def test_call_goes_through_wrapped_and_call_impl():
    def run(lib):
        class Logged(lib.nn.Linear):
            def _call_impl(self, *args, **kwargs):
                self.calls = getattr(self, "calls", 0) + 1
                return super()._call_impl(*args, **kwargs)

        module = Logged(1, 1)
        module(lib.ones(1))
        module._wrapped_call_impl(lib.ones(1))
        return module.calls, module._compiled_call_impl, type(module).__call__ is lib.nn.Module.__call__

    assert _same(run) == (2, None, True)


def test_call_super_init_hands_the_arguments_to_the_next_class():
    def run(lib):
        class Mixin:
            def __init__(self, *args, **kwargs):
                self.mixin_args = (args, kwargs)

        class WithMixin(lib.nn.Module, Mixin):
            call_super_init = True

            def __init__(self):
                super().__init__(1, x=2)

        class Plain(lib.nn.Module, Mixin):
            def __init__(self):
                super().__init__(x=2)

        return WithMixin().mixin_args, _outcome(lambda lib: Plain(), lib)

    assert _same(run) == (((1,), {"x": 2}), TypeError)


def test_buffer_assignment_on_a_subclass_whose_register_buffer_has_no_persistent_argument():
    def run(lib, persistent):
        class OldStyle(lib.nn.Module):
            def register_buffer(self, name, tensor):
                super().register_buffer(name, tensor)

        module = OldStyle()
        lib.nn.Module.register_buffer(module, "b", lib.ones(1), persistent=persistent)
        module.b = lib.zeros(1)
        return module.b.tolist(), sorted(module.state_dict())

    assert _same(lambda lib: run(lib, True)) == ([0.0], ["b"])
    assert _same(lambda lib: run(lib, False)) is RuntimeError


# -- containers --------------------------------------------------------------------------------------------------
def test_parameter_dict_popitem_of_an_empty_dict_is_a_key_error():
    assert _same(lambda lib: lib.nn.ParameterDict().popitem()) is KeyError
