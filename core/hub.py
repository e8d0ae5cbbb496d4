"""``ember.hub``: pretrained weights from URLs and models from ``hubconf.py`` files, PyTorch's
``torch.hub``.

:func:`load_state_dict_from_url` downloads a checkpoint once into ``<hub dir>/checkpoints`` and
loads it with :func:`ember.load` (PyTorch's zip format, its legacy pickle format, and the legacy
zip archive holding one such file, as ``torch.hub`` accepts them). :func:`load`, :func:`list`
and :func:`help` call the entrypoints of a repository's ``hubconf.py``: one on GitHub
(``"owner/name[:ref]"``, downloaded once into the hub directory, see :mod:`ember.hub_github`)
or in a local directory (``source="local"``). A hub repository runs on ember where its code
does (its ``hubconf.py`` usually imports ``torch``).

The hub directory is ``$EMBER_HOME/hub``, ``$EMBER_HOME`` defaulting to
``$XDG_CACHE_HOME/ember`` (``~/.cache/ember``), unless :func:`set_dir` chose another.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import importlib.util
import os
import re
import shutil
import sys
import types
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from .hub_github import repository_dir
from .serialization import MapLocation
from .serialization import load as _load_file

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

_READ_CHUNK = 128 * 1024
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")  # resnet18-5c106cde.pth: the SHA-256 prefix 5c106cde
_HUBCONF = "hubconf"
_hub_dir: str | None = None


def get_dir() -> str:
    r"""The directory where downloaded weights and hub repositories are kept.

    :func:`set_dir` sets it; otherwise it is ``$EMBER_HOME/hub``, with ``$EMBER_HOME``
    defaulting to ``$XDG_CACHE_HOME/ember`` (``~/.cache/ember``).

    Example::

        >>> ember.hub.get_dir().endswith("hub")
        True
    """
    if _hub_dir is not None:
        return _hub_dir
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return os.path.join(os.path.expanduser(os.getenv("EMBER_HOME", os.path.join(cache, "ember"))), "hub")


def set_dir(d: str | os.PathLike[str]) -> None:
    r"""Sets the directory :func:`get_dir` returns (``~`` is expanded).

    Args:
        d (str or PathLike): the directory.

    Example::

        >>> previous = ember.hub.get_dir()
        >>> ember.hub.set_dir("/tmp/ember_hub")
        >>> ember.hub.get_dir()
        '/tmp/ember_hub'
        >>> ember.hub.set_dir(previous)
    """
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


class _Progress:
    """A byte count on stderr, tqdm's when tqdm is installed."""

    def __init__(self, total: int | None, enabled: bool) -> None:
        self.bar: Any = None
        self.enabled, self.total, self.done = enabled, total, 0
        if enabled:
            with contextlib.suppress(ImportError):
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024)

    def update(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.enabled:
            shown = f"{100 * self.done / self.total:.1f}%" if self.total else f"{self.done} bytes"
            sys.stderr.write(f"\r{shown}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    r"""Downloads the object at ``url`` (``https://``, ``http://``, ``file://``, ...) to the file ``dst``.

    The object is written to a temporary file beside ``dst`` and moved into place once complete,
    so an interrupted download never leaves a broken ``dst``.

    Args:
        url (str): the URL of the object.
        dst (str): the path to save it to (``~`` is expanded).
        hash_prefix (str, optional): if given, the SHA-256 of the download must start with it;
            otherwise :class:`RuntimeError`. Default: ``None``.
        progress (bool, optional): show the progress on stderr. Default: ``True``.

    Example::

        >>> import pathlib
        >>> ember.save({"w": ember.ones(2)}, "weights.pt")
        >>> url = pathlib.Path("weights.pt").absolute().as_uri()
        >>> ember.hub.download_url_to_file(url, "copy.pt", progress=False)
        >>> ember.load("copy.pt")
        {'w': tensor([1., 1.])}
    """
    dst = os.path.expanduser(dst)
    partial = f"{dst}.{uuid.uuid4().hex}.partial"
    sha256 = hashlib.sha256() if hash_prefix is not None else None
    try:
        with urlopen(Request(url, headers={"User-Agent": "ember.hub"})) as response, open(partial, "wb") as out:
            length = response.info().get("Content-Length")
            bar = _Progress(int(length) if length else None, progress)
            while buffer := response.read(_READ_CHUNK):
                out.write(buffer)
                if sha256 is not None:
                    sha256.update(buffer)
                bar.update(len(buffer))
            bar.close()
        if sha256 is not None and hash_prefix is not None:
            digest = sha256.hexdigest()
            if digest[: len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(partial, dst)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _is_legacy_zip(filename: str) -> bool:
    """A zip archive holding a single file: how checkpoints were shipped before PyTorch 1.6."""
    if not zipfile.is_zipfile(filename):
        return False
    with zipfile.ZipFile(filename) as archive:
        members = archive.infolist()
    return len(members) == 1 and not members[0].is_dir()


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location: MapLocation = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = False,
) -> dict[str, Any]:
    r"""Loads the object saved at ``url``, downloading it into ``model_dir`` unless it is there.

    The file keeps the URL's file name (or ``file_name``); a file of that name already in
    ``model_dir`` is loaded without a download. The file is read by :func:`ember.load`: PyTorch's
    zip format or its legacy pickle format, or a zip archive holding one file in either
    (extracted into ``model_dir`` first).

    Args:
        url (str): the URL of the object.
        model_dir (str, optional): the directory to save it in. Default: ``<hub dir>/checkpoints``
            (see :func:`get_dir`).
        map_location (optional): where to place the tensors, as in :func:`ember.load`.
            Default: ``None``.
        progress (bool, optional): show the download progress on stderr. Default: ``True``.
        check_hash (bool, optional): the file name's ``filename-<sha256>.ext`` part must be a
            prefix of the SHA-256 of the download; otherwise :class:`RuntimeError`.
            Default: ``False``.
        file_name (str, optional): the name of the saved file. Default: the URL's.
        weights_only (bool, optional): unpickle tensors, primitive types and dictionaries only,
            as in :func:`ember.load`. Default: ``False``.

    Example::

        >>> import pathlib
        >>> ember.save({"w": ember.ones(2)}, "weights.pt")
        >>> url = pathlib.Path("weights.pt").absolute().as_uri()
        >>> ember.hub.load_state_dict_from_url(url, model_dir="cache", progress=False)
        Downloading: "file:///.../weights.pt" to cache/weights.pt
        {'w': tensor([1., 1.])}
    """
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        named_hash = _HASH_IN_NAME.search(filename) if check_hash else None
        download_url_to_file(url, cached_file, named_hash.group(1) if named_hash else None, progress=progress)
    if _is_legacy_zip(cached_file):
        warnings.warn(
            "Falling back to the old format < 1.6. This support will be deprecated in favor of default zipfile "
            "format introduced in 1.6. Please redo ember.save() to save it in the new zipfile format.",
            FutureWarning,
            stacklevel=2,
        )
        with zipfile.ZipFile(cached_file) as archive:
            member = archive.infolist()[0]
            archive.extractall(model_dir)
        cached_file = os.path.join(model_dir, member.filename)
    return _load_file(cached_file, map_location=map_location, weights_only=weights_only)


@contextlib.contextmanager
def _hubconf(repo_or_dir: str, source: str, **github_options: Any) -> Iterator[types.ModuleType]:
    """The ``hubconf.py`` module of the repository (its folder first on ``sys.path``, so that it
    imports the repository's own modules, while the caller uses it)."""
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    repo_dir = (
        repository_dir(repo_or_dir, get_dir(), download_url_to_file, **github_options)
        if source == "github"
        else repo_or_dir
    )
    sys.path.insert(0, repo_dir)
    try:
        spec = importlib.util.spec_from_file_location(_HUBCONF, os.path.join(repo_dir, _HUBCONF + ".py"))
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"ember.hub: no {_HUBCONF}.py in {repo_dir!r}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(repo_dir)


def _entrypoint(hubconf: types.ModuleType, model: str) -> Callable[..., Any]:
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    missing = [name for name in getattr(hubconf, "dependencies", []) if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    entry = getattr(hubconf, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry


def list(
    github: str,
    force_reload: bool = False,
    skip_validation: bool = False,
    trust_repo: Any = "check",
    verbose: bool = True,
    *,
    source: str = "github",
) -> builtins.list[str]:  # noqa: A001 - torch's name
    r"""The names of the entrypoints (public callables) of a repository's ``hubconf.py``.

    Args:
        github (str): ``"owner/name[:ref]"`` on GitHub, or a directory with ``source="local"``.
        force_reload, skip_validation, trust_repo, verbose: as in :func:`load`.
        source (str, optional): ``"github"`` or ``"local"`` (an ember extension: PyTorch's
            ``list`` reads GitHub only). Default: ``"github"``.

    Example::

        >>> import pathlib
        >>> _ = pathlib.Path("hubconf.py").write_text("def tiny():\n    pass\n")
        >>> ember.hub.list(".", source="local")
        ['tiny']
    """
    options = {"force_reload": force_reload, "trust_repo": trust_repo, "verbose": verbose}
    with _hubconf(github, source, skip_validation=skip_validation, **options) as hubconf:
        return [name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_")]


def help(
    github: str,
    model: str,
    force_reload: bool = False,
    skip_validation: bool = False,
    trust_repo: Any = "check",
    *,
    source: str = "github",
) -> str | None:  # noqa: A001 - torch's name
    r"""The docstring of the entrypoint ``model`` of a repository's ``hubconf.py``.

    Args:
        github (str): ``"owner/name[:ref]"`` on GitHub, or a directory with ``source="local"``.
        model (str): the name of the entrypoint.
        force_reload, skip_validation, trust_repo: as in :func:`load`.
        source (str, optional): ``"github"`` or ``"local"`` (an ember extension: PyTorch's
            ``help`` reads GitHub only). Default: ``"github"``.

    Example::

        >>> import pathlib
        >>> _ = pathlib.Path("hubconf.py").write_text('def tiny():\n    "A tiny model."\n')
        >>> ember.hub.help(".", "tiny", source="local")
        'A tiny model.'
    """
    options = {"force_reload": force_reload, "trust_repo": trust_repo, "verbose": True}
    with _hubconf(github, source, skip_validation=skip_validation, **options) as hubconf:
        return _entrypoint(hubconf, model).__doc__


def load(
    repo_or_dir: str,
    model: str,
    *args: Any,
    source: str = "github",
    trust_repo: Any = "check",
    force_reload: bool = False,
    verbose: bool = True,
    skip_validation: bool = False,
    **kwargs: Any,
) -> Any:
    r"""Calls the entrypoint ``model`` of a repository's ``hubconf.py`` with ``*args, **kwargs``.

    The repository's folder is first on ``sys.path`` while the entrypoint runs, so ``hubconf.py``
    imports the repository's modules; a ``dependencies`` list in it names the packages it needs,
    and a missing one is a :class:`RuntimeError`.

    Args:
        repo_or_dir (str): ``"owner/name[:ref]"`` on GitHub (without a ref: ``main`` if it
            exists, else ``master``), or a directory with ``source="local"``.
        model (str): the name of the entrypoint.
        *args: its positional arguments.
        source (str, optional): ``"github"`` or ``"local"``. Default: ``"github"``.
        trust_repo (bool or str, optional): for GitHub: ``"check"`` asks before running a
            repository that is not on the hub directory's trust list (``trusted_list``),
            ``True`` adds it without asking, ``False`` always asks. Default: ``"check"``.
        force_reload (bool, optional): download the GitHub repository again even if cached.
            Default: ``False``.
        verbose (bool, optional): say when a cached repository is used. Default: ``True``.
        skip_validation (bool, optional): do not ask GitHub's API whether ``ref`` belongs to
            the repository (rather than to a fork). Default: ``False``.
        **kwargs: its keyword arguments.

    Returns:
        What the entrypoint returns, usually a model.

    Example::

        >>> import pathlib
        >>> _ = pathlib.Path("hubconf.py").write_text("import ember\ndef tiny(n=2):\n    return ember.nn.Linear(n, 1)\n")
        >>> ember.hub.load(".", "tiny", 3, source="local")
        Linear(in_features=3, out_features=1, bias=True)
    """
    options = {"force_reload": force_reload, "trust_repo": trust_repo, "verbose": verbose}
    with _hubconf(repo_or_dir, source, skip_validation=skip_validation, **options) as hubconf:
        return _entrypoint(hubconf, model)(*args, **kwargs)
