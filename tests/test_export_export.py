"""``ember.export.export`` and ``ember.export.save``: ember modules captured as ATen graphs, saved, read
back by ember, and read by ``torch.export.load`` (real interop), compared with the module itself and with
the same model in PyTorch."""

import io

import numpy as np
import pytest

import ember
import ember.export
import ember.nn as enn
import ember.nn.functional as EF

torch = pytest.importorskip("torch")


class _Net(enn.Module):
    def __init__(self):
        super().__init__()
        self.conv = enn.Conv2d(3, 4, 3, padding=1)
        self.bn = enn.BatchNorm2d(4)
        self.pool = enn.MaxPool2d(2)
        self.fc = enn.Linear(4, 3)
        self.ln = enn.LayerNorm(3)

    def forward(self, x):
        y = ember.relu(self.bn(self.conv(x)))
        y = EF.adaptive_avg_pool2d(self.pool(y), 1).flatten(1)
        b = x.shape[0]
        return self.ln(self.fc(y)).softmax(-1).view(b, -1) * 2 + 1


def _roundtrip(ep):
    buf = io.BytesIO()
    ember.export.save(ep, buf)
    buf.seek(0)
    return buf


def test_export_records_aten_graph_and_runs_as_module():
    ember.manual_seed(0)
    model = _Net().eval()
    x = ember.randn(2, 3, 6, 6)
    ep = ember.export.export(model, (x,), dynamic_shapes={"x": {0: ember.export.Dim("batch", max=8)}})
    targets = [str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
    assert targets[:3] == [
        "torch.ops.aten.conv2d.default",
        "torch.ops.aten.batch_norm.default",
        "torch.ops.aten.relu.default",
    ]
    assert "torch.ops.aten.sym_size.int" in targets
    assert list(ep.graph_signature.parameters) == [n for n, _ in model.named_parameters()]
    assert sorted(ep.graph_signature.buffers) == sorted(n for n, _ in model.named_buffers())
    assert ep.graph_signature.user_inputs == ["x"]
    assert isinstance(ep.graph_module, ember.fx.GraphModule)
    m = ep.module()
    for n in (2, 5):  # sizes read in forward are recorded, not frozen
        x = ember.randn(n, 3, 6, 6)
        assert ember.allclose(m(x), model(x), atol=1e-6)
    assert ep.range_constraints == {"batch": (None, 8)}
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 8"):
        m(ember.randn(9, 3, 6, 6))
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[2\] == 6"):
        m(ember.randn(2, 3, 5, 6))


def test_static_export_refuses_other_sizes_as_torch():
    model = enn.Linear(3, 2)
    ep = ember.export.export(model, (ember.randn(4, 3),))
    t_ep = torch.export.export(torch.nn.Linear(3, 2), (torch.randn(4, 3),))
    with pytest.raises(AssertionError) as ours:
        ep.module()(ember.randn(5, 3))
    with pytest.raises(AssertionError) as theirs:
        t_ep.module()(torch.randn(5, 3))
    assert str(ours.value) == str(theirs.value) == "Guard failed: input.size()[0] == 4"
    assert ep.graph_signature.user_inputs == list(t_ep.graph_signature.user_inputs) == ["input"]
    assert list(ep.graph_signature.parameters) == list(t_ep.graph_signature.parameters)
    with pytest.raises(ValueError, match="not inputs of forward"):
        ember.export.export(model, (ember.randn(4, 3),), dynamic_shapes={"x": {0: ember.export.Dim("b")}})


def test_loaded_module_checks_sizes_as_torch():
    class M(torch.nn.Module):
        def forward(self, x, y):
            return x.sum(1) + y

    b = torch.export.Dim("b", min=2, max=8)
    t_ep = torch.export.export(M(), (torch.randn(4, 3), torch.randn(4)), dynamic_shapes={"x": {0: b}, "y": {0: b}})
    buf = io.BytesIO()
    torch.export.save(t_ep, buf)
    buf.seek(0)
    ours = ember.export.load(buf).module()
    buf.seek(0)
    theirs = torch.export.load(buf).module()
    cases = [((1, 3), (1,)), ((9, 3), (9,)), ((4, 2), (4,)), ((4, 3), (5,)), ((6, 3), (6,)), ((4, 3, 1), (4,))]
    for xs, ys in cases:
        x, y = torch.randn(*xs), torch.randn(*ys)
        try:
            expected = theirs(x, y)
        except AssertionError as exc:
            with pytest.raises(AssertionError) as got:
                ours(ember.tensor(x.numpy()), ember.tensor(y.numpy()))
            assert str(got.value) == str(exc)
        else:
            np.testing.assert_allclose(
                ours(ember.tensor(x.numpy()), ember.tensor(y.numpy())).numpy(), expected.numpy(), rtol=1e-6
            )


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_save_load_roundtrip_in_ember(mode, device):
    ember.manual_seed(0)
    model = getattr(_Net(), mode)()
    x = ember.randn(2, 3, 6, 6)
    ep = ember.export.export(model, (x,))
    loaded = ember.export.load(_roundtrip(ep))
    reference = getattr(_Net(), mode)()
    reference.load_state_dict(model.state_dict())
    ours = loaded.module().to(device)
    reference.to(device)
    xd = x.to(device)
    np.testing.assert_allclose(
        ours(xd).detach().cpu().numpy(), reference(xd).detach().cpu().numpy(), rtol=1e-5, atol=1e-6
    )
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].cpu().numpy(), value.cpu().numpy(), rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_torch_export_load_reads_embers_archive(mode):
    ember.manual_seed(0)
    model = getattr(_Net(), mode)()
    x = ember.randn(2, 3, 6, 6)
    ep = ember.export.export(model, (x,))
    theirs = torch.export.load(_roundtrip(ep))
    assert [str(s.kind).split(".")[-1] for s in theirs.graph_signature.input_specs][-1] == "USER_INPUT"
    expected = ep.module()
    for _ in range(2):  # the archive's sizes are static: torch checks them
        x = ember.randn(2, 3, 6, 6)
        got = theirs.module()(torch.tensor(x.numpy()))
        np.testing.assert_allclose(got.detach().numpy(), expected(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    if mode == "train":  # torch's module updates the running statistics as ember's does
        np.testing.assert_allclose(
            theirs.module().state_dict()["bn.running_mean"].numpy(), model.state_dict()["bn.running_mean"].numpy()
        )


def test_dynamic_batch_survives_save_for_torch_and_ember():
    class M(enn.Module):
        def __init__(self):
            super().__init__()
            self.lin = enn.Linear(4, 6)

        def forward(self, x):
            b = x.shape[0]
            return self.lin(x).view(b * 2, 3).softmax(-1).reshape(b, -1)

    ember.manual_seed(0)
    model = M()
    ep = ember.export.export(model, (ember.randn(3, 4),), dynamic_shapes=({0: ember.export.Dim("batch", max=64)},))
    buf = _roundtrip(ep)
    theirs = torch.export.load(buf)
    buf.seek(0)
    ours = ember.export.load(buf)
    assert ours.range_constraints == {"batch": (0, 64)}
    for n in (1, 3, 7):
        x = ember.randn(n, 4)
        expected = model(x).detach().numpy()
        np.testing.assert_allclose(
            theirs.module()(torch.tensor(x.numpy())).detach().numpy(), expected, rtol=1e-6, atol=1e-7
        )
        np.testing.assert_allclose(ours.module()(x).detach().numpy(), expected, rtol=1e-6, atol=1e-7)
    with pytest.raises(AssertionError) as expected:  # torch's guards from the archive's example inputs
        theirs.module()(torch.randn(65, 4))
    with pytest.raises(AssertionError) as got:
        ours.module()(ember.randn(65, 4))
    assert str(got.value) == str(expected.value) == "Guard failed: x.size()[0] <= 64"


def test_gpt_style_block_exports_and_torch_reads_it():
    class Block(enn.Module):
        def __init__(self, d=8, heads=2):
            super().__init__()
            self.heads = heads
            self.emb = enn.Embedding(20, d)
            self.ln = enn.LayerNorm(d)
            self.qkv = enn.Linear(d, 3 * d)
            self.mlp = enn.Sequential(enn.Linear(d, 16), enn.GELU(), enn.Linear(16, d))

        def forward(self, idx):
            x = self.emb(idx)
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln(x)).split(C, dim=2)
            q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
            k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
            v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
            y = EF.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
            x = x + y
            return x + self.mlp(x)

    ember.manual_seed(0)
    model = Block().eval()
    idx = ember.randint(0, 20, (2, 5))
    ep = ember.export.export(model, (idx,))
    np.testing.assert_allclose(ep.module()(idx).detach().numpy(), model(idx).detach().numpy(), rtol=1e-5, atol=1e-6)
    theirs = torch.export.load(_roundtrip(ep))
    got = theirs.module()(torch.tensor(idx.numpy()))
    np.testing.assert_allclose(got.detach().numpy(), model(idx).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_export_does_not_change_the_modules_buffers():
    model = _Net().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ember.export.export(model, (ember.randn(2, 3, 6, 6),))
    for key, value in model.state_dict().items():
        assert ember.equal(value, before[key]), key


def test_unlowered_call_is_named():
    class M(enn.Module):
        def forward(self, x):
            return ember.cumprod(x, 0)

    with pytest.raises(NotImplementedError, match="cumprod"):
        ember.export.export(M(), (ember.randn(3),))


def test_export_checks_its_arguments():
    with pytest.raises(TypeError, match="tuple"):
        ember.export.export(enn.Linear(2, 2), ember.randn(1, 2))
    with pytest.raises(TypeError, match="Module"):
        ember.export.export(lambda x: x, (ember.randn(1, 2),))


@pytest.mark.parametrize(
    "cls, kwargs",
    [("LSTM", {"batch_first": True}), ("GRU", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"num_layers": 2})],
)
def test_recurrent_layers_export_as_aten_rnn_and_torch_reads_them(cls, kwargs):
    class M(enn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(enn, cls)(4, 5, **kwargs)
            self.fc = enn.Linear(5 * (2 if kwargs.get("bidirectional") else 1), 2)

        def forward(self, x):
            out, state = self.rnn(x)
            return self.fc(out), state

    ember.manual_seed(0)
    model = M().eval()
    x = ember.randn(2, 3, 4)
    ep = ember.export.export(model, (x,))
    targets = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    assert f"torch.ops.aten.{cls.lower()}.input" in targets
    expected = model(x)
    flat = lambda o: [z for y in o for z in flat(y)] if isinstance(o, (tuple, list)) else [o]  # noqa: E731
    for got in (ep.module()(x), torch.export.load(_roundtrip(ep)).module()(torch.tensor(x.numpy()))):
        assert len(flat(got)) == len(flat(expected))
        for a, b in zip(flat(got), flat(expected)):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_keyword_input_dict_output_and_tensor_constant():
    class M(enn.Module):
        def __init__(self):
            super().__init__()
            self.conv = enn.Conv2d(3, 4, 3)
            self.scale = ember.tensor([1.0, 2.0, 3.0, 4.0])
            self.lin = enn.Linear(4, 2)

        def forward(self, x, y=None):
            h = EF.relu(self.conv(x), inplace=True).mean(dim=(2, 3)) * self.scale
            return {"logits": self.lin(ember.flatten(h, 1)), "aux": h.sum(-1, keepdim=True) + y.mean()}

    ember.manual_seed(0)
    model = M()
    x, y = ember.randn(2, 3, 5, 5), ember.randn(4)
    ep = ember.export.export(model, (x,), {"y": y})
    kinds = [(s.kind.name, s.target) for s in ep.graph_signature.input_specs]
    assert ("CONSTANT_TENSOR", "scale") in kinds and kinds[-2:] == [("USER_INPUT", None), ("USER_INPUT", None)]
    expected = model(x, y=y)
    buf = _roundtrip(ep)
    theirs = torch.export.load(buf).module()(torch.tensor(x.numpy()), y=torch.tensor(y.numpy()))
    buf.seek(0)
    ours = ember.export.load(buf).module()(x, y=y)
    for got in (ep.module()(x, y=y), ours, theirs):
        assert list(got) == ["logits", "aux"]
        for key in got:
            np.testing.assert_allclose(got[key].detach().numpy(), expected[key].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_export_checks_its_graph_against_the_module(monkeypatch):
    """A lowering mistake (here relu recorded as tanh) is an error at export, never a different program."""
    from ember.export import _trace

    emit = _trace._Lowering.emit

    def wrong(self, op, *args, **kwargs):
        return emit(self, "tanh.default" if op == "relu.default" else op, *args, **kwargs)

    monkeypatch.setattr(_trace._Lowering, "emit", wrong)
    with pytest.raises(RuntimeError, match="does not reproduce the module's output"):
        ember.export.export(enn.Sequential(enn.Linear(3, 3), enn.ReLU()), (ember.randn(4, 3),))
    ember.export.export(enn.Sequential(enn.Linear(3, 3), enn.Tanh()), (ember.randn(4, 3),))


def test_functional_conv_pool_activations_lower_as_torch():
    class M(enn.Module):
        def __init__(self):
            super().__init__()
            self.w = enn.Parameter(ember.randn(4, 3, 3, 3))
            self.b = enn.Parameter(ember.randn(4))

        def forward(self, x):
            y = EF.conv2d(x, self.w, self.b, stride=2, padding=1)
            y = EF.max_pool2d(EF.leaky_relu(y, 0.1), 2) + EF.avg_pool2d(EF.relu6(y), 2, stride=2)
            return EF.hardtanh(y, -0.5, 0.5)

    ember.manual_seed(0)
    model, x = M(), ember.randn(2, 3, 8, 8)
    ep = ember.export.export(model, (x,))
    names = [str(n.target).split(".")[-2] for n in ep.graph.nodes if n.op == "call_function"]
    assert names == ["conv2d", "leaky_relu", "max_pool2d", "hardtanh", "avg_pool2d", "add", "hardtanh"]
    got = torch.export.load(_roundtrip(ep)).module()(torch.tensor(x.numpy()))
    np.testing.assert_allclose(got.detach().numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
