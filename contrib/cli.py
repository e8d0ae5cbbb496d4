"""The ``ember`` command (also ``python -m ember``): ``ember info``, ``ember train``, ``ember bench``, ``--version``."""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

import ember
import ember.backends
from ember.plugin import failed_plugins
from ember.tensor import backend_for_device

__all__ = ["main", "info", "INSTALL_HINTS"]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "text")
MODELS = ("lenet", "mlp", "resnet20", "transformer")


#: backend name -> how to install what it needs, printed under an unavailable backend
#: whose own error message does not already say it.
INSTALL_HINTS = {
    "cupy": 'pip install "ember[cupy]" (CUDA 13; "ember[cupy-cuda12]" for CUDA 12) and an NVIDIA driver',
    "opencl": 'pip install "ember[opencl]" and an OpenCL runtime (a GPU driver, or pip install pocl-binary-distribution)',
}


class _UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


INFO_HELP = """\
List every registered backend (first-party and plugins) with its devices; for a backend that
is unavailable, the reason and how to install what it needs.
"""
INFO_EXAMPLES = """\
  ember info
  python -m ember info
"""

TRAIN_HELP = """\
Train a model on a dataset with a progress bar, a line per epoch, a checkpoint (model,
optimizer, scheduler, epoch, metrics and random-generator states) and a PNG of the curves
in --out. SGD with momentum 0.9, --weight-decay and a cosine-annealed --lr; BLAS limited
to --blas-threads. By default LeNet-5 on scikit-learn's 8x8 digits (no download).
--model transformer trains a character-level Transformer language model (a causal
nn.TransformerEncoder) on --dataset text, windows of --seq-len characters of --text FILE
(the last 10% for testing), and reports the test loss and perplexity.
"""
TRAIN_EXAMPLES = """\
  ember train                                      # LeNet-5 on digits, 15 epochs, on the CPU
  ember train --device opencl:0 --epochs 5
  ember train --dataset mnist --data-dir data --download
  ember train --epochs 15 --stop-after 5 && ember train --epochs 15 --resume
  ember train --model transformer --dataset text --text corpus.txt --lr 0.5
"""

BENCH_HELP = """\
Run every script in the benchmarks folder, each timing ember and PyTorch side by side in
one process (needs PyTorch: pip install torch). Exit status 1 if any script fails.
"""
BENCH_EXAMPLES = """\
  ember bench                      # ./benchmarks, else the source tree's
  ember bench --dir benchmarks
"""


def _version() -> str:
    return f"ember {ember.__version__}"


class _Version(argparse.Action):
    """``--version``: print the version and exit."""

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str = argparse.SUPPRESS,
        default: Any = argparse.SUPPRESS,
        help: str | None = None,
    ) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(_version())
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ember",
        description="ember: the torch.nn programming model on swappable backends. "
        "`python -m ember COMMAND` is the same as `ember COMMAND`.",
        epilog="examples:\n  ember info\n  ember train --epochs 5\n  ember train --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="{info,train,bench}", parser_class=_Parser)

    def command(name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=description,
            epilog="examples:\n" + examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    command("info", "list the backends, their devices, and why any is unavailable", INFO_HELP, INFO_EXAMPLES)
    train = command(
        "train", "train a model on a dataset, with progress, checkpoints and a plot", TRAIN_HELP, TRAIN_EXAMPLES
    )
    train.add_argument("--dataset", choices=DATASETS, default="digits", help="default: digits (needs no download)")
    train.add_argument("--data-dir", default="data", help="folder of the dataset files (default: ./data)")
    train.add_argument("--download", action="store_true", help="fetch mnist/fashion-mnist/cifar10 into --data-dir")
    train.add_argument("--model", choices=MODELS, default="lenet", help="default: lenet")
    train.add_argument("--text", default=None, metavar="FILE", help="the UTF-8 corpus of --dataset text")
    train.add_argument(
        "--seq-len", type=_positive(int), default=64, help="characters per window of --dataset text (default: 64)"
    )
    train.add_argument(
        "--d-model",
        type=_positive(int),
        default=128,
        help="width of --model transformer (default: 128; 4 heads if it divides, else 1; FFN 4x)",
    )
    train.add_argument(
        "--layers", type=_positive(int), default=2, help="encoder layers of --model transformer (default: 2)"
    )
    train.add_argument(
        "--device", default=None, help="cpu, restricted, cuda:0, opencl:0, ... (default: the default device)"
    )
    train.add_argument("--epochs", type=_positive(int), default=15, help="total epochs (default: 15)")
    train.add_argument("--batch-size", type=_positive(int), default=32, help="default: 32")
    train.add_argument(
        "--lr", type=_positive(float), default=0.05, help="SGD learning rate, cosine-annealed (default: 0.05)"
    )
    train.add_argument("--weight-decay", type=float, default=5e-4, help="SGD weight decay (default: 5e-4)")
    train.add_argument(
        "--out", default=None, help="output folder for the checkpoint and plot (default: runs/DATASET-MODEL)"
    )
    train.add_argument("--resume", action="store_true", help="continue exactly from the checkpoint in --out")
    train.add_argument(
        "--stop-after",
        type=_positive(int),
        default=None,
        metavar="N",
        help="stop after epoch N of --epochs (continue later with --resume)",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument(
        "--blas-threads",
        type=_positive(int),
        default=1,
        help="BLAS threads (default: 1; these small models run fastest single-threaded)",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch only)")
    bench = command(
        "bench", "run the scripts in benchmarks/ (ember and PyTorch side by side)", BENCH_HELP, BENCH_EXAMPLES
    )
    bench.add_argument(
        "--dir", default=None, help="the benchmarks folder (default: ./benchmarks, else the source tree's)"
    )
    return parser


def _device(name: str | None) -> ember.device:
    if name is None:
        return ember.device(ember.get_default_device())
    try:
        dev = ember.device(name)
        backend_for_device(dev)
    except Exception as exc:
        raise _UsageError(f"ember train: error: argument --device: {name!r} is not usable: {exc}") from None
    return dev


def _datasets(args: argparse.Namespace) -> tuple[Any, Any]:
    # deferred: only `ember train` needs the datasets (and their optional dependencies)
    from ember.contrib import datasets

    if args.dataset == "text":
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
        return datasets.CharText(text, args.seq_len), datasets.CharText(text, args.seq_len, train=False)
    if args.dataset == "digits":
        return datasets.Digits(train=True), datasets.Digits(train=False)
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[args.dataset]
    try:
        return cls(args.data_dir, train=True, download=args.download), cls(args.data_dir, train=False)
    except RuntimeError as exc:
        # the datasets' message names their Python argument (download=True); name the CLI's flag
        reason, python_hint, _ = str(exc).partition("; pass download=True")
        if not python_hint:
            raise
        raise RuntimeError(f"{reason}; pass --download to fetch it into --data-dir {args.data_dir}") from None


def _model(args: argparse.Namespace, sample_shape: tuple[int, ...], num_classes: int) -> ember.nn.Module:
    # deferred: only `ember train` needs the models (and so ember.nn)
    from ember.contrib import models

    name = args.model
    if name == "transformer":
        heads = 4 if args.d_model % 4 == 0 else 1
        return models.TransformerLanguageModel(
            num_classes,
            d_model=args.d_model,
            nhead=heads,
            num_layers=args.layers,
            dim_feedforward=4 * args.d_model,
            max_len=args.seq_len,
            batch_first=True,
        )
    channels = sample_shape[0]
    if name == "lenet":
        return models.LeNet5(num_classes, in_channels=channels)
    if name == "mlp":
        features = 1
        for s in sample_shape:
            features *= s
        return models.MLP(features, num_classes)
    return models.resnet20(num_classes, in_channels=channels)


def _next_token_loss(output: ember.Tensor, target: ember.Tensor) -> ember.Tensor:
    """Cross-entropy of (N, L, V) logits against (N, L) next tokens, averaged over every position."""
    return ember.nn.functional.cross_entropy(output.flatten(0, 1), target.flatten())


def _limit_blas_threads(count: int) -> Any:
    """Cap the BLAS thread pools (NumPy's OpenBLAS/MKL) when threadpoolctl (a scikit-learn dependency) is there."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=count, user_api="blas")


def train(args: argparse.Namespace) -> int:
    # deferred: training pulls in ember.nn and ember.optim, which `ember info`, `--help` and
    # `--version` do not need
    from ember.contrib.train import CHECKPOINT_NAME, evaluate, fit
    from ember.utils.data import DataLoader

    language_model = args.model == "transformer"
    if language_model != (args.dataset == "text"):
        raise _UsageError("ember train: error: --model transformer and --dataset text go together")
    if args.dataset == "text" and args.text is None:
        raise _UsageError("ember train: error: --dataset text needs --text FILE")
    device = _device(args.device)
    out = args.out or os.path.join("runs", f"{args.dataset}-{args.model}")
    checkpoint = os.path.join(out, CHECKPOINT_NAME)
    if args.resume and not os.path.isfile(checkpoint):
        raise _UsageError(f"ember train: error: --resume: no checkpoint at {checkpoint}")
    _limit_blas_threads(args.blas_threads)
    ember.manual_seed(args.seed)
    train_set, test_set = _datasets(args)
    sample_shape = tuple(train_set[0][0].shape)
    model = _model(args, sample_shape, len(train_set.classes)).to(device)
    optimizer = ember.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    scheduler = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    generator = ember.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    test_loader = DataLoader(test_set, batch_size=256)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"training {args.model} ({params:,} parameters) on {args.dataset} ({len(train_set)} train / "
        f"{len(test_set)} test {'windows' if language_model else 'images'} of {'x'.join(map(str, sample_shape))}) "
        f"on {device} "
        f"[{ember.tensor(0, device=device)._backend.name} backend], {args.epochs} epochs"
        + (f", resuming from {checkpoint}" if args.resume else ""),
        flush=True,
    )
    start = time.perf_counter()
    plot = os.path.join(out, "curves.png")
    fit(
        model,
        train_loader,
        optimizer,
        _next_token_loss if language_model else ember.nn.CrossEntropyLoss(),
        min(args.stop_after or args.epochs, args.epochs),
        val_loader=test_loader,
        device=device,
        checkpoint_dir=out,
        resume=args.resume,
        progress="epoch" if args.no_progress else True,
        plot_path=plot,
        scheduler=scheduler,
    )
    if language_model:
        result = evaluate(model, test_loader, _next_token_loss, device=device)
        print(f"test loss: {result['loss']:.4f} (perplexity {math.exp(result['loss']):.2f})")
    else:
        result = evaluate(model, test_loader, device=device)
        correct = round(result["accuracy"] * result["samples"])
        print(f"test accuracy: {100 * result['accuracy']:.2f}% ({correct}/{result['samples']})")
    print(f"checkpoint: {checkpoint}")
    if os.path.isfile(plot):
        print(f"plot: {plot}")
    print(f"time: {time.perf_counter() - start:.1f}s")
    return 0


def bench(args: argparse.Namespace) -> int:
    folder = args.dir
    if folder is None:
        candidates = [
            "benchmarks",
            os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__))), "benchmarks"),
        ]
        folder = next((c for c in candidates if os.path.isdir(c)), None)
    if folder is None or not os.path.isdir(folder):
        raise _UsageError("ember bench: error: no benchmarks/ folder found (pass --dir)")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise _UsageError("ember bench: error: the benchmarks compare with PyTorch: pip install torch") from None
    scripts = sorted(f for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_"))
    if not scripts:
        print(f"no benchmark scripts in {folder}")
        return 0
    failed = 0
    for script in scripts:
        print(f"== {script}", flush=True)
        failed += subprocess.call([sys.executable, os.path.join(folder, script)]) != 0
    return 1 if failed else 0


def info(stream: TextIO | None = None) -> None:
    """Print every registered backend with its devices, or the reason it is unavailable and how to install it."""
    stream = stream or sys.stdout
    print(f"ember {ember.__version__}", file=stream)
    print("backends:", file=stream)
    for spec, devices in ember.backends.list_backends():
        if spec.instance is None:
            print(f"  {spec.name} ({spec.device_type}): unavailable - {spec.error}", file=stream)
            hint = INSTALL_HINTS.get(spec.name)
            if hint and "pip install" not in str(spec.error):
                print(f"    to install: {hint}", file=stream)
            continue
        print(f"  {spec.name} ({spec.device_type}): {len(devices)} device(s)", file=stream)
        for name, description in devices:
            print(f"    {name}: {description}", file=stream)
    for name, reason in failed_plugins().items():
        print(f"  plugin {name}: failed to load - {reason}", file=stream)
    print(_numba_status(), file=stream)
    print(_onednn_status(), file=stream)


def _numba_status() -> str:
    """Whether the cpu backend's ReLU, normalizations and max pooling run as compiled loops."""
    from ember.backends.numpy.loops import runtime

    if runtime.get() is not None:
        return "Numba: the cpu backend's ReLU, normalizations and max pooling as compiled loops (ember.backends.numpy.loops)"
    if runtime.installed():
        return (
            f"Numba: installed, but the compiled loops serve {ember.get_num_threads()} threads only beside "
            "oneDNN (ember.backends.numpy.loops): those kernels run as NumPy ufuncs"
        )
    return 'Numba: not installed, those kernels run as NumPy ufuncs (pip install "ember[numba]")'


def _onednn_status() -> str:
    """Whether the cpu backend's float32 convolutions and float32/bfloat16 matrix products run in oneDNN."""
    from ember.backends import mkldnn

    if mkldnn.is_available():
        return "oneDNN: the cpu backend's float32 convolutions and float32/bfloat16 matrix products (ember.backends.mkldnn)"
    return 'oneDNN: not installed, the cpu backend computes with NumPy alone (pip install "ember[onednn]", Linux on x86-64)'


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ember`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
        if args.command in (None, "info"):
            info()
            return 0
        return train(args) if args.command == "train" else bench(args)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ember: interrupted", file=sys.stderr)
        return 130
    except (OSError, RuntimeError, ValueError, ImportError) as exc:
        print(f"ember {argv[0] if argv else ''}: error: {exc}".replace("  ", " "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
