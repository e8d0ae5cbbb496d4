"""The GitHub side of :mod:`ember.hub`: a repository ``"owner/name[:ref]"`` downloaded once as a
zip archive into the hub directory (``<hub dir>/owner_name_ref``) and used from there, with
PyTorch's trust list (``<hub dir>/trusted_list``) and its checks, as ``torch.hub`` does it.

A repository already in the cache is used without the network, so a hub directory filled
beforehand (or by PyTorch, with :func:`ember.hub.set_dir` pointing at its hub directory) works
offline when the ref is named (``"owner/name:main"``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

__all__ = ["repository_dir"]

_TRUSTED_OWNERS = ("facebookresearch", "facebookincubator", "pytorch", "fairinternal")
_PATH_SEPARATOR = re.compile(r"[/\\]")


def _parse(github: str, hub_dir: str) -> tuple[str, str, str]:
    """``(owner, name, ref)``; without a ref, ``main`` if GitHub has that branch, else ``master``
    (offline: whichever of the two is in the cache)."""
    repository, _, ref = github.partition(":")
    owner, name = repository.split("/")
    if ref:
        return owner, name, ref
    try:
        with urlopen(f"https://github.com/{owner}/{name}/tree/main/"):
            return owner, name, "main"
    except HTTPError as error:
        if error.code == 404:
            return owner, name, "master"
        raise
    except URLError as error:
        for candidate in ("main", "master"):
            if os.path.exists(f"{hub_dir}/{owner}_{name}_{candidate}"):
                return owner, name, candidate
        raise RuntimeError(
            f"It looks like there is no internet connection and the repo could not be found in the cache ({hub_dir})"
        ) from error


def _check_trusted(owner: str, name: str, cached_name: str, trust_repo: Any, hub_dir: str) -> None:
    """Asks before running code of a repository not on the trust list (unless ``trust_repo=True``)."""
    trust_file = Path(hub_dir, "trusted_list")
    trust_file.touch()
    trusted = tuple(line.strip() for line in trust_file.read_text().splitlines())
    downloaded_before = next(os.walk(hub_dir))[1]  # a repository in the cache was trusted when it came
    owner_name = f"{owner}_{name}"
    is_trusted = owner_name in trusted or cached_name in downloaded_before or owner in _TRUSTED_OWNERS
    if trust_repo is False or (trust_repo == "check" and not is_trusted):
        response = input(
            f"The repository {owner_name} does not belong to the list of trusted repositories and as such cannot be "
            "downloaded. Do you trust this repository and wish to add it to the trusted list of repositories (y/N)?"
        )
        if response.lower() in ("y", "yes"):
            if is_trusted:
                print("The repository is already trusted.")
        elif response.lower() in ("n", "no", ""):
            raise Exception("Untrusted repository.")  # noqa: TRY002 - PyTorch's exception
        else:
            raise ValueError(f"Unrecognized response {response}.")
    if not is_trusted:
        with trust_file.open("a") as f:
            f.write(owner_name + "\n")


def _read_json(url: str, headers: dict[str, str]) -> Any:
    with urlopen(Request(url, headers=headers)) as response:
        return json.loads(response.read())


def _check_not_a_fork(owner: str, name: str, ref: str) -> None:
    """``ref`` is a branch, tag or commit of ``owner/name`` itself (GitHub's API serves a fork's
    commits under the parent's name too)."""
    headers = {"Accept": "application/vnd.github.v3+json"}
    if os.environ.get("GITHUB_TOKEN") is not None:
        headers["Authorization"] = f"token {os.environ['GITHUB_TOKEN']}"
    for listing in ("branches", "tags"):
        page = 0
        while True:
            page += 1
            url = f"https://api.github.com/repos/{owner}/{name}/{listing}?per_page=100&page={page}"
            try:
                entries = _read_json(url, headers)
            except HTTPError:  # again without a token that may lack the permission
                headers.pop("Authorization", None)
                entries = _read_json(url, headers)
            if not entries:
                break
            if any(entry["name"] == ref or entry["commit"]["sha"].startswith(ref) for entry in entries):
                return
    raise ValueError(
        f"Cannot find {ref} in https://github.com/{owner}/{name}. "
        "If it's a commit from a forked repo, please call hub.load() with forked repo directly."
    )


def _extract_safely(archive: zipfile.ZipFile, target: str) -> None:
    """Extracts ``archive`` into ``target``, refusing entries that would land outside it."""
    root = Path(target).resolve(strict=False)
    for member in archive.infolist():
        filename = os.path.normpath(member.filename)
        if filename.startswith(("/", "\\")) or (len(filename) >= 2 and filename[1] == ":" and filename[0].isalpha()):
            raise ValueError(f"Archive entry has absolute path: {member.filename}")
        if ".." in _PATH_SEPARATOR.split(filename):
            raise ValueError(f"Archive entry contains directory traversal: {member.filename}")
        if not (root / filename).resolve(strict=False).is_relative_to(root):
            raise ValueError(f"Archive entry escapes target directory: {member.filename}")
        archive.extract(member, root)


def _remove(path: str) -> None:
    if os.path.isfile(path):
        os.remove(path)
    elif os.path.exists(path):
        shutil.rmtree(path)


def repository_dir(
    github: str,
    hub_dir: str,
    download_url_to_file: Callable[..., None],
    *,
    force_reload: bool,
    trust_repo: Any,
    verbose: bool,
    skip_validation: bool,
) -> str:
    """The folder of ``github`` (``"owner/name[:ref]"``) in ``hub_dir``, downloaded with
    ``download_url_to_file`` (:func:`ember.hub.download_url_to_file`) unless cached."""
    os.makedirs(hub_dir, exist_ok=True)
    owner, name, ref = _parse(github, hub_dir)
    cached_name = f"{owner}_{name}_{ref.replace('/', '_')}"
    repo_dir = os.path.join(hub_dir, cached_name)
    _check_trusted(owner, name, cached_name, trust_repo, hub_dir)
    if not force_reload and os.path.exists(repo_dir):
        if verbose:
            sys.stderr.write(f"Using cache found in {repo_dir}\n")
        return repo_dir
    if not skip_validation:
        _check_not_a_fork(owner, name, ref)
    archive_file = os.path.join(hub_dir, ref.replace("/", "_") + ".zip")
    _remove(archive_file)
    url = f"https://github.com/{owner}/{name}/zipball/{ref}"
    sys.stderr.write(f'Downloading: "{url}" to {archive_file}\n')
    try:
        download_url_to_file(url, archive_file, progress=False)
    except HTTPError as error:
        if error.code != 300:
            raise
        warnings.warn(
            f"The ref {ref} is ambiguous (a tag and a branch); using the branch. Use refs/heads/<name> or "
            "refs/tags/<name> to choose.",
            stacklevel=3,
        )
        download_url_to_file(
            f"https://github.com/{owner}/{name}/zipball/refs/heads/{ref}", archive_file, progress=False
        )
    with zipfile.ZipFile(archive_file) as archive:
        extracted = os.path.join(hub_dir, archive.infolist()[0].filename)
        _remove(extracted)
        _extract_safely(archive, hub_dir)
    _remove(archive_file)
    _remove(repo_dir)
    shutil.move(extracted, repo_dir)
    return repo_dir
