"""Files ``torch.jit.save`` wrote (TorchScript archives): ``ember.load`` refuses them naming TorchScript (as
``torch.load(weights_only=True)`` does), and ``ember.jit.load`` reads their parameters and buffers into a
module tree whose ``state_dict()`` equals ``torch.jit.load(f).state_dict()`` and whose code refuses to run."""

import io
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


class _Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1, bias=False), torch.nn.BatchNorm2d(3))
        self.head = torch.nn.Linear(12, 2)
        self.scale = 2.5
        self.register_buffer("steps", torch.arange(4, dtype=torch.int16))
        self.register_parameter("unused", None)

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


class _EmberModel(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = ember.nn.Sequential(ember.nn.Conv2d(1, 3, 3, padding=1, bias=False), ember.nn.BatchNorm2d(3))
        self.head = ember.nn.Linear(12, 2)
        self.scale = 2.5
        self.register_buffer("steps", ember.zeros(4, dtype=ember.int16))

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


def _archive(model=None, **kwargs):
    torch.manual_seed(0)
    model = model or _Model()
    with torch.no_grad():
        if isinstance(model, _Model):
            model.features[1].running_mean.uniform_()
            model.features[1].running_var.uniform_(1.0, 2.0)
            model.features[1].num_batches_tracked.fill_(7)
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model.eval()), buffer, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize("weights_only", [True, False])
def test_ember_load_names_torchscript(weights_only):
    data = _archive()
    with pytest.raises(RuntimeError, match="TorchScript"):
        torch.load(io.BytesIO(data), weights_only=True)  # torch's own refusal (weights_only=False runs it)
    with pytest.raises(RuntimeError, match=r"TorchScript archive \(written by torch.jit.save.*ember.jit.load"):
        ember.load(io.BytesIO(data), weights_only=weights_only)
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="checkpoint returned by torch.save but got a torchscript checkpoint"):
            lib.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))


def test_jit_load_gives_torchs_state_dict_and_structure(tmp_path):
    data = _archive()
    theirs = torch.jit.load(io.BytesIO(data))
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    ours = ember.jit.load(path)
    assert repr(ours) == repr(theirs)
    assert ours.original_name == theirs.original_name == "_Model"
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        got = ours.state_dict()[key]
        assert str(got.dtype) == str(value.dtype).replace("torch", "ember"), key
        np.testing.assert_array_equal(got.numpy(), value.numpy())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, ember.nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert ours.training is theirs.training is False and ours.scale == theirs.scale == 2.5
    bn, conv = getattr(ours.features, "1"), getattr(ours.features, "0")
    assert bn.eps == getattr(theirs.features, "1").eps == 1e-5 and bn.training is False
    assert conv.kernel_size == getattr(theirs.features, "0").kernel_size == (3, 3)
    with pytest.raises(NotImplementedError, match="TorchScript code of _Model does not run in ember"):
        ours(ember.ones(1, 1, 2, 2))


def test_jit_load_weights_run_in_the_ember_model():
    torch_model = _Model()
    data = _archive(torch_model)
    model = _EmberModel().eval()
    assert model.load_state_dict(ember.jit.load(io.BytesIO(data)).state_dict()) is not None
    x = np.random.default_rng(0).standard_normal((2, 1, 2, 2)).astype(np.float32)
    with torch.no_grad():
        want = torch_model.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(ember.from_numpy(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)


def test_jit_load_extra_files_and_map_location():
    data = _archive(_extra_files={"config.json": '{"a": 1}'})
    extra = {"config.json": "", "absent.txt": ""}
    theirs = {"config.json": "", "absent.txt": ""}
    torch.jit.load(io.BytesIO(data), _extra_files=theirs)
    module = ember.jit.load(io.BytesIO(data), map_location="meta", _extra_files=extra)
    assert extra == theirs == {"config.json": b'{"a": 1}', "absent.txt": b""}
    assert {str(t.device) for t in module.state_dict().values()} == {"meta"}


def test_jit_load_errors(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"w": torch.ones(2)}, plain)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="constants.pkl"):
            lib.jit.load(plain)
        with pytest.raises(ValueError, match="does not exist"):
            lib.jit.load(tmp_path / "missing.pt")
        with pytest.raises(ValueError, match="is a directory"):
            lib.jit.load(tmp_path)
    data = bytearray(_archive())
    with pytest.raises(RuntimeError):
        ember.jit.load(io.BytesIO(bytes(data[: len(data) // 2])))


def test_jit_load_runs_nothing_from_the_file():
    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    data = bytearray(_archive(torch.nn.Linear(2, 2)))
    # an archive whose data.pkl calls a global off the weights-only list is refused, naming it
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(bytes(data)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename.endswith("/data.pkl"):
                payload = pickle.dumps(Evil(), protocol=2)
            target.writestr(info.filename, payload)
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        ember.jit.load(io.BytesIO(out.getvalue()))
