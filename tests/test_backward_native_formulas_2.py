"""The backward formulas on native arrays (``Function._native_backward``) of relu, threshold, the fused unary ops
(tanh, sigmoid, exp), linear, matmul/mm/bmm/addmm, sum/mean and cross_entropy against PyTorch and against ember's
own tensor formulas (bit for bit, strides too); that they run without tensor operations; hooks, create_graph and
errors as PyTorch's. And a leaf's first ``.grad`` as PyTorch's ``AccumulateGrad`` makes it: the disjoint views of
one gradient that stack's and cat's backward hand their inputs are taken as they are, aliasing exactly where
PyTorch's do (storage, offset, strides, ``_base``)."""

import numpy as np
import pytest
from against_torch import normal_tensor, to_numpy

import ember
from ember.autograd import Function
from ember.autograd.apply_layers import set_apply_layer

torch = pytest.importorskip("torch")


def target(lib, device, values):
    if lib is torch:
        return torch.tensor(values)
    return ember.tensor(values, device=device)


@pytest.fixture(params=["float32", "float64"])
def real(request, device):
    if request.param == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    return request.param


def _with_native_formulas(cls=Function):
    for sub in cls.__subclasses__():
        if sub.__dict__.get("_native_backward") is not None:
            yield sub
        yield from _with_native_formulas(sub)


@pytest.fixture
def tensor_formulas(monkeypatch):
    """A switch to the tensor formulas (``backward``) of every op that has a native one."""

    def switch():
        for cls in set(_with_native_formulas()):
            monkeypatch.setattr(cls, "_native_backward", None)

    return switch


def square(t):
    return (t * t.detach()).sum()


CASES = {
    "relu": (lambda T, d, x, y: (T.nn.functional.relu(x) * y).sum(), [(6, 5), (6, 5)]),
    "relu_transposed": (lambda T, d, x, y: (T.relu(x.t()) * y).sum(), [(5, 6), (6, 5)]),
    "threshold": (lambda T, d, x, y: (T.nn.functional.threshold(x, 0.1, 20.0) * y).sum(), [(6, 5), (6, 5)]),
    "tanh": (lambda T, d, x, y: (x.tanh() * y).sum(), [(6, 5), (6, 5)]),
    "tanh_transposed": (lambda T, d, x, y: (x.t().tanh() * y).sum(), [(6, 5), (5, 6)]),
    "sigmoid": (lambda T, d, x, y: (x.sigmoid() * y).sum(), [(6, 5), (6, 5)]),
    "exp": (lambda T, d, x, y: (x.exp() * y).sum(), [(6, 5), (6, 5)]),
    "linear": (lambda T, d, x, w, b: square(T.nn.functional.linear(x, w, b)), [(6, 5), (4, 5), (4,)]),
    "linear_no_bias": (lambda T, d, x, w: square(T.nn.functional.linear(x, w)), [(6, 5), (4, 5)]),
    "linear_batch": (lambda T, d, x, w, b: square(T.nn.functional.linear(x, w, b)), [(2, 3, 5), (4, 5), (4,)]),
    "linear_column_major": (
        lambda T, d, x, w, b: square(T.nn.functional.linear(x.t(), w, b)),
        [(5, 6), (4, 5), (4,)],
    ),
    "mm": (lambda T, d, x, w: (T.mm(x, w) * 2).sum(), [(6, 5), (5, 4)]),
    "matmul_transposed": (lambda T, d, x, w: square(x.t() @ w), [(5, 6), (5, 4)]),
    "matmul_batch_matrix": (lambda T, d, x, w: square(x @ w), [(2, 3, 5), (5, 4)]),
    "matmul_matrix_batch": (lambda T, d, x, w: square(x @ w), [(3, 5), (2, 5, 4)]),
    "bmm": (lambda T, d, x, w: square(T.bmm(x, w)), [(2, 3, 5), (2, 5, 4)]),
    "addmm": (lambda T, d, b, x, w: square(T.addmm(b, x, w)), [(6, 4), (6, 5), (5, 4)]),
    "sum": (lambda T, d, x: x.sum(), [(6, 5)]),
    "sum_dim": (lambda T, d, x, y: (x.sum(1) * y).sum(), [(6, 5), (6,)]),
    "sum_keepdim": (lambda T, d, x, y: (x.sum(1, keepdim=True) * y).sum(), [(6, 5), (6, 1)]),
    "sum_transposed": (lambda T, d, x, y: (x.t().sum(0) * y).sum(), [(6, 5), (6,)]),
    "mean": (lambda T, d, x: x.mean(), [(6, 5)]),
    "mean_dims": (lambda T, d, x, y: (x.mean((0, 2)) * y).sum(), [(3, 4, 5), (4,)]),
    "mean_keepdim": (lambda T, d, x, y: (x.mean(1, keepdim=True) * y).sum(), [(6, 5), (6, 1)]),
    "cross_entropy": (
        lambda T, d, x: T.nn.functional.cross_entropy(x, target(T, d, [0, 2, 1, 3, 3, 0])),
        [(6, 4)],
    ),
    "cross_entropy_sum_weight": (
        lambda T, d, x: T.nn.functional.cross_entropy(
            x, target(T, d, [0, 2, 1, 3, 3, 0]), x.new_tensor([0.5, 2.0, 1.0, 0.25]), reduction="sum"
        ),
        [(6, 4)],
    ),
    "cross_entropy_none_smoothing": (
        lambda T, d, x, y: (
            T.nn.functional.cross_entropy(x, target(T, d, [0, 2, -100, 3, 3, 0]), reduction="none", label_smoothing=0.2)
            * y
        ).sum(),
        [(6, 4), (6,)],
    ),
    "log_softmax_nll": (
        lambda T, d, x: T.nn.functional.nll_loss(T.nn.functional.log_softmax(x, 1), target(T, d, [0, 2, 1, 3, 3, 0])),
        [(6, 4)],
    ),
    "mlp": (
        lambda T, d, x, w1, b1, w2: T.nn.functional.cross_entropy(
            T.nn.functional.linear(T.relu(T.nn.functional.linear(x, w1, b1)), w2).tanh(),
            target(T, d, [0, 2, 1, 3, 3, 0]),
        ),
        [(6, 5), (8, 5), (8,), (4, 8)],
    ),
}

#: the cases whose gradients are PyTorch's bit for bit; the others PyTorch may round otherwise in the last bit
#: (its GEMMs, its sums, its tanh kernel in float64): compared to PyTorch's within rounding, to ember's tensor
#: formulas bit for bit
EXACT = {"relu", "relu_transposed", "threshold", "sum", "mean"}
#: the cases whose native formula is the backend's fused cross_entropy_backward kernel, which rounds otherwise than
#: the tensor formula's log-softmax and NLL pieces (as it did before it moved to ``_native_backward``)
FUSED_LOSS = {"cross_entropy", "cross_entropy_sum_weight", "cross_entropy_none_smoothing", "mlp"}


def grads(lib, device, dtype, build, shapes):
    leaves = [normal_tensor(lib, device, dtype, shape, seed) for seed, shape in enumerate(shapes)]
    build(lib, device, *leaves).backward()
    return [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_as_torch_and_as_the_tensor_formulas(device, real, case, tensor_formulas):
    build, shapes = CASES[case]
    got = grads(ember, device, real, build, shapes)
    want = grads(torch, device, real, build, shapes)
    for g, w in zip(got, want):
        if w is None:  # (a detached operand)
            assert g is None
            continue
        assert g.dtype is getattr(ember, real)
        assert g.stride() == w.stride()
        if case in EXACT:
            np.testing.assert_array_equal(to_numpy(g), to_numpy(w))
        else:
            np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-12 if real == "float64" else 2e-5, atol=1e-6)
    tensor_formulas()
    for g, w in zip(got, grads(ember, device, real, build, shapes)):  # the bits and layouts of the tensor formulas
        assert g.stride() == w.stride()
        if case in FUSED_LOSS:
            np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-12 if real == "float64" else 2e-6, atol=1e-7)
        else:
            assert to_numpy(g).tobytes() == to_numpy(w).tobytes()


@pytest.mark.parametrize("case", sorted(set(CASES) - FUSED_LOSS))
def test_create_graph_gives_the_bits_of_no_graph(device, real, case):
    """The first gradients that create_graph records (the tensor formulas) are those of a backward that records
    none (the native formulas), bit for bit (sigmoid's in its kernel's order, grad * (1 - y) * y)."""
    build, shapes = CASES[case]
    leaves = [normal_tensor(ember, device, real, shape, seed) for seed, shape in enumerate(shapes)]
    recorded = ember.autograd.grad(build(ember, device, *leaves), leaves, create_graph=True)
    for g, leaf in zip(recorded, grads(ember, device, real, build, shapes)):  # (autograd.grad copies no layout)
        assert to_numpy(g).tobytes() == to_numpy(leaf).tobytes()


def applied_during(run):
    """The names of the Function classes applied while ``run()`` runs."""
    seen = []

    def wrap(inner):
        def apply(cls, *args, **kwargs):
            seen.append(cls.__name__)
            return inner(cls, *args, **kwargs)

        return apply

    set_apply_layer("test_backward_native_formulas_2", wrap)
    try:
        run()
    finally:
        set_apply_layer("test_backward_native_formulas_2", None)
    return seen


@pytest.mark.parametrize("case", sorted(CASES))
def test_native_formulas_run_without_tensor_operations(device, case):
    build, shapes = CASES[case]
    leaves = [normal_tensor(ember, device, "float32", shape, seed) for seed, shape in enumerate(shapes)]
    loss = build(ember, device, *leaves)  # (before the counter: a watched linear records its unfolded ops)
    assert applied_during(loss.backward) == []
    assert all(leaf.grad is not None for leaf in leaves)


SECOND = ["relu", "threshold", "tanh", "sigmoid", "exp", "linear", "linear_batch", "matmul_matrix_batch", "addmm"]
SECOND += ["sum_dim", "mean_dims", "cross_entropy_none_smoothing", "mlp"]


@pytest.mark.parametrize("case", SECOND)
def test_create_graph_records_the_tensor_formulas(device, real, case):
    build, shapes = CASES[case]

    def second(lib):
        leaves = [normal_tensor(lib, device, real, shape, seed) for seed, shape in enumerate(shapes)]
        firsts = lib.autograd.grad(build(lib, device, *leaves), leaves, create_graph=True)
        sum(((g * g).sum() for g in firsts if g.requires_grad), lib.zeros(())).backward()
        return [g.grad_fn is not None for g in firsts], [leaf.grad for leaf in leaves]

    (got_graph, got), (want_graph, want) = second(ember), second(torch)
    assert got_graph == want_graph
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-10 if real == "float64" else 1e-4, atol=1e-6)


def hook_log(lib, device):
    log = []
    x, w = normal_tensor(lib, device, "float32", (3, 4)), normal_tensor(lib, device, "float32", (2, 4), 1)
    h = lib.nn.functional.linear(x, w)
    h.register_hook(lambda g: log.append(("h", g.tolist())) or g * 2)
    r = lib.relu(h)
    r.grad_fn.register_prehook(lambda go: log.append(("relu pre", go[0].tolist())))
    r.grad_fn.register_hook(lambda gi, go: log.append(("relu post", [t is None for t in gi])))
    t = r.tanh() @ w
    t.grad_fn.register_hook(lambda gi, go: log.append(("mm post", [g is None or g.shape for g in gi])))
    m = t.mean(1)
    loss = lib.nn.functional.cross_entropy(t, target(lib, device, [0, 1, 3])) + m.sum()
    w.register_post_accumulate_grad_hook(lambda p: log.append(("w acc", p.grad.tolist())))
    loss.backward()
    return log, to_numpy(x.grad), to_numpy(w.grad)


def test_hooks_as_torch(device):
    (got, gx, gw), (want, tx, tw) = hook_log(ember, device), hook_log(torch, device)
    assert [entry[0] for entry in got] == [entry[0] for entry in want]
    for (_, g), (_, w) in zip(got, want):
        if isinstance(w, list) and w and isinstance(w[0], (bool, list, float)):
            if isinstance(w[0], bool):
                assert g == w
            else:
                np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float), rtol=1e-5, atol=1e-6)
        else:
            assert [tuple(s) if not isinstance(s, bool) else s for s in g] == [
                tuple(s) if not isinstance(s, bool) else s for s in w
            ]
    np.testing.assert_allclose(gx, tx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw, tw, rtol=1e-5, atol=1e-6)


def errors(lib, device, case):
    x, w = normal_tensor(lib, device, "float32", (3, 4)), normal_tensor(lib, device, "float32", (2, 4), 1)
    try:
        if case == "second_backward":
            loss = (lib.nn.functional.linear(x, w) @ w).sum()
            loss.backward()
            loss.backward()
        elif case == "relu_output_modified":
            y = lib.relu(x)
            loss = (y * 2).sum()
            with lib.no_grad():
                y.add_(1)
            loss.backward()
        elif case == "tanh_output_modified":
            y = x.tanh()
            loss = y.sum()
            y.mul_(2)
            loss.backward()
        elif case == "matmul_operand_modified":
            z = w * 1.0
            loss = (x @ z.t()).sum()
            z.mul_(2)
            loss.backward()
        elif case == "log_softmax_output_modified":
            y = lib.nn.functional.log_softmax(x, 1)
            loss = lib.nn.functional.nll_loss(y, target(lib, device, [0, 1, 3]))
            y.add_(1)
            loss.backward()
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize(
    "case",
    [
        "second_backward",
        "relu_output_modified",
        "tanh_output_modified",
        "matmul_operand_modified",
        "log_softmax_output_modified",
    ],
)
def test_errors_as_torch(device, case):
    got, want = errors(ember, device, case), errors(torch, device, case)
    assert want is not None
    assert got is not None and got[0] is want[0]
    if case == "log_softmax_output_modified":  # PyTorch names the node of the write (Add), ember the saver's
        assert got[1].split(", which is output")[0] == want[1].split(", which is output")[0].replace("torch.", "ember.")
    else:
        assert got[1] == want[1].replace("torch.", "ember.")


# -- the first .grad of leaves that share one gradient ----------------------------------------------------------


def stack_mul(T, xs, kept):
    s = T.stack(xs)
    (s * s).sum().backward()


def stack_dim1(T, xs, kept):
    s = T.stack(xs, 1)
    (s * s).sum().backward()


def stack_sum(T, xs, kept):
    T.stack(xs).sum().backward()


def stack_caller_gradient(T, xs, kept):
    g = xs[0].new_tensor([[float(i + 4 * j) for i in range(4)] for j in range(3)])
    kept.append(g)
    T.stack(xs).backward(g)


def stack_kept_by_hook(T, xs, kept):
    s = T.stack(xs)
    s.register_hook(kept.append)
    (s * s).sum().backward()


def stack_returned_by_hook(T, xs, kept):
    s = T.stack(xs)
    s.register_hook(lambda g: kept.append(g * 3) or kept[-1])
    (s * s).sum().backward()


def stack_repeated(T, xs, kept):
    s = T.stack([xs[0], xs[1], xs[0], xs[2]])
    (s * s).sum().backward()


def cat(T, xs, kept):
    s = T.cat(xs)
    (s * s).sum().backward()


def cat_dim1(T, xs, kept):
    s = T.cat([x.reshape(2, 2) for x in xs], 1)
    (s * s).sum().backward()


def unbind(T, xs, kept):
    u = T.stack(xs).unbind(1)
    (u[0] * u[1] * u[3]).sum().backward()


def split_chunk(T, xs, kept):
    s = T.cat(xs)
    a, b, c = s.split(4)
    d, e = s.chunk(2)
    (a * c + b * 2).sum().backward(retain_graph=True)
    (d * e).sum().backward()


def select(T, xs, kept):
    s = T.stack(xs)
    (s[0] * s[2] + s[:, 1].sum()).sum().backward()


def view_of_caller_gradient(T, xs, kept):
    g = xs[0].new_tensor([float(i) for i in range(12)])
    kept.append(g)
    T.stack(xs).reshape(12).backward(g)


def add_shared(T, xs, kept):
    ((xs[0] + xs[1]) * 2 + xs[2]).sum().backward()


SHARING = {
    f.__name__: f
    for f in (
        stack_mul,
        stack_dim1,
        stack_sum,
        stack_caller_gradient,
        stack_kept_by_hook,
        stack_returned_by_hook,
        stack_repeated,
        cat,
        cat_dim1,
        unbind,
        split_chunk,
        select,
        view_of_caller_gradient,
        add_shared,
    )
}


def sharing(lib, device, program):
    """The leaves' ``.grad`` and the tensors the program keeps: their values, strides, whether each is a view
    (``_base``), and which storage (numbered by first appearance) and offset each has."""
    if lib is torch:
        xs = [torch.arange(4.0).add(i).requires_grad_() for i in range(3)]
    else:
        xs = [ember.arange(4.0, device=device).add(i).requires_grad_() for i in range(3)]
    kept = []
    program(lib, xs, kept)
    tensors = [x.grad for x in xs] + kept
    storages = []
    layout = []
    for t in tensors:
        # (an OpenCL buffer has no address: ember's storages are told apart by the object owning their memory)
        key = t.untyped_storage().data_ptr() if lib is torch else id(t._backend.memory_owner(t._data))
        if key not in storages:
            storages.append(key)
        layout.append((t.stride(), t._base is None, storages.index(key), t.storage_offset()))
    return [to_numpy(t).tolist() for t in tensors], layout


@pytest.mark.parametrize("program", sorted(SHARING))
def test_first_gradients_alias_as_torch(device, program):
    got, want = sharing(ember, device, SHARING[program]), sharing(torch, device, SHARING[program])
    assert got == want


@pytest.mark.parametrize("program", ["stack_mul", "cat", "split_chunk", "stack_caller_gradient"])
def test_gradients_of_shared_memory_stay_apart(device, program):
    """A write into one leaf's ``.grad`` changes that ``.grad`` alone, and a second backward adds into each."""

    def run(lib):
        if lib is torch:
            xs = [torch.arange(4.0).add(i).requires_grad_() for i in range(3)]
        else:
            xs = [ember.arange(4.0, device=device).add(i).requires_grad_() for i in range(3)]
        SHARING[program](lib, xs, [])
        xs[0].grad.mul_(10)
        SHARING[program](lib, xs, [])
        return [to_numpy(x.grad).tolist() for x in xs]

    assert run(ember) == run(torch)
