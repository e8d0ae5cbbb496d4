"""``ember.export.load`` against PyTorch: archives written by ``torch.export.save`` (made here by torch
itself), run by ember with ember's ops, compared with ``torch``'s own ``ep.module()`` -- outputs, and the
buffers a training-mode batch norm updates."""

import copy
import io

import numpy as np
import pytest

import ember
import ember.export

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


class _ResBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.c2(y) + y
        y = F.avg_pool2d(self.pool(y), 2)
        return self.fc(torch.flatten(self.gap(y), 1))


class _GPTBlock(nn.Module):
    def __init__(self, d=16, heads=2):
        super().__init__()
        self.heads = heads
        self.emb = nn.Embedding(50, d)
        self.ln = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d), nn.SiLU())
        self.drop = nn.Dropout(0.1)

    def forward(self, idx):
        x = self.emb(idx)
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.drop(self.proj(y))
        x = x + self.mlp(x)
        return F.softmax(x, -1), x.mean(dim=1)


class _CNN1D(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Conv1d(3, 8, 5, padding=2)
        s.b = nn.BatchNorm1d(8)
        s.p = nn.MaxPool1d(2)
        s.g = nn.AdaptiveAvgPool1d(1)
        s.f = nn.Linear(8, 2)

    def forward(s, x):
        return s.f(s.g(s.p(F.relu(s.b(s.c(x))))).squeeze(-1))


class _ViT(nn.Module):
    def __init__(s, d=16):
        super().__init__()
        s.pe = nn.Conv2d(3, d, 4, stride=4)
        s.cls = nn.Parameter(torch.randn(1, 1, d))
        s.pos = nn.Parameter(torch.randn(1, 5, d))
        s.mha = nn.MultiheadAttention(d, 2)
        s.ln = nn.LayerNorm(d)
        s.head = nn.Linear(d, 3)

    def forward(s, x):
        y = s.pe(x).flatten(2).transpose(1, 2)
        y = torch.cat([s.cls.expand(y.shape[0], -1, -1), y], 1) + s.pos
        z = s.ln(y).transpose(0, 1)
        a, _ = s.mha(z, z, z)
        y = y + a.transpose(0, 1)
        return s.head(y[:, 0])


class _Mobile(nn.Module):
    def __init__(s):
        super().__init__()
        s.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        s.pw = nn.Conv2d(4, 8, 1)
        s.bn = nn.BatchNorm2d(8)
        s.act = nn.Hardswish()
        s.r6 = nn.ReLU6()
        s.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 2, 1), nn.ReLU(), nn.Conv2d(2, 8, 1), nn.Hardsigmoid()
        )

    def forward(s, x):
        y = s.act(s.bn(s.pw(s.r6(s.dw(x)))))
        return y * s.se(y)


class _Causal(nn.Module):
    def __init__(s):
        super().__init__()
        s.register_buffer("mask", torch.tril(torch.ones(6, 6)).view(1, 1, 6, 6))
        s.q = nn.Linear(8, 8)

    def forward(s, x):
        B, T, C = x.size()
        q = s.q(x).view(B, T, 2, 4).transpose(1, 2)
        att = (q @ q.transpose(-2, -1)) * (1.0 / (4**0.5))
        att = att.masked_fill(s.mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        return (att @ q).transpose(1, 2).contiguous().view(B, T, C)


def _models():
    return {
        "mlp": (
            lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Tanh()),
            lambda: (torch.randn(3, 4),),
        ),
        "resblock_eval": (lambda: _ResBlock().eval(), lambda: (torch.randn(2, 3, 8, 8),)),
        "resblock_train": (lambda: _ResBlock().train(), lambda: (torch.randn(2, 3, 8, 8),)),
        "gpt_block": (lambda: _GPTBlock().eval(), lambda: (torch.randint(0, 50, (2, 5)),)),
        "transformer_encoder": (
            lambda: nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, dropout=0.0).eval(),
            lambda: (torch.randn(2, 5, 16),),
        ),
        "lstm": (lambda: nn.LSTM(4, 6, batch_first=True).eval(), lambda: (torch.randn(2, 3, 4),)),
        "cnn1d_train": (lambda: _CNN1D().train(), lambda: (torch.randn(2, 3, 16),)),
        "vit_mha": (lambda: _ViT().eval(), lambda: (torch.randn(2, 3, 8, 8),)),
        "mobile_se_train": (lambda: _Mobile().train(), lambda: (torch.randn(2, 4, 6, 6),)),
        "causal_mask_attention": (lambda: _Causal(), lambda: (torch.randn(2, 6, 8),)),
        "gru": (lambda: nn.GRU(4, 6, num_layers=2).eval(), lambda: (torch.randn(3, 2, 4),)),
    }


def _save(ep):
    buf = io.BytesIO()
    torch.export.save(ep, buf)
    buf.seek(0)
    return buf


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _leaves(item)]
    return [out]


def _to_ember(t, device, dtype):
    e = ember.tensor(t.numpy(), device=device)
    return e.to(dtype) if e.is_floating_point() else e


def _check_outputs(ours, theirs, dtype):
    assert type(ours) is type(theirs) or not isinstance(theirs, (tuple, list))
    ours, theirs = _leaves(ours), _leaves(theirs)
    assert len(ours) == len(theirs)
    tol = 1e-12 if dtype is ember.float64 else 2e-5
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("decompose", [False, True], ids=["training_ir", "decomposed"])
@pytest.mark.parametrize("name", list(_models()))
def test_load_runs_torch_exports_as_torch(name, decompose, device, dtype):
    make, inputs = _models()[name]
    torch.manual_seed(0)
    tdtype = torch.float64 if dtype is ember.float64 else torch.float32
    model = make().to(tdtype)
    args = tuple(a.to(tdtype) if a.is_floating_point() else a for a in inputs())
    ep = torch.export.export(copy.deepcopy(model), args)
    if decompose:
        ep = ep.run_decompositions()
    loaded = ember.export.load(_save(ep))
    ours_module = loaded.module().to(device)
    theirs_module = ep.module()
    for _ in range(2):  # twice: training-mode batch norm's updated statistics are used again
        ours = ours_module(*(_to_ember(a, device, dtype) for a in args))
        theirs = theirs_module(*args)
        _check_outputs(ours, theirs, dtype)
    ours_state, theirs_state = ours_module.state_dict(), theirs_module.state_dict()
    assert sorted(ours_state) == sorted(theirs_state)
    for key, value in theirs_state.items():
        np.testing.assert_allclose(ours_state[key].cpu().numpy(), value.numpy(), rtol=1e-6, atol=1e-6, err_msg=key)


def test_train_mode_batch_norm_updates_buffers_as_torch():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU()).train()
    x = torch.randn(4, 2, 5, 5)
    for decompose in (False, True):
        ep = torch.export.export(copy.deepcopy(model), (x,))
        ep = ep.run_decompositions() if decompose else ep
        ours, theirs = ember.export.load(_save(ep)).module(), ep.module()
        before = ours.state_dict()["1.running_mean"].clone()
        ours(ember.tensor(x.numpy()))
        theirs(x)
        assert not ember.equal(ours.state_dict()["1.running_mean"], before)
        for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
            np.testing.assert_allclose(ours.state_dict()[key].numpy(), theirs.state_dict()[key].numpy(), rtol=1e-6)
        assert ours.state_dict()["1.num_batches_tracked"].dtype is ember.int64


def test_dynamic_batch_runs_at_other_sizes():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 6)

        def forward(self, x):
            y = self.lin(x)
            b = y.shape[0]
            return F.gelu(y.view(b * 2, 3), approximate="tanh").reshape(b, -1).softmax(-1), y[:, 1:5:2]

    torch.manual_seed(0)
    batch = torch.export.Dim("batch", min=2, max=64)
    ep = torch.export.export(M(), (torch.randn(5, 4),), dynamic_shapes={"x": {0: batch}})
    targets = {str(n.target) for n in ep.graph.nodes}
    assert "aten.sym_size.int" in targets
    for decompose in (False, True):
        ep2 = ep.run_decompositions() if decompose else ep
        loaded = ember.export.load(_save(ep2))
        assert loaded.range_constraints
        for n in (2, 7, 13):
            x = torch.randn(n, 4)
            _check_outputs(loaded.module()(ember.tensor(x.numpy())), ep2.module()(x), ember.float32)


def test_keyword_inputs_and_nested_outputs():
    class M(nn.Module):
        def forward(self, x, *, scale):
            return {"sum": x + scale, "parts": [x * 2, torch.tanh(scale)]}

    x, s = torch.randn(2, 3), torch.randn(2, 3)
    ep = torch.export.export(M(), (x,), {"scale": s})
    ours = ember.export.load(_save(ep)).module()(ember.tensor(x.numpy()), scale=ember.tensor(s.numpy()))
    theirs = ep.module()(x, scale=s)
    assert isinstance(ours, dict) and list(ours) == list(theirs) and isinstance(ours["parts"], list)
    _check_outputs([ours["sum"], ours["parts"]], [theirs["sum"], theirs["parts"]], ember.float32)


def test_loaded_program_exposes_signature_state_and_graph(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).eval()
    ep = torch.export.export(model, (torch.randn(4, 3),))
    path = tmp_path / "model.pt2"
    torch.export.save(ep, str(path))
    loaded = ember.export.load(str(path))
    assert isinstance(loaded, ember.export.ExportedProgram)
    sig = loaded.graph_signature
    assert list(sig.parameters) == list(ep.graph_signature.parameters)
    assert list(sig.buffers) == list(ep.graph_signature.buffers)
    assert list(sig.user_inputs) == list(ep.graph_signature.user_inputs)
    assert sorted(loaded.state_dict) == sorted(ep.state_dict)
    assert isinstance(loaded.state_dict["0.weight"], ember.nn.Parameter)
    ours_targets = [str(n.target) for n in loaded.graph.nodes if n.op == "call_function"]
    theirs_targets = ["torch.ops." + str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
    assert ours_targets == theirs_targets
    module = loaded.module()
    assert isinstance(module, ember.nn.Module)
    assert sorted(dict(module.named_parameters())) == sorted(dict(ep.module().named_parameters()))
    with pytest.raises(RuntimeError, match="module()"):
        loaded(ember.randn(4, 3))


def test_gradients_flow_to_loaded_parameters():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    ep = torch.export.export(model, (x,))
    ours = ember.export.load(_save(ep)).module()
    ours(ember.tensor(x.numpy())).sum().backward()
    model(x).sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), model.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, err_msg=name)


def test_unknown_operator_names_the_aten_op():
    class M(nn.Module):
        def forward(self, x):
            return torch.special.bessel_j0(x)

    ep = torch.export.export(M(), (torch.randn(3),))
    with pytest.raises(NotImplementedError, match="aten.special_bessel_j0.default"):
        ember.export.load(_save(ep))


def test_not_an_archive_is_a_clear_error(tmp_path):
    path = tmp_path / "x.pt2"
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/b.txt", "x")
    with pytest.raises(RuntimeError, match="not a torch.export archive"):
        ember.export.load(str(path))


@pytest.mark.parametrize("decompose", [False, True], ids=["training_ir", "decomposed"])
@pytest.mark.parametrize("name", ["mlp", "resblock_train", "gpt_block", "lstm"])
def test_ember_save_of_a_loaded_program_is_read_by_torch(name, decompose):
    """torch.export.save -> ember.export.load -> ember.export.save -> torch.export.load gives torch's numbers."""
    make, inputs = _models()[name]
    torch.manual_seed(0)
    model, args = make(), inputs()
    ep = torch.export.export(copy.deepcopy(model), args)
    if decompose:
        ep = ep.run_decompositions()
    loaded = ember.export.load(_save(ep))
    buf = io.BytesIO()
    ember.export.save(loaded, buf)
    buf.seek(0)
    again = torch.export.load(buf)
    assert [s.kind for s in again.graph_signature.input_specs] == [s.kind for s in ep.graph_signature.input_specs]
    _check_outputs(again.module()(*args), ep.module()(*args), ember.float32)
    buf.seek(0)
    ours = ember.export.load(buf).module()(*(_to_ember(a, "cpu", ember.float32) for a in args))
    _check_outputs(ours, ep.module()(*args), ember.float32)


@pytest.mark.parametrize("decompose", [False, True], ids=["training_ir", "decomposed"])
def test_mutated_user_input_and_buffer_written_back_as_torch(decompose):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", torch.zeros(2))

        def forward(self, inp, y):
            inp.add_(1)
            self.count.add_(y.sum(0))
            return inp * 2

    x, y = torch.randn(2, 2), torch.randn(3, 2)
    ep = torch.export.export(M(), (x.clone(), y))
    if decompose:
        ep = ep.run_decompositions()
        kinds = [s.kind.name for s in ep.graph_signature.output_specs]
        assert kinds == ["BUFFER_MUTATION", "USER_INPUT_MUTATION", "USER_OUTPUT"]
    ours_module, theirs_module = ember.export.load(_save(ep)).module(), ep.module()
    xe, xt = ember.tensor(x.numpy()), x.clone()
    for _ in range(2):
        out_e, out_t = ours_module(xe, ember.tensor(y.numpy())), theirs_module(xt, y)
        np.testing.assert_array_equal(out_e.numpy(), out_t.numpy())
        np.testing.assert_array_equal(xe.numpy(), xt.numpy())
        np.testing.assert_array_equal(ours_module.count.numpy(), theirs_module.count.numpy())


def test_constant_input_is_specialized_as_torch():
    class M(nn.Module):
        def forward(self, x, n: int):
            return x * n

    x = torch.randn(2, 3)
    ep = torch.export.export(M(), (x, 3))
    ours = ember.export.load(_save(ep)).module()
    np.testing.assert_array_equal(ours(ember.tensor(x.numpy()), 3).numpy(), ep.module()(x, 3).numpy())
    with pytest.raises(AssertionError) as theirs:
        ep.module()(x, 4)
    with pytest.raises(AssertionError) as got:
        ours(ember.tensor(x.numpy()), 4)
    assert str(got.value) == str(theirs.value)


def test_constants_and_non_persistent_buffers():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("offset", torch.arange(3.0), persistent=False)
            self.scale = torch.tensor([1.0, 2.0, 3.0])
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x) * self.scale + self.offset

    torch.manual_seed(0)
    x = torch.randn(2, 3)
    for decompose in (False, True):
        ep = torch.export.export(M(), (x,))
        ep = ep.run_decompositions() if decompose else ep
        loaded = ember.export.load(_save(ep))
        assert loaded.graph_signature.non_persistent_buffers == ["offset"]
        module = loaded.module()
        assert "offset" not in module.state_dict() and "offset" in dict(module.named_buffers())
        np.testing.assert_allclose(
            # float32 tolerances: the linear's dot products round as the CPU's BLAS kernel sums them
            module(ember.tensor(x.numpy())).detach().numpy(),
            ep.module()(x).detach().numpy(),
            rtol=1.3e-6,
            atol=1e-5,
        )


def test_mode_switch_refused_and_copies_independent_as_torch():
    torch.manual_seed(0)
    ep = torch.export.export(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), (torch.randn(4, 3),))
    ours, theirs = ember.export.load(_save(ep)).module(), ep.module()
    for name in ("train", "eval"):
        with pytest.raises(NotImplementedError) as expected:
            getattr(theirs, name)()
        with pytest.raises(NotImplementedError) as got:
            getattr(ours, name)()
        assert str(got.value) == str(expected.value)
    twin = copy.deepcopy(ours)
    x = ember.randn(4, 3)
    assert ember.equal(twin(x), ours(x))
    assert ember.equal(twin.state_dict()["1.running_mean"], ours.state_dict()["1.running_mean"])
    assert twin.state_dict()["1.running_mean"] is not ours.state_dict()["1.running_mean"]


def test_example_inputs_read_and_written_as_torch():
    torch.manual_seed(0)
    x = torch.randn(2, 3)
    ep = torch.export.export(nn.Linear(3, 2), (x,))
    loaded = ember.export.load(_save(ep))
    (args, kwargs) = loaded.example_inputs
    assert kwargs == {} and len(args) == 1
    np.testing.assert_array_equal(args[0].numpy(), x.numpy())
    buf = io.BytesIO()
    ember.export.save(loaded, buf)
    buf.seek(0)
    (t_args, t_kwargs) = torch.export.load(buf).example_inputs
    assert t_kwargs == {}
    assert torch.equal(t_args[0], x)


def test_inline_constant_and_item_run_and_cond_is_refused_by_name():
    class WithItem(nn.Module):
        def forward(self, x):
            return x * torch.tensor([1.0, 2.0, 3.0]) + x.sum().item()

    class WithCond(nn.Module):
        def forward(self, x):
            return torch.cond(x.sum() > 0, lambda x: x + 1, lambda x: x - 1, (x,))

    x = torch.randn(2, 3)
    ep = torch.export.export(WithItem(), (x,))
    assert "aten.item.default" in {str(n.target) for n in ep.graph.nodes}
    ours = ember.export.load(_save(ep)).module()(ember.tensor(x.numpy()))
    np.testing.assert_allclose(ours.numpy(), ep.module()(x).numpy(), rtol=1e-6, atol=1e-6)
    ep = torch.export.export(WithCond(), (x,))
    with pytest.raises(NotImplementedError, match=r"torch\.ops\.higher_order\.cond"):
        ember.export.load(_save(ep))
