"""Anomaly mode's NaN check against PyTorch: it applies to the backward that runs while the mode is on,
whenever the graph was recorded, and reads what a node returns after its post-hooks."""

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")


def outcome(program, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # detect_anomaly's "has been enabled" and the traceback warning
        try:
            return program(lib)
        except RuntimeError as error:
            return str(error)


def recorded_before(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = (x * 0).sqrt().sum()
    with lib.autograd.detect_anomaly():
        y.backward()
    return x.grad.tolist()


def recorded_before_set_detect(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = (x * 0).sqrt().sum()
    with lib.autograd.set_detect_anomaly(True):
        (g,) = lib.autograd.grad(y, x)
    return g.tolist()


def recorded_inside_run_outside(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with lib.autograd.detect_anomaly():
        y = (x * 0).sqrt().sum()
    y.backward()
    return [str(v) for v in x.grad.tolist()]


def nan_replaced_by_post_hook(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with lib.autograd.detect_anomaly():
        z = x * 0  # MulBackward0 returns inf * 0 = NaN, which its post-hook replaces
        z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (lib.nan_to_num(grad_inputs[0]), None))
        z.sqrt().sum().backward()
    return x.grad.tolist()


@pytest.mark.parametrize(
    "program", [recorded_before, recorded_before_set_detect, recorded_inside_run_outside, nan_replaced_by_post_hook]
)
def test_nan_check_follows_the_mode_of_the_backward(program):
    # ember checked only the nodes recorded while the mode was on, before their post-hooks: a graph built
    # before detect_anomaly gave NaN gradients silently, where PyTorch raises
    # "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert outcome(program, ember) == outcome(program, torch)


def test_any_error_in_backward_shows_the_forward_traceback():
    # ember showed the forward call's traceback for a NaN only; PyTorch warns with it for any error a node's
    # backward raises under anomaly mode (here a saved result written in place)
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                y = x.exp()
                z = y * 2
                y.add_(1)
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    z.sum().backward()
        return [str(w.message).split(".")[0] for w in caught if "Traceback of forward call" in str(w.message)]

    assert program(ember) == program(torch) == ["Error detected in ExpBackward0"]
