"""ember.contrib.train: fit/evaluate on a tiny problem; bit-exact resume; checkpoint contents; plot."""

import io

import pytest

import ember
from ember import nn
from ember.contrib.train import CHECKPOINT_NAME, evaluate, fit
from ember.utils.data import DataLoader, TensorDataset


def _data():
    g = ember.Generator().manual_seed(1)
    x = ember.randn(40, 4, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    return TensorDataset(x, y)


def _setup(device, seeded_loader):
    ember.manual_seed(123)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3)).to(device)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
    generator = ember.Generator().manual_seed(7) if seeded_loader else None
    loader = DataLoader(_data(), batch_size=8, shuffle=True, generator=generator)
    return model, optimizer, scheduler, loader


@pytest.mark.parametrize("seeded_loader", [True, False])
def test_resume_is_bit_exact(device, tmp_path, seeded_loader):
    model, optimizer, scheduler, loader = _setup(device, seeded_loader)
    fit(model, loader, optimizer, epochs=4, device=device, progress=False, scheduler=scheduler)
    expected = {k: v.numpy(force=True).tobytes() for k, v in model.state_dict().items()}

    model, optimizer, scheduler, loader = _setup(device, seeded_loader)
    fit(model, loader, optimizer, epochs=2, device=device, progress=False, scheduler=scheduler, checkpoint_dir=tmp_path)
    ember.manual_seed(999)  # a fresh process would start from other generator states
    model, optimizer, scheduler, loader = _setup(device, seeded_loader)
    ember.manual_seed(999)
    history = fit(
        model,
        loader,
        optimizer,
        epochs=4,
        device=device,
        progress=False,
        scheduler=scheduler,
        checkpoint_dir=tmp_path,
        resume=True,
    )
    got = {k: v.numpy(force=True).tobytes() for k, v in model.state_dict().items()}
    assert got == expected
    assert history["epoch"] == [1, 2, 3, 4]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9**4)


def test_fit_learns_reports_and_checkpoints(tmp_path):
    model, optimizer, _, loader = _setup("cpu", True)
    log = io.StringIO()
    history = fit(
        model,
        loader,
        optimizer,
        nn.CrossEntropyLoss(),
        epochs=6,
        val_loader=DataLoader(_data(), batch_size=16),
        checkpoint_dir=tmp_path,
        plot_path=tmp_path / "curves.png",
        log=log,
    )
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert 0.0 <= history["val_accuracy"][-1] <= 1.0 and len(history["samples_per_s"]) == 6
    assert "epoch 6/6 | train loss" in log.getvalue()
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = ember.load(tmp_path / CHECKPOINT_NAME)
    assert state["epoch"] == 6 and set(state) >= {"model", "optimizer", "rng", "history"}
    assert "loader" in state["rng"]
    result = evaluate(model, DataLoader(_data(), batch_size=16))
    assert result["samples"] == 40 and result["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert model.training


def test_resume_errors(tmp_path):
    model, optimizer, _, loader = _setup("cpu", True)
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        fit(model, loader, optimizer, epochs=1, checkpoint_dir=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        fit(model, loader, optimizer, epochs=1, resume=True, progress=False)
    with pytest.raises(ValueError, match=r"expected each batch to be \(inputs, targets\)"):
        fit(model, DataLoader(list(range(4))), optimizer, epochs=1, progress=False)
