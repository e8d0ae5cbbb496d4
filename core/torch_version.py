"""``ember.torch_version``: :class:`TorchVersion`, the ``str`` that ``ember.__version__`` is (as
``torch.__version__`` is one), which compares as a version with tuples, strings and version objects.

Programs test the framework's version as ``torch.__version__ >= (2, 0)`` or ``torch.__version__ < "1.10"``;
as a plain string the first raises ``TypeError`` and the second compares letters (``"1.9" > "1.10"``).
A :class:`TorchVersion` compares by PEP 440's rules (``1.10 > 1.9``, ``2.0rc1 < 2.0``, ``2.0 < 2.0.post1``)
and is a ``str`` for everything else (printing, hashing, ``split``, JSON).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["TorchVersion"]

# PEP 440's public version scheme (epoch, release, pre, post, dev, local), its normalisations included
_VERSION = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?:-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


class _InvalidVersion(ValueError):
    """A string that is not a PEP 440 version (``'parrot'``)."""


def _key(text: str) -> tuple:
    """The sort key of a PEP 440 version: releases without trailing zeros, a dev release before its
    pre-releases, pre-releases before the release, post-releases after it, local labels after none."""
    match = _VERSION.match(text)
    if match is None:
        raise _InvalidVersion(text)
    release = [int(part) for part in match["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    has_post = match["post_l"] is not None or match["post_n1"] is not None
    if match["pre_l"] is not None:
        pre = (_PRE_RANK[match["pre_l"].lower()], int(match["pre_n"] or 0))
    elif match["dev_l"] is not None and not has_post:
        pre = (-1, 0)  # 1.0.dev0 sorts before 1.0a0
    else:
        pre = (3, 0)
    post = int(match["post_n1"] or match["post_n2"] or 0) if has_post else -1
    dev = int(match["dev_n"] or 0) if match["dev_l"] is not None else float("inf")
    local: tuple = (0,)
    if match["local"] is not None:  # numeric parts sort after alphanumeric ones, as PEP 440 says
        parts = re.split(r"[-_.]", match["local"].lower())
        local = (1, tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts))
    return int(match["epoch"] or 0), tuple(release), pre, post, dev, local


def _other_key(other: Any) -> tuple:
    if isinstance(other, str):
        return _key(other)
    if hasattr(other, "release") and hasattr(other, "public"):  # a packaging.version.Version
        return _key(str(other))
    if isinstance(other, Iterable):  # (2, 1) is 2.1, (1, 20, 1) is 1.20.1
        return _key(".".join(str(item) for item in other))
    raise _InvalidVersion(other)


class TorchVersion(str):
    """A version string that compares as a version with strings, tuples (``(2, 1)`` is 2.1) and
    ``packaging.version.Version`` objects; when either side is not a PEP 440 version (``'parrot'``) it
    compares as a string. ``!=`` is ``str``'s, as PyTorch's.

    Example::

        >>> from ember.torch_version import TorchVersion
        >>> v = TorchVersion("1.10.0")
        >>> v > "1.9", v > (1, 9), v == (1, 10), v < "1.10.0.post1"
        (True, True, True, True)
        >>> "1.10.0" > "1.9"  # a plain str compares letters
        False
    """

    __slots__ = ()

    def _compare(self, other: Any, method: str) -> Any:
        try:
            mine, theirs = _key(str(self)), _other_key(other)
        except _InvalidVersion:
            return getattr(str, method)(self, other)
        return getattr(mine, method)(theirs)

    def __eq__(self, other: object) -> Any:
        return self._compare(other, "__eq__")

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, "__lt__")

    def __le__(self, other: Any) -> Any:
        return self._compare(other, "__le__")

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, "__gt__")

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, "__ge__")

    __hash__ = str.__hash__  # defining __eq__ would otherwise make it unhashable
