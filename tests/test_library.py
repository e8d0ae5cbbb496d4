"""``ember.library`` against ``torch.library``: the same operator registered in both, called on the
same inputs, through ``ember.ops.<namespace>``, with and without autograd, on the meta device, and
checked by ``opcheck``. Operator names are global to the process, so each test makes its own."""

import gc
import itertools
from collections.abc import Sequence

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_names = itertools.count()


def _qualname(stem):
    return f"ember_tests::{stem}_{next(_names)}"


def _both(make):
    """``make(module, qualname)`` run for ember and torch with one fresh name."""
    qualname = _qualname(make.__name__)
    return make(ember, qualname), make(torch, qualname), qualname


def _scaled_sin(module, qualname):
    @module.library.custom_op(qualname, mutates_args=())
    def op(x: module.Tensor, scale: float = 2.0) -> module.Tensor:
        return x.sin() * scale

    return op


def _ops_attribute(module, qualname):
    namespace, name = qualname.split("::")
    return getattr(getattr(module.ops, namespace), name)


def _same(ours, theirs, **tol):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **tol)


def test_custom_op_is_called_directly_and_through_ops():
    ours, theirs, qualname = _both(_scaled_sin)
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    _same(ours(ember.tensor(x)), theirs(torch.tensor(x)))
    _same(
        _ops_attribute(ember, qualname)(ember.tensor(x), scale=3.0),
        _ops_attribute(torch, qualname)(torch.tensor(x), scale=3.0),
    )
    _same(_ops_attribute(ember, qualname).default(ember.tensor(x)), theirs(torch.tensor(x)))
    assert repr(ours) == repr(theirs)
    with pytest.raises(AttributeError):
        ember.ops.ember_tests.not_registered  # noqa: B018


def test_backward_without_a_formula_raises_as_torch_does():
    ours, theirs, _ = _both(_scaled_sin)
    with pytest.raises(RuntimeError) as torch_error:
        theirs(torch.ones(2, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError) as ember_error:
        ours(ember.ones(2, requires_grad=True)).sum().backward()
    assert str(ember_error.value) == str(torch_error.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_register_autograd_gives_torchs_gradient(dtype):
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.scale = inputs[1]

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos() * ctx.scale, None

    ours, theirs, _ = _both(_scaled_sin)
    for op in (ours, theirs):
        op.register_autograd(backward, setup_context=setup_context)
    x = np.linspace(-2, 2, 7).astype(dtype)
    mine, torchs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_mine, out_torch = ours(mine, 1.5), theirs(torchs, 1.5)
    assert out_mine.grad_fn.name() == out_torch.grad_fn.name()
    out_mine.sum().backward()
    out_torch.sum().backward()
    _same(mine.grad, torchs.grad, rtol=1e-6)


def test_meta_tensors_need_a_fake_impl():
    ours, theirs, _ = _both(_scaled_sin)
    with pytest.raises(RuntimeError, match="no fake impl"):
        theirs(torch.empty(3, device="meta"))
    with pytest.raises(RuntimeError, match="no fake impl"):
        ours(ember.empty(3, device="meta"))
    ours.register_fake(lambda x, scale=2.0: ember.empty_like(x))
    result = ours(ember.empty(2, 3, device="meta"))
    assert result.is_meta and result.shape == (2, 3)


def test_register_kernel_overrides_the_device():
    ours, theirs, qualname = _both(_scaled_sin)
    ember.library.register_kernel(qualname, "cpu", lambda x, scale=2.0: x.cos() * scale)
    theirs.register_kernel("cpu")(lambda x, scale=2.0: x.cos() * scale)
    _same(ours(ember.zeros(2)), theirs(torch.zeros(2)))


def test_device_types_restrict_the_kernel():
    def cuda_only(module, qualname):
        return module.library.custom_op(qualname, mutates_args=(), device_types="cuda")(_add_one(module))

    ours, theirs, _ = _both(cuda_only)
    with pytest.raises(NotImplementedError) as torch_error:
        theirs(torch.zeros(2))
    with pytest.raises(NotImplementedError) as ember_error:
        ours(ember.zeros(2))
    assert str(ember_error.value).split(".")[0] == str(torch_error.value).split(".")[0]


def _add_one(module):
    def add_one(x: module.Tensor) -> module.Tensor:
        return x + 1

    return add_one


def test_several_results_and_mutation():
    def two(module, qualname):
        @module.library.custom_op(qualname, mutates_args=())
        def op(x: module.Tensor, n: int) -> tuple[module.Tensor, module.Tensor]:
            return x * n, x + n

        return op

    ours, theirs, _ = _both(two)
    for a, b in zip(ours(ember.ones(2), 3), theirs(torch.ones(2), 3)):
        _same(a, b)

    def accumulate(module, qualname):
        @module.library.custom_op(qualname, mutates_args={"x"})
        def op(x: module.Tensor, y: module.Tensor) -> None:
            x.add_(y)

        return op

    ours, theirs, _ = _both(accumulate)
    mine, torchs = ember.zeros(2), torch.zeros(2)
    assert ours(mine, ember.ones(2)) is None and theirs(torchs, torch.ones(2)) is None
    _same(mine, torchs)


def test_an_output_may_not_alias_an_input():
    def identity(module, qualname):
        return module.library.custom_op(qualname, lambda x: x, mutates_args=(), schema="(Tensor x) -> Tensor")

    ours, theirs, _ = _both(identity)
    with pytest.raises(RuntimeError) as torch_error:
        theirs(torch.ones(2))
    with pytest.raises(RuntimeError) as ember_error:
        ours(ember.ones(2))
    assert str(ember_error.value).split(": ", 1)[1] == str(torch_error.value).split(": ", 1)[1]


def _signatures(module):
    T = module.Tensor

    def plain(x: T, n: int, *, alpha: float = 1.0) -> T: ...

    def many(x: T, ys: Sequence[T], s: T | None = None, flag: bool = True, name: str = "x") -> tuple[T, T]: ...

    def listed(
        x: T, sizes: list[int], scales: Sequence[float] | None = None, dtype: module.dtype = module.float64
    ) -> list[T]: ...

    def mutating(x: T, y: T) -> None: ...

    def scalar(x: T, s: int | float | bool) -> int: ...

    return [plain, many, listed, mutating, scalar]


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("mutates_args", [(), "unknown"])
def test_infer_schema_matches_torch(index, mutates_args):
    ours = ember.library.infer_schema(_signatures(ember)[index], mutates_args=mutates_args)
    assert ours == torch.library.infer_schema(_signatures(torch)[index], mutates_args=mutates_args)


@pytest.mark.parametrize(
    "prototype, mutates_args",
    [
        (lambda x: x, ()),
        (lambda module: lambda x, *rest: x, ()),
        ("no_return", ()),
        ("bad_type", ()),
        ("bad_default", ()),
        ("plain", {"z"}),
    ],
)
def test_infer_schema_errors_match_torch(prototype, mutates_args):
    def function(module):
        T = module.Tensor

        def no_return(x: T): ...

        def bad_type(x: T, y: object) -> T: ...

        def bad_default(x: T, sizes: Sequence[int] = (1,)) -> T: ...

        def plain(x: T) -> T: ...

        if isinstance(prototype, str):
            return locals()[prototype]
        return prototype if prototype.__code__.co_varnames == ("x",) else prototype(module)

    with pytest.raises(ValueError) as torch_error:
        torch.library.infer_schema(function(torch), mutates_args=mutates_args)
    with pytest.raises(ValueError) as ember_error:
        ember.library.infer_schema(function(ember), mutates_args=mutates_args)
    assert str(ember_error.value).split(".")[0] == str(torch_error.value).split(".")[0]


def test_library_define_and_impl_by_dispatch_key():
    namespace = _qualname("lib").replace("::", "_")
    libraries = ember.library.Library(namespace, "DEF"), torch.library.Library(namespace, "DEF")
    for lib in libraries:
        assert lib.define("scale(Tensor x, float alpha=2.0) -> Tensor") == "scale"
        lib.impl("scale", lambda x, alpha=2.0: x * alpha, "CompositeImplicitAutograd")
        lib.define("shifted(Tensor x) -> Tensor")
        lib.impl("shifted", lambda x: x + 1, "CPU")
    mine, torchs = ember.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    ours, theirs = (
        getattr(ember.ops, namespace).scale(mine, alpha=3.0),
        getattr(torch.ops, namespace).scale(torchs, alpha=3.0),
    )
    _same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    _same(mine.grad, torchs.grad)
    _same(getattr(ember.ops, namespace).shifted(ember.ones(2)), getattr(torch.ops, namespace).shifted(torch.ones(2)))


def test_define_impl_and_register_autograd_by_name():
    qualname = _qualname("square")
    for module in (ember, torch):
        module.library.define(qualname, "(Tensor x) -> Tensor")
        module.library.impl(qualname, "cpu")(lambda x: x * x)

        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        module.library.register_autograd(
            qualname, lambda ctx, g: 2 * ctx.saved_tensors[0] * g, setup_context=setup_context
        )
    mine, torchs = ember.tensor([1.0, 3.0], requires_grad=True), torch.tensor([1.0, 3.0], requires_grad=True)
    _ops_attribute(ember, qualname)(mine).sum().backward()
    _ops_attribute(torch, qualname)(torchs).sum().backward()
    _same(mine.grad, torchs.grad)


def test_an_autograd_kernel_handles_the_gradient():
    class Doubled(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return op(x)

        @staticmethod
        def backward(ctx, grad):
            return 10 * grad

    qualname = _qualname("doubled")
    ember.library.define(qualname, "(Tensor x) -> Tensor")
    ember.library.impl(qualname, "cpu", lambda x: 2 * x)
    ember.library.impl(qualname, "Autograd", Doubled.apply)
    op = _ops_attribute(ember, qualname)
    x = ember.ones(2, requires_grad=True)
    op(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0])


def _opcheck_both(make, args):
    """``opcheck``'s report on the operator ``make`` registers with an ``empty_like`` fake impl,
    for ember and torch: ``{test: "SUCCESS" or the exception's type name}``, and ember's operator."""
    ours, theirs, _ = _both(make)
    reports = []
    for op, module in ((ours, ember), (theirs, torch)):
        op.register_fake(module.empty_like)
        report = module.library.opcheck(op, args(module), raise_exception=False)
        reports.append({name: value if value == "SUCCESS" else type(value).__name__ for name, value in report.items()})
    return (*reports, ours)


def test_opcheck_passes_what_torch_passes():
    def good(module, qualname):
        return module.library.custom_op(qualname, mutates_args=())(_add_one(module))

    ours, theirs, _ = _opcheck_both(good, lambda m: (m.randn(3),))
    assert ours == theirs == dict.fromkeys(ours, "SUCCESS")


def test_opcheck_finds_an_undeclared_mutation():
    def sneaky(module, qualname):
        @module.library.custom_op(qualname, mutates_args=())
        def op(x: module.Tensor) -> module.Tensor:
            x.add_(1)
            return x + 1

        return op

    ours, theirs, _ = _opcheck_both(sneaky, lambda m: (m.zeros(2),))
    assert ours["test_schema"] == theirs["test_schema"] == "RuntimeError"
    assert ours["test_faketensor"] == theirs["test_faketensor"] == "SUCCESS"


def test_opcheck_finds_a_wrong_fake_impl_and_a_missing_gradient():
    def reduce(module, qualname):
        @module.library.custom_op(qualname, mutates_args=())
        def op(x: module.Tensor) -> module.Tensor:
            return x.sum(0)

        return op

    ours, theirs, op = _opcheck_both(reduce, lambda m: (m.zeros(2, 3, requires_grad=True),))
    assert ours["test_faketensor"] != "SUCCESS" and theirs["test_faketensor"] != "SUCCESS"
    assert ours["test_aot_dispatch_dynamic"] == theirs["test_aot_dispatch_dynamic"] == "RuntimeError"
    with pytest.raises(ember.library.OpCheckError, match="test_faketensor failed"):
        ember.library.opcheck(op, (ember.zeros(2, 3),))


@pytest.mark.parametrize("backward", [lambda ctx, g: g * 3, lambda ctx, g: (g * 3, None, None)], ids=["fewer", "more"])
def test_the_gradients_of_trailing_non_tensor_inputs_may_be_left_out_or_none(backward):
    ours, theirs, _ = _both(_scaled_sin)
    grads = []
    for op, module in ((ours, ember), (theirs, torch)):
        op.register_autograd(backward)
        x = module.ones(2, requires_grad=True)
        op(x).sum().backward()
        grads.append(x.grad)
    _same(*grads)


def test_a_gradient_for_a_float_is_refused_as_torch_does():
    ours, theirs, _ = _both(_scaled_sin)
    errors = []
    for op, module in ((theirs, torch), (ours, ember)):
        op.register_autograd(lambda ctx, g: (g, g))
        with pytest.raises(RuntimeError) as error:
            op(module.ones(2, requires_grad=True), 3.0).sum().backward()
        errors.append(str(error.value))
    assert errors[0] == errors[1]


def test_keyword_only_inputs_reach_setup_context_apart():
    def keyword_scaled(module, qualname):
        @module.library.custom_op(qualname, mutates_args=())
        def op(x: module.Tensor, *, scale: float = 2.0) -> module.Tensor:
            return x * scale

        def setup_context(ctx, inputs, keyword_only_inputs, output):
            ctx.scale = keyword_only_inputs["scale"]

        op.register_autograd(lambda ctx, g: g * ctx.scale, setup_context=setup_context)
        return op

    ours, theirs, _ = _both(keyword_scaled)
    mine, torchs = ember.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    ours(mine, scale=3.0).sum().backward()
    theirs(torchs, scale=3.0).sum().backward()
    _same(mine.grad, torchs.grad)


def test_the_kernel_follows_the_inputs_device(device):
    qualname = _qualname("per_device")

    @ember.library.custom_op(qualname, mutates_args=())
    def op(x: ember.Tensor) -> ember.Tensor:
        return x + 1

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    op.register_autograd(lambda ctx, g: 2 * ctx.saved_tensors[0] * g, setup_context=setup_context)
    op.register_kernel(ember.device(device).type, lambda x: x * x)
    x = ember.tensor([1.0, 3.0], device=device, requires_grad=True)
    y = op(x)
    assert y.device == x.device
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [1.0, 9.0])
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 6.0])


def test_a_device_kernel_without_a_formula_is_differentiated_through_with_a_warning():
    namespace = _qualname("fallback").replace("::", "_")
    grads = []
    for module in (ember, torch):
        lib = module.library.Library(namespace, "DEF")
        lib.define("twice(Tensor x) -> Tensor")
        lib.impl("twice", lambda x: x * x * 2, "CPU")
        x = module.tensor([1.0, 3.0], requires_grad=True)
        y = getattr(module.ops, namespace).twice(x)
        with pytest.warns(UserWarning, match="an autograd kernel was not registered"):
            y.sum().backward()
        grads.append(x.grad)
    _same(*grads)


def test_destroying_a_library_removes_what_it_registered():
    namespace = _qualname("lifetime").replace("::", "_")
    results = []
    for module in (ember, torch):
        lib = module.library.Library(namespace, "DEF")
        lib.define("f(Tensor x) -> Tensor")
        lib.impl("f", lambda x: x + 1, "CPU")
        override = module.library.Library(namespace, "IMPL")
        override.impl("f", lambda x: x + 2, "CPU")
        op = getattr(module.ops, namespace).f
        results.append([float(op(module.zeros(1)))])
        del override
        gc.collect()
        results[-1].append(float(op(module.zeros(1))))
        del lib, op
        gc.collect()
        results[-1].append(hasattr(getattr(module.ops, namespace), "f"))
    assert results[0] == results[1] == [2.0, 1.0, False]


def test_a_list_of_tensors_gets_a_list_of_gradients():
    def weighted_sum(module, qualname):
        @module.library.custom_op(qualname, mutates_args=())
        def op(xs: Sequence[module.Tensor], w: module.Tensor) -> module.Tensor:
            return sum(x * w for x in xs)

        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs[0], inputs[1])
            ctx.count = len(inputs[0])

        def backward(ctx, grad):
            *xs, w = ctx.saved_tensors
            return [grad * w if i else None for i in range(ctx.count)], sum(grad * x for x in xs)

        op.register_autograd(backward, setup_context=setup_context)
        return op

    ours, theirs, _ = _both(weighted_sum)
    grads = []
    for op, module in ((ours, ember), (theirs, torch)):
        xs = [module.full((2,), float(i + 1), requires_grad=True) for i in range(3)]
        w = module.full((2,), 3.0, requires_grad=True)
        op(xs, w).sum().backward()
        grads.append([x.grad for x in xs] + [w.grad])
    assert grads[0][0] is None and grads[1][0] is None
    for mine, torchs in zip(grads[0][1:], grads[1][1:]):
        _same(mine, torchs)


def _plus_minus(module, qualname):
    """An operator with two outputs and a vmap rule that adds 10 to the first (to tell it ran)."""

    @module.library.custom_op(qualname, mutates_args=())
    def op(x: module.Tensor, y: module.Tensor, k: float = 1.0) -> tuple[module.Tensor, module.Tensor]:
        return x + y * k, x - y * k

    @module.library.register_vmap(qualname)
    def rule(info, in_dims, x, y, k):
        x = x.movedim(in_dims[0], -1) if in_dims[0] is not None else x.unsqueeze(-1)
        y = y.movedim(in_dims[1], -1) if in_dims[1] is not None else y.unsqueeze(-1)
        plus, minus = op(x, y, k)
        return (plus + 10 * info.batch_size, minus), (-1, -1)

    return op


@pytest.mark.parametrize(
    ("in_dims", "x_shape", "y_shape"),
    [((0, None, None), (3, 4), (4,)), ((1, 0, None), (4, 3), (3, 4)), ((None, -1, None), (4,), (4, 3))],
)
def test_register_vmap_rule_is_called_on_the_batch(in_dims, x_shape, y_shape):
    ours, theirs, _ = _both(_plus_minus)
    x = np.linspace(-1, 1, int(np.prod(x_shape))).reshape(x_shape)
    y = np.linspace(0, 2, int(np.prod(y_shape))).reshape(y_shape)
    mine = ember.vmap(ours, in_dims=in_dims)(ember.tensor(x), ember.tensor(y), 2.0)
    torchs = torch.vmap(theirs, in_dims=in_dims)(torch.tensor(x), torch.tensor(y), 2.0)
    for a, b in zip(mine, torchs):
        _same(a, b)


def test_vmap_of_an_operator_without_a_rule_maps_its_kernel():
    ours, theirs, _ = _both(_scaled_sin)
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    _same(
        ember.vmap(ours, in_dims=(1, None))(ember.tensor(x), 3.0),
        torch.vmap(theirs, in_dims=(1, None))(torch.tensor(x), 3.0),
    )


def test_keyword_only_tensors_are_refused_as_torch():
    qualname = _qualname("keyword_tensor")
    for module in (ember, torch):
        with pytest.raises(NotImplementedError, match="custom_op with kwarg-only Tensor args"):

            @module.library.custom_op(qualname, mutates_args=())
            def op(x: module.Tensor, *, y: module.Tensor) -> module.Tensor:
                return x + y

        module.library.define(qualname, "(Tensor x, *, Tensor y) -> Tensor")
        with pytest.raises(NotImplementedError, match="register_vmap with kwarg-only Tensor args"):
            module.library.register_vmap(qualname, lambda info, in_dims, x, y: (x + y, 0))


def _data_dependent(module, qualname):
    @module.library.custom_op(qualname, mutates_args=())
    def op(x: module.Tensor) -> module.Tensor:
        return x.nonzero()

    @op.register_fake
    def _(x):
        return x.new_empty(module.library.get_ctx().new_dynamic_size(), x.dim(), dtype=module.long)

    return op


def test_get_ctx_gives_fake_kernels_dynamic_sizes_as_torch():
    ours, theirs, _ = _both(_data_dependent)
    assert ember.library.get_ctx() is None and torch.library.get_ctx() is None
    for op, module in ((ours, ember), (theirs, torch)):
        assert module.library.opcheck(op, (module.tensor([0.0, 1.0, 2.0]),))["test_faketensor"] == "SUCCESS"
        with pytest.raises(RuntimeError, match="with meta Tensors \\(as opposed to FakeTensors\\)"):
            op(module.empty(3, device="meta"))

        @op.register_fake
        def _(x, module=module):
            return x.new_empty(module.library.get_ctx().new_dynamic_size(min=-1))

        result = module.library.opcheck(op, (module.ones(2),), raise_exception=False)["test_faketensor"]
        assert isinstance(result, ValueError) and "expected min to be greater than or equal to 0" in str(result)


def test_opcheck_names_the_real_shape_and_dtype_first():
    def doubled(module, qualname):
        @module.library.custom_op(qualname, mutates_args=())
        def op(x: module.Tensor) -> module.Tensor:
            return x * 2

        return op

    ours, theirs, _ = _both(doubled)
    for fake, expected in ((lambda x: x.new_empty(5), "Size([3]) and "), (lambda x: x.double(), "float32 and ")):
        for op, module in ((ours, ember), (theirs, torch)):
            op.register_fake(fake)
            result = module.library.opcheck(op, (module.ones(3),), raise_exception=False)["test_faketensor"]
            assert expected in str(result)


def test_needs_input_grad_as_torch_shows_it():
    """setup_context sees one flag per positional tensor and the metadata's; backward one per input."""

    def flagged(module, qualname):
        seen = {}

        @module.library.custom_op(qualname, mutates_args=())
        def op(xs: Sequence[module.Tensor], w: module.Tensor, *, k: float = 1.0) -> module.Tensor:
            return sum(x * w for x in xs) * k

        def setup_context(ctx, inputs, keyword_only_inputs, output):
            seen["setup_context"] = ctx.needs_input_grad

        def backward(ctx, grad):
            seen["backward"] = ctx.needs_input_grad
            return [grad, grad], grad

        op.register_autograd(backward, setup_context=setup_context)
        return op, seen

    (ours, mine), (theirs, torchs), _ = _both(flagged)
    for op, module in ((ours, ember), (theirs, torch)):
        x = module.ones(2, requires_grad=True)
        op([x, module.ones(2)], module.ones(2), k=2.0).sum().backward()
    assert mine == torchs


def test_register_autograd_refuses_a_mutating_operator():
    for module in (ember, torch):
        qualname = _qualname("mutating")

        @module.library.custom_op(qualname, mutates_args=("x",))
        def op(x: module.Tensor) -> None:
            x.add_(1)

        with pytest.raises(RuntimeError, match="Cannot register autograd formula for non-functional operator"):
            op.register_autograd(lambda ctx, grad: grad)


def test_vmap_of_a_mutating_operator_without_a_rule_raises_as_torch():
    errors = []
    for module in (ember, torch):
        qualname = _qualname("mutating_vmap")

        @module.library.custom_op(qualname, mutates_args=("x",))
        def op(x: module.Tensor) -> None:
            x.add_(1)

        with pytest.raises(RuntimeError) as error:
            module.vmap(op)(module.zeros(2, 3))
        errors.append(str(error.value).split(qualname)[1])
    assert errors[0] == errors[1]
