"""A typical training script written against ember's annotated public API, checked by mypy.

The lint suite's mypy checks it (module ``user_program`` in ``[tool.mypy]``), and so does
tests/test_typing.py: a typed user program uses the public API as PyTorch's stubs allow, with no
error and no cast. That test also runs it (one short epoch on the default device, the CPU), so it
is a real program; ``user_mistakes.py`` next to it is its negative twin.
"""

from __future__ import annotations

import os
import tempfile

import ember
import ember.nn.functional as F
from ember import nn, optim
from ember.autograd import Function, FunctionCtx
from ember.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from ember.utils.data import DataLoader, Dataset, TensorDataset, random_split


class Net(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(8 * 14 * 14, classes)
        nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = self.pool(F.relu(self.bn(self.conv1(x))))
        x = self.drop(ember.flatten(x, 1))
        return F.log_softmax(self.fc(x), dim=1)


class Squares(Dataset):
    def __init__(self, n: int) -> None:
        self.x = ember.randn(n, 1, 28, 28)
        self.y = ember.randint(0, 10, (n,))

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, index: int) -> tuple[ember.Tensor, ember.Tensor]:
        return self.x[index], self.y[index]


class Cube(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: ember.Tensor) -> ember.Tensor:
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx: FunctionCtx, grad: ember.Tensor) -> ember.Tensor:
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct, seen = 0, 0
    with ember.no_grad():
        for x, y in loader:
            pred = model(x).argmax(dim=1)
            correct += int((pred == y).sum().item())
            seen += y.shape[0]
    return correct / max(seen, 1)


def main(epochs: int = 2) -> float:
    generator = ember.manual_seed(0)
    assert generator.initial_seed() == 0
    device = ember.device("cuda:0") if ember.cuda.is_available() else ember.device("cpu")

    train_set, val_set = random_split(Squares(64), [48, 16], generator=ember.Generator().manual_seed(1))
    train = DataLoader(train_set, batch_size=8, shuffle=True, num_workers=0, drop_last=True)
    val = DataLoader(val_set, batch_size=16)
    extra = TensorDataset(ember.zeros(4, 1, 28, 28), ember.zeros(4, dtype=ember.int64))
    assert len(extra) == 4

    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    plateau = ReduceLROnPlateau(optim.Adam(model.parameters(), lr=1e-3), mode="max", patience=1)

    for _ in range(epochs):
        model.train()
        for x, y in train:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = F.nll_loss(model(x), y, reduction="mean") + 0.0 * F.mse_loss(x.mean(), ember.tensor(0.0))
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            assert float(norm.item()) >= 0.0
            optimizer.step()
        scheduler.step()
        accuracy = evaluate(model, val)
        plateau.step(accuracy)
    lr: float | ember.Tensor = scheduler.get_last_lr()[0]
    assert lr is not None

    x = ember.linspace(-1.0, 1.0, 5, requires_grad=True)
    (dx,) = ember.autograd.grad(Cube.apply(x).sum(), x)
    assert dx is not None
    padded = F.pad(ember.ones(2, 3), (1, 1), value=0.0)
    up = F.interpolate(ember.ones(1, 1, 4, 4), scale_factor=2.0, mode="bilinear", align_corners=False)
    assert padded.shape[-1] == 5 and up.shape[2:] == ember.Size([8, 8])

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
        state = ember.load(path, map_location="cpu")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    return evaluate(model, val)


if __name__ == "__main__":
    print(f"accuracy {main():.3f}")
