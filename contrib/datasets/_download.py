"""Fetching dataset files: SHA-256 checked, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request

__all__ = ["download_url", "check_integrity", "sha256_of"]


def sha256_of(path, chunk_size=1 << 20):
    """The hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_integrity(path, sha256=None):
    """True if ``path`` exists and (when given) has SHA-256 ``sha256``."""
    if not os.path.isfile(path):
        return False
    return sha256 is None or sha256_of(path) == sha256.lower()


def download_url(urls, root, filename, sha256, timeout=60):
    """Download ``filename`` into ``root`` from the first of ``urls`` that works.

    The file is streamed to a temporary file beside its destination, its SHA-256 is
    checked, and only then is it renamed into place: an interrupted or corrupt download
    never leaves a file that looks complete. A file already present with the right hash
    is kept.

    Args:
        urls: a URL or a list of mirror URLs (``file://`` works too).
        root: the destination folder (created if needed).
        filename: the name to save under.
        sha256: the expected hex SHA-256 of the file.
        timeout: seconds to wait for each connection. Default: ``60``.

    Returns:
        The path of the file.

    Raises:
        RuntimeError: no mirror delivered a file with the expected hash.
    """
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, filename)
    if check_integrity(path, sha256):
        return path
    errors = []
    for url in [urls] if isinstance(urls, str) else urls:
        fd, tmp = tempfile.mkstemp(dir=root, prefix="." + filename + ".", suffix=".part")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256.lower():
                raise ValueError(f"SHA-256 mismatch: expected {sha256}, got {digest.hexdigest()}")
            os.replace(tmp, path)
            return path
        except Exception as exc:  # try the next mirror
            errors.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(f"could not download {filename}: " + "; ".join(errors))
