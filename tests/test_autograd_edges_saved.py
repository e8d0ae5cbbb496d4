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
