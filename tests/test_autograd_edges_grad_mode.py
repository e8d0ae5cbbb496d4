"""Grad-mode decorators and inference tensors off the main road, against PyTorch."""

import pytest

import ember

torch = pytest.importorskip("torch")


def stepped(lib, decorator):
    """What a decorated generator sees at each step, and the mode its caller has between steps."""

    def generate(x):
        received = yield (x * 2).requires_grad, lib.is_grad_enabled()
        yield received, (x * 3).requires_grad, lib.is_grad_enabled()
        return "done"

    steps = decorator(lib)(generate)(lib.ones(2, requires_grad=True))
    first = next(steps)
    between = lib.is_grad_enabled()
    second = steps.send("sent")
    with pytest.raises(StopIteration) as stop:
        next(steps)
    return first, between, second, stop.value.value, steps.__name__


DECORATORS = {
    "no_grad()": lambda lib: lib.no_grad(),
    "no_grad": lambda lib: lib.no_grad,
    "inference_mode()": lambda lib: lib.inference_mode(),
    "inference_mode(False)": lambda lib: lib.inference_mode(False),
}


@pytest.mark.parametrize("name", sorted(DECORATORS))
def test_decorated_generator_runs_its_steps_in_the_mode(name):
    # ember's decorator entered the mode only while the generator function returned its generator, so
    # the body ran with recording on: @no_grad sampling loops that yield recorded graphs
    assert stepped(ember, DECORATORS[name]) == stepped(torch, DECORATORS[name])


def test_enable_grad_decorated_generator_inside_no_grad():
    def program(lib):
        with lib.no_grad():
            return stepped(lib, lambda lib: lib.enable_grad())

    assert program(ember) == program(torch)


def test_decorated_generator_throw_and_close_run_in_the_mode():
    def program(lib):
        seen = []

        def generate():
            try:
                yield 1
            except ValueError:
                seen.append(("thrown", lib.is_grad_enabled()))
                yield 2
            finally:
                seen.append(("closed", lib.is_grad_enabled()))

        steps = lib.no_grad()(generate)()
        next(steps)
        steps.throw(ValueError())
        steps.close()
        return seen, lib.is_grad_enabled()

    assert program(ember) == program(torch)


def requires_grad_on_inference_tensor(lib, where):
    with lib.inference_mode():
        z = lib.ones(3)
    try:
        if where == "inside":
            with lib.inference_mode():
                z.requires_grad_()
        elif where == "nested_off":
            with lib.inference_mode(), lib.inference_mode(False):
                z.requires_grad_()
        elif where == "false":
            z.requires_grad_(False)
        else:
            z.requires_grad = True
    except RuntimeError as error:
        return str(error)
    return z.requires_grad


@pytest.mark.parametrize("where", ["outside", "inside", "nested_off", "false"])
def test_requires_grad_on_an_inference_tensor(where):
    # ember let an inference tensor require grad outside inference mode (PyTorch refuses: "Setting
    # requires_grad=True on inference tensor outside InferenceMode is not allowed.")
    assert requires_grad_on_inference_tensor(ember, where) == requires_grad_on_inference_tensor(torch, where)


def test_every_tensor_is_a_variable():
    # ember's Variable was a function: isinstance(x, Variable), common in classic code, raised TypeError
    from ember.autograd import Variable

    x = ember.ones(2)
    assert isinstance(x, Variable) and not isinstance(3.0, Variable)
    assert isinstance(torch.ones(2), torch.autograd.Variable)
    v = Variable(x, requires_grad=True)
    assert type(v) is ember.Tensor and v.requires_grad and not x.requires_grad
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(x, volatile=True)
