"""ember.contrib.datasets: file formats built in the test, read back; downloads from file:// URLs."""

import gzip
import hashlib

import numpy as np
import pytest

import ember
from ember.contrib import datasets
from ember.utils.data import DataLoader


def _mnist_files(folder, n_train=5, n_test=3, gz=True, rng=None):
    rng = rng or np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        datasets.write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        datasets.write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        out[prefix] = (images, labels)
    return out


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_mnist_style_idx(tmp_path, cls, gz):
    truth = _mnist_files(tmp_path / cls.__name__ / "raw", gz=gz)
    train, test = cls(tmp_path), cls(tmp_path, train=False)
    assert len(train) == 5 and len(test) == 3
    image, label = test[2]
    assert image.shape == (1, 28, 28) and image.dtype == ember.float32
    np.testing.assert_allclose(image.numpy()[0], truth["t10k"][0][2] / np.float32(255), rtol=0, atol=0)
    assert label == int(truth["t10k"][1][2])
    assert train.data.dtype == ember.uint8 and train.targets.tolist() == truth["train"][1].tolist()
    x, y = next(iter(DataLoader(train, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and y.tolist() == truth["train"][1][:4].tolist()
    np.testing.assert_array_equal(x.numpy(), np.stack([train[i][0].numpy() for i in range(4)]))
    assert len(cls.classes) == 10


def test_files_directly_in_root_and_transforms(tmp_path):
    truth = _mnist_files(tmp_path, gz=False)
    ds = datasets.MNIST(tmp_path, transform=lambda x: x * 2, target_transform=lambda y: y + 100)
    image, label = ds[0]
    assert label == int(truth["train"][1][0]) + 100
    assert float(image.max()) <= 2.0


def test_idx_round_trip_and_errors(tmp_path):
    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        a = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
        datasets.write_idx(tmp_path / "a.idx", a)
        back = datasets.read_idx(tmp_path / "a.idx")
        assert back.dtype == np.dtype(dtype) and np.array_equal(back, a)
    datasets.write_idx(tmp_path / "a.idx.gz", np.ones((3, 2), np.uint8))
    assert gzip.open(tmp_path / "a.idx.gz").read()[:4] == b"\x00\x00\x08\x02"
    raw = (tmp_path / "a.idx").read_bytes()
    (tmp_path / "short.idx").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(tmp_path / "short.idx")
    (tmp_path / "bad.idx").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "bad.idx")


def test_missing_files_say_how_to_fix(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.MNIST(tmp_path)
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.CIFAR10(tmp_path)


def test_cifar10_binary(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    truth = {}
    for name, n in [(f"data_batch_{i}.bin", 2) for i in range(1, 6)] + [("test_batch.bin", 3)]:
        images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, n)
        datasets.write_cifar_binary(folder / name, images, labels)
        truth[name] = (images, labels)
    train, test = datasets.CIFAR10(tmp_path), datasets.CIFAR10(tmp_path, train=False)
    assert len(train) == 10 and len(test) == 3
    image, label = train[2]  # first record of data_batch_2
    assert image.shape == (3, 32, 32) and label == truth["data_batch_2.bin"][1][0]
    np.testing.assert_array_equal(image.numpy(), truth["data_batch_2.bin"][0][0] / np.float32(255))
    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="not a CIFAR-10 binary batch"):
        datasets.CIFAR10(tmp_path, train=False)


def test_download_checks_sha256_and_is_atomic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.bin").write_bytes(b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    dest = tmp_path / "dest"
    path = datasets.download_url([f"file://{src}/missing.bin", f"file://{src}/f.bin"], dest, "f.bin", sha)
    assert open(path, "rb").read() == b"hello" and datasets.check_integrity(path, sha)
    with pytest.raises(RuntimeError, match="SHA-256 mismatch"):
        datasets.download_url(f"file://{src}/f.bin", dest, "g.bin", "0" * 64)
    assert sorted(p.name for p in dest.iterdir()) == ["f.bin"]  # nothing half-written left


def test_mnist_download_from_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _mnist_files(mirror, n_train=2, n_test=2)
    hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in mirror.iterdir()}
    monkeypatch.setattr(datasets.MNIST, "mirrors", [f"file://{mirror}/"])
    monkeypatch.setattr(datasets.MNIST, "resources", hashes)
    ds = datasets.MNIST(tmp_path / "data", download=True)
    assert len(ds) == 2 and (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()


def test_load_digits():
    pytest.importorskip("sklearn")
    train, test = datasets.load_digits()
    assert (len(train), len(test)) == (1438, 359)
    image, label = train[0]
    assert image.shape == (1, 8, 8) and 0 <= label < 10 and 0.0 <= float(image.min()) <= float(image.max()) <= 1.0
    again, _ = datasets.load_digits()
    assert again.targets.tolist() == train.targets.tolist()
