"""CUDA-graph capture and replay (``ember.cuda.CUDAGraph``, ``graph``, ``make_graphed_callables``),
streams and events, the deferred index checks and the precision flags on CUDA.

The state and error checks of the API run everywhere; the rest needs a GPU and skips without one.
"""

import numpy as np
import pytest

import ember
import ember.backends.cuda
import ember.backends.cudnn
import ember.graphs
from ember import nn
from ember.nn import functional as F

requires_cuda = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA backend/GPU")
CUDA = "cuda:0"


# -- everywhere -------------------------------------------------------------------------------
def test_graph_state_errors():
    g = ember.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="replay: the graph holds no capture"):
        g.replay()
    with pytest.raises(RuntimeError, match="capture_end: no capture in progress"):
        g.capture_end()
    with pytest.raises(RuntimeError, match="pool: the graph has no memory pool before capture_begin"):
        g.pool()
    g.reset()  # resetting an empty graph is allowed


def test_backend_without_capture_says_so():
    with pytest.raises(RuntimeError, match="the numpy backend cannot capture graphs"):
        ember.graphs.Graph("cpu").capture_begin()


# -- on a GPU ---------------------------------------------------------------------------------
class _LanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 32)
        self.decoder = nn.Linear(32, 50)

    def forward(self, tokens):
        output, _ = self.lstm(self.embedding(tokens))
        return self.decoder(output).reshape(-1, 50)


def _workload(kind, steps):
    """Two equal models on the GPU and ``steps`` batches for them."""
    rng = np.random.default_rng(0)
    if kind == "mlp":
        build = lambda: nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))  # noqa: E731
        data = [(rng.standard_normal((16, 32)), rng.integers(0, 10, 16)) for _ in range(steps)]
    elif kind == "cnn":
        build = lambda: nn.Sequential(  # noqa: E731
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(128, 10),
        )
        data = [(rng.standard_normal((8, 3, 8, 8)), rng.integers(0, 10, 8)) for _ in range(steps)]
    else:
        build = _LanguageModel
        data = [(rng.integers(0, 50, (5, 4)), rng.integers(0, 50, 20)) for _ in range(steps)]
    eager, captured = build(), build()
    captured.load_state_dict(eager.state_dict())
    batches = [
        (ember.tensor(x.astype(np.float32) if x.dtype.kind == "f" else x, device=CUDA), ember.tensor(y, device=CUDA))
        for x, y in data
    ]
    return eager.to(CUDA), captured.to(CUDA), batches


def _optimizer(model):
    return ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


@requires_cuda
@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm"])
def test_captured_training_step_matches_eager(kind):
    warmup, steps = 3, 8
    eager, captured, batches = _workload(kind, steps)
    loss_fn = nn.CrossEntropyLoss()
    eager_opt, captured_opt = _optimizer(eager), _optimizer(captured)
    eager_losses = []
    for x, y in batches:
        eager_opt.zero_grad()
        loss = loss_fn(eager(x), y)
        loss.backward()
        eager_opt.step()
        eager_losses.append(loss.item())

    static_x, static_y = batches[0][0].clone(), batches[0][1].clone()
    side = ember.cuda.Stream()
    side.wait_stream(ember.cuda.current_stream())
    with ember.cuda.stream(side):
        for x, y in batches[:warmup]:
            static_x.copy_(x)
            static_y.copy_(y)
            captured_opt.zero_grad()
            loss_fn(captured(static_x), static_y).backward()
            captured_opt.step()
    ember.cuda.current_stream().wait_stream(side)
    g = ember.cuda.CUDAGraph()
    captured_opt.zero_grad(set_to_none=True)
    with ember.cuda.graph(g):
        static_loss = loss_fn(captured(static_x), static_y)
        static_loss.backward()
        captured_opt.step()
    replayed = []
    for x, y in batches[warmup:]:
        static_x.copy_(x)
        static_y.copy_(y)
        g.replay()
        replayed.append(static_loss.item())
    np.testing.assert_allclose(replayed, eager_losses[warmup:], rtol=1e-4, atol=1e-5)
    for (name, a), b in zip(eager.state_dict().items(), captured.state_dict().values()):
        np.testing.assert_allclose(b.cpu().numpy(), a.cpu().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


@requires_cuda
def test_uncapturable_operations_raise_and_leave_eager_mode_working():
    x = ember.randn(4, 4, device=CUDA)
    cases = [
        (lambda: x.sum().item(), "a copy from the GPU to the host"),
        (lambda: ember.tensor([1.0, 2.0], device=CUDA), "a copy from the host to the GPU"),
        (lambda: ember.rand(3, device=CUDA), "random sampling"),
        (lambda: ember.cuda.synchronize(), "synchronize"),
    ]
    for operation, message in cases:
        g = ember.cuda.CUDAGraph()
        with pytest.raises(RuntimeError, match=f"{message}.* cannot run while a CUDA graph is being captured"):
            with ember.cuda.graph(g):
                operation()
        with pytest.raises(RuntimeError, match="holds no capture"):
            g.replay()
    # eager mode is intact afterwards: host copies, sampling and cuBLAS through CuPy
    assert (x @ x).shape == (4, 4) and np.isfinite(ember.rand(2, device=CUDA).sum().item())


@requires_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shapes",
    [((5, 7), (7, 3)), ((7, 5), (7, 3), "a.T"), ((5, 7), (3, 7), "b.T"), ((2, 5, 7), (7, 3)), ((7,), (2, 7, 4))],
)
def test_matmul_under_capture_matches_eager(shapes, dtype):
    rng = np.random.default_rng(1)
    a_host, b_host = (rng.standard_normal(s).astype(dtype) for s in shapes[:2])
    a, b = ember.tensor(a_host, device=CUDA), ember.tensor(b_host, device=CUDA)
    if "a.T" in shapes:
        a, a_host = a.mT, a_host.T
    if "b.T" in shapes:
        b, b_host = b.mT, b_host.T
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        out = a @ b
    g.replay()
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.cpu().numpy(), a_host @ b_host, rtol=tol, atol=tol)


@requires_cuda
def test_make_graphed_callables_gives_eager_gradients():
    ember.manual_seed(0)
    eager = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4)).to(CUDA)
    graphed = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4)).to(CUDA)
    graphed.load_state_dict(eager.state_dict())
    sample = ember.randn(6, 8, device=CUDA, requires_grad=True)
    graphed = ember.cuda.make_graphed_callables(graphed, (sample,))
    for _ in range(2):
        x = ember.randn(6, 8, device=CUDA)
        xe, xg = x.clone().requires_grad_(), x.clone().requires_grad_()
        eager(xe).pow(2).sum().backward()
        graphed(xg).pow(2).sum().backward()
        np.testing.assert_allclose(xg.grad.cpu().numpy(), xe.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(eager.parameters(), graphed.parameters()):
        np.testing.assert_allclose(b.grad.cpu().numpy(), a.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)


@requires_cuda
def test_streams_and_events():
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    s = ember.cuda.Stream()
    assert s != ember.cuda.current_stream()
    start.record()
    s.wait_stream(ember.cuda.current_stream())
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        y = ember.ones(256, 256, device=CUDA) * 2
    ember.cuda.current_stream().wait_stream(s)
    end.record()
    end.synchronize()
    assert end.query() and s.query()
    assert start.elapsed_time(end) >= 0
    assert y.sum().item() == 2 * 256 * 256


@requires_cuda
def test_index_checks_are_deferred_to_the_next_sync():
    x = ember.randn(3, 5, device=CUDA)
    loss = F.cross_entropy(x, ember.tensor([0, 9, 1], device=CUDA))  # no wait for the GPU here
    with pytest.raises(RuntimeError, match="device-side assert triggered: nll_loss: Target 9 is out of bounds"):
        ember.cuda.synchronize()
    assert np.isfinite(loss.item())  # reported once; the state is clean again
    ignored = F.cross_entropy(x, ember.tensor([0, -100, 1], device=CUDA))
    assert np.isfinite(ignored.item())


@requires_cuda
def test_precision_flags_steer_matmul_and_conv():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 512)), rng.standard_normal((512, 256))
    exact = a @ b
    ea, eb = (ember.tensor(v.astype(np.float32), device=CUDA) for v in (a, b))

    def error(value):
        return np.abs(value.cpu().numpy() - exact).max() / np.abs(exact).max()

    matmul = ember.backends.cuda.matmul
    assert matmul.allow_tf32 is False
    strict = error(ea @ eb)
    try:
        matmul.allow_tf32 = True
        fast = error(ea @ eb)
    finally:
        matmul.allow_tf32 = False
    assert strict < 1e-5 and 5 * strict < fast < 1e-2  # TF32 keeps 10 mantissa bits
    assert error(ea @ eb) < 1e-5
    if ember.backends.cudnn.is_available():
        x = ember.tensor(rng.standard_normal((4, 64, 16, 16)).astype(np.float32), device=CUDA)
        w = ember.tensor(rng.standard_normal((32, 64, 3, 3)).astype(np.float32), device=CUDA)
        reference = F.conv2d(x.double(), w.double(), padding=1).cpu().numpy()
        results = {}
        for allow in (False, True):
            with ember.backends.cudnn.flags(enabled=True, allow_tf32=allow):
                out = F.conv2d(x, w, padding=1).cpu().numpy()
            results[allow] = np.abs(out - reference).max() / np.abs(reference).max()
        assert results[False] < 1e-4 and 5 * results[False] < results[True]


def test_optimizers_refuse_capture_when_replay_would_be_wrong(monkeypatch):
    model = nn.Linear(3, 2)
    model(ember.randn(4, 3)).sum().backward()
    adam, sgd = ember.optim.Adam(model.parameters()), ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    monkeypatch.setattr(ember.graphs, "_capturing", 1)  # as inside ember.cuda.graph(...)
    with pytest.raises(RuntimeError, match=r"Adam.step\(\) cannot be captured in a CUDA graph"):
        adam.step()
    with pytest.raises(RuntimeError, match="warm up before capturing"):
        sgd.step()
    monkeypatch.setattr(ember.graphs, "_capturing", 0)
    sgd.step()  # the warm-up step creates the momentum buffers
    monkeypatch.setattr(ember.graphs, "_capturing", 1)
    sgd.step()
