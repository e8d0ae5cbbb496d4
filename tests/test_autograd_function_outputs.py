"""What a user's ``autograd.Function`` returns from ``forward``, checked and aliased as PyTorch does: inputs
returned as they are, inputs marked dirty, and tensors given to ``save_for_backward``."""

import pytest

import ember

torch = pytest.importorskip("torch")


def _returns_its_inputs(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2, gb * 3

    return Identity


def test_an_input_returned_as_is_becomes_a_view_with_the_functions_history(device):
    # ember returned the input itself and wrote the Function's node onto it: the leaf x got a grad_fn
    # and the gradient bypassed the backward (x.grad was [1., 1.], PyTorch's [2., 2.])
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        n = lib.tensor([3.0, 4.0], device=dev)
        a, b = _returns_its_inputs(lib).apply(x, n)
        facts = (a is x, b is n, a._base is x, b._base is n, x.is_leaf, x.grad_fn, n.requires_grad, b.requires_grad)
        (a.sum() + b.sum()).backward()
        found.append((facts, x.grad.tolist(), a.grad_fn.name()))
    assert found[0] == found[1]
    assert found[0][1] == [2.0, 2.0]


def test_an_input_returned_as_is_without_recording_is_a_detached_alias(device):
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        with lib.no_grad():
            a, _ = _returns_its_inputs(lib).apply(x, x)
        found.append((a is x, a.requires_grad, a.grad_fn))
        a.add_(1)  # the alias shares the input's memory
        found.append(x.tolist())
    assert found[:2] == found[2:]


def _marks_dirty(lib, returned):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            a.mul_(2)
            ctx.mark_dirty(a)
            return a if returned else a * 1

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return Double


@pytest.mark.parametrize("grad_mode", [True, False])
def test_an_input_marked_dirty_must_be_returned(device, grad_mode):
    # ember let forward mark an input dirty and return something else
    for lib, dev in ((ember, device), (torch, "cpu")):
        with lib.set_grad_enabled(grad_mode):
            with pytest.raises(RuntimeError, match="^Some elements marked as dirty during the forward method were not"):
                _marks_dirty(lib, returned=False).apply(lib.ones(2, device=dev, requires_grad=True))


def test_a_leaf_that_requires_grad_marked_dirty(device):
    # ember let forward write into such a leaf while recording; PyTorch refuses it, and without recording
    # returns a detached alias
    for lib, dev in ((ember, device), (torch, "cpu")):
        leaf = lib.ones(2, device=dev, requires_grad=True)
        with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad has been used in an in-place"):
            _marks_dirty(lib, returned=True).apply(leaf)
        with lib.no_grad():
            out = _marks_dirty(lib, returned=True).apply(leaf)
        assert (out is leaf, out.requires_grad, leaf.tolist()) == (False, False, [4.0, 4.0])


def test_save_for_backward_takes_tensors_only(device):
    # ember failed with AttributeError ('int' object has no attribute '_version_counter')
    for lib, dev in ((ember, device), (torch, "cpu")):

        class SavesAnInt(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a, 3)
                return a * 1

            @staticmethod
            def backward(ctx, grad):
                return grad

        with pytest.raises(
            TypeError, match="^save_for_backward can only save variables, but argument 1 is of type int$"
        ):
            SavesAnInt.apply(lib.ones(2, device=dev, requires_grad=True))
        SavesAnInt.apply(lib.ones(2, device=dev))  # nothing saved when nothing is recorded


def test_inplace_function_and_function_meta(device):
    # ember.autograd.function had neither (AttributeError)
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        function = lib.autograd.function

        class Double(function.InplaceFunction):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = lib.ones(2, device=dev, requires_grad=True)
        Double.apply(x).sum().backward()
        found.append(
            (x.grad.tolist(), isinstance(Double, function.FunctionMeta), Double(True).inplace, Double().inplace)
        )
    assert found[0] == found[1]


def test_vjp_is_the_other_name_of_backward(device):
    # ember ignored a vjp staticmethod and raised its own NotImplementedError for a Function without backward
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):

        class Triple(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 3

            @staticmethod
            def vjp(ctx, grad):
                return grad * 3

        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 3

        x = lib.ones(2, device=dev, requires_grad=True)
        Triple.apply(x).sum().backward()
        with pytest.raises(NotImplementedError) as refused:
            NoBackward.apply(x).sum().backward()
        found.append((x.grad.tolist(), str(refused.value), lib.autograd.Function.generate_vmap_rule))
    assert found[0] == found[1]
