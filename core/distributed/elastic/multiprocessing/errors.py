"""``@record``, as PyTorch's ``torch.distributed.elastic.multiprocessing.errors.record``: the
decorator a training script puts on its entry point so that an uncaught exception is written,
with its traceback, to the JSON file ``TORCHELASTIC_ERROR_FILE`` names (when it names one) before
it propagates.

Example::

    >>> from ember.distributed.elastic.multiprocessing.errors import record
    >>> @record
    ... def main():
    ...     return "trained"
    >>> main()
    'trained'
"""

from __future__ import annotations

import functools
import json
import os
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["record"]

_R = TypeVar("_R")


def record(fn: Callable[..., _R], error_handler: Any = None) -> Callable[..., _R | None]:
    """Wrap ``fn`` so that an exception it raises is recorded in ``TORCHELASTIC_ERROR_FILE`` (if
    set) and raised again; ``SystemExit(0)`` returns None, another exit code propagates.

    Args:
        fn (callable): the entry point, usually ``main``.
        error_handler: PyTorch's custom error handler; accepted, the JSON file is PyTorch's format.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> _R | None:
        try:
            return fn(*args, **kwargs)
        except SystemExit as exit_:
            if exit_.code == 0:
                return None
            raise
        except Exception as error:
            path = os.environ.get("TORCHELASTIC_ERROR_FILE")
            if path:
                message = {
                    "message": f"{type(error).__name__}: {error}",
                    "extraInfo": {"py_callstack": traceback.format_exc(), "timestamp": str(int(time.time()))},
                }
                with open(path, "w") as file:
                    json.dump({"message": message}, file)
            raise

    return wrapper
