"""Tensors saved for backward and written in place afterwards, against PyTorch: the backward refuses
rather than reading the new values."""

import pytest

import ember

torch = pytest.importorskip("torch")


def outcome(program, lib):
    try:
        return program(lib)
    except RuntimeError as error:
        return type(error).__name__, str(error).split(":")[0]


def relu_output_written(lib):
    x = lib.tensor([-1.0, 2.0], requires_grad=True)
    y = lib.relu(x)
    y.add_(1)
    y.sum().backward()
    return x.grad.tolist()


def relu_output_view_written(lib):
    x = lib.tensor([-1.0, 2.0], requires_grad=True)
    y = lib.nn.functional.relu(x)[:1]
    y.mul_(3)
    y.sum().backward()
    return x.grad.tolist()


def relu_output_written_through_detach(lib):
    x = lib.tensor([-1.0, 2.0], requires_grad=True)
    y = lib.relu(x)
    y.detach().add_(1)
    y.sum().backward()
    return x.grad.tolist()


def relu_output_written_through_data(lib):
    x = lib.tensor([-1.0, 2.0], requires_grad=True)
    y = lib.relu(x)
    y.data.add_(1)  # not tracked: the backward reads the new values, as PyTorch's
    y.sum().backward()
    return x.grad.tolist()


def relu_in_place_then_more(lib):
    x = lib.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1
    lib.relu_(y)
    y.sum().backward()
    return x.grad.tolist()


@pytest.mark.parametrize(
    "program",
    [
        relu_output_written,
        relu_output_view_written,
        relu_output_written_through_detach,
        relu_output_written_through_data,
        relu_in_place_then_more,
    ],
)
def test_relu_output_written_in_place_after(program):
    # ember read relu's mask from the output's storage, written since: x.grad was [1, 1], silently (PyTorch
    # refuses: "one of the variables needed for gradient computation has been modified by an inplace operation")
    assert outcome(program, ember) == outcome(program, torch)


def normalized_output_written(lib, norm):
    x = lib.tensor([[0.2, 0.6, 0.9], [0.5, -0.3, 1.2]], requires_grad=True)
    y = norm(lib, x)
    y.mul_(2)
    (y * lib.arange(1.0, 7.0).reshape(y.shape)).sum().backward()
    return [round(v, 4) for v in x.grad.flatten().tolist()]


NORMS = {
    "layer_norm": lambda lib, x: lib.nn.functional.layer_norm(x, (3,)),
    "instance_norm": lambda lib, x: lib.nn.functional.instance_norm(x[None])[0],
    "group_norm": lambda lib, x: lib.nn.functional.group_norm(x[None], 1)[0],
}


@pytest.mark.parametrize("name", sorted(NORMS))
def test_normalized_output_written_in_place_after(name):
    # ember saved the standardised output for backward and refused once it was written in place (a residual
    # added into a LayerNorm's output); PyTorch saves the input, mean and rstd, and differentiates
    def program(lib):
        return normalized_output_written(lib, NORMS[name])

    assert outcome(program, ember) == outcome(program, torch)


def test_cross_entropy_logits_written_in_place_after_refuse():
    # NumPy's cross-entropy kernel keeps the logits' storage to recompute the softmax in backward: logits written
    # in place since gave the gradient of the new logits, silently (here [-0.729, 0.603, ...] for PyTorch's
    # [-0.778, 0.331, ...], which saves the log-probabilities); ember now refuses as for any saved tensor
    x = ember.tensor([[0.2, 0.6, 0.9], [0.5, -0.3, 1.2]], requires_grad=True)
    logits = x * 1
    loss = ember.nn.functional.cross_entropy(logits, ember.tensor([0, 1]), reduction="none")
    logits.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.sum().backward()


@pytest.mark.parametrize("weight", ["number", "tensor"])
def test_lerp_end_written_in_place_after(weight):
    # lerp by a number saved both ends for backward though its gradients need only their shapes, so an end
    # written in place since (an optimizer step before backward) made backward refuse; PyTorch saves none
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0], requires_grad=True)
        end = w * 1
        y = lib.lerp(x, end, 0.3 if weight == "number" else lib.tensor([0.3, 0.6]))
        with lib.no_grad():
            end.mul_(2)
        (y * lib.tensor([1.0, 2.0])).sum().backward()
        return [round(v, 5) for v in x.grad.tolist() + w.grad.tolist()]

    assert outcome(program, ember) == outcome(program, torch)


@pytest.mark.parametrize("op", ["fmod", "remainder", "hypot"])
def test_constant_operand_written_in_place_after(op):
    # fmod/remainder saved both operands though the dividend's gradient is the gradient itself, and hypot
    # the other operand though x's gradient reads x and the result only: a constant operand written in place
    # before backward made backward refuse, where PyTorch (which saves per needed gradient) differentiates
    def program(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        c = lib.tensor([[0.5, -1.0], [2.0, 0.25]])
        y = getattr(lib, op)(x, c)
        c.mul_(2)
        (y * lib.arange(1.0, 5.0).reshape(2, 2)).sum().backward()
        return [round(v, 4) for v in x.grad.flatten().tolist()]

    assert outcome(program, ember) == outcome(program, torch)


@pytest.mark.parametrize("written", ["input", "weight"])
def test_linear_operand_written_in_place_when_only_the_other_needs_a_gradient(written):
    # F.linear saved the input and the weight whatever was wanted: with a frozen weight, an input written in
    # place afterwards (or, with a constant input, a weight written by an optimizer step) made backward refuse,
    # where PyTorch saves each only for the other's gradient
    def program(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=written == "input")
        w = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=written == "weight")
        leaf = x if written == "input" else w
        source = leaf * 1
        y = lib.nn.functional.linear(source, w) if written == "input" else lib.nn.functional.linear(x, source)
        with lib.no_grad():
            source.mul_(2)
        (y * lib.arange(1.0, 5.0).reshape(2, 2)).sum().backward()
        return leaf.grad.tolist()

    assert outcome(program, ember) == outcome(program, torch)


LOSSES = {
    "cross_entropy_target": lambda lib, x, t, w: (lib.nn.functional.cross_entropy(x, t), t),
    "nll_loss_target": lambda lib, x, t, w: (lib.nn.functional.nll_loss(x, t), t),
    "cross_entropy_weight": lambda lib, x, t, w: (lib.nn.functional.cross_entropy(x, t, weight=w), w),
    "nll_loss_weight": lambda lib, x, t, w: (lib.nn.functional.nll_loss(x, t, weight=w), w),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_classification_target_or_weight_written_in_place_after(name):
    # the losses kept target and class weights as plain references: written in place before backward, the
    # gradient silently followed the new values (targets [2, 2]: x.grad [[0.11, 0.17, -0.28], ...]); PyTorch
    # saves them and refuses
    def program(lib):
        x = lib.tensor([[0.2, 0.6, 0.9], [0.5, -0.3, 1.2]], requires_grad=True)
        loss, written = LOSSES[name](lib, x, lib.tensor([0, 1]), lib.tensor([1.0, 2.0, 3.0]))
        written.fill_(2)
        loss.backward()
        return x.grad.tolist()

    assert outcome(program, ember) == outcome(program, torch)


def pooled_indices_written(lib, then_unpool):
    x = lib.tensor([[[1.0, 5.0, 3.0, 2.0]]], requires_grad=True)
    y, indices = lib.nn.functional.max_pool1d(x, 2, return_indices=True)
    if then_unpool:
        v = y.detach().requires_grad_()
        out = lib.nn.functional.max_unpool1d(v, indices, 2)
        indices.fill_(0)
        (out * lib.arange(4.0)).sum().backward()
        return v.grad.tolist()
    indices.fill_(0)
    (y * lib.tensor([1.0, 2.0])).sum().backward()
    return x.grad.tolist()


@pytest.mark.parametrize("then_unpool", [False, True])
def test_pooling_indices_written_in_place_after(then_unpool):
    # max_pool's returned indices and max_unpool's given ones were kept as plain references: written in place
    # before backward, the gradient silently went to the new positions; PyTorch saves them and refuses
    def program(lib):
        return pooled_indices_written(lib, then_unpool)

    assert outcome(program, ember) == outcome(program, torch)
