"""``ember.futures``: PyTorch's :class:`Future`, the result of an asynchronous operation.

A collective started with ``async_op=True`` gives a :class:`~ember.distributed.Work`, whose
``get_future()`` is a :class:`Future` of the tensors it writes; DDP's communication hooks return
one per gradient bucket. A future is either completed by someone calling :meth:`Future.set_result`
(another thread, say) or, for an operation that finishes when waited on (an MPI request), by the
first :meth:`Future.wait`.

Example::

    >>> fut = ember.futures.Future()
    >>> doubled = fut.then(lambda f: f.value() * 2)
    >>> fut.set_result(ember.tensor([1.0, 2.0]))
    >>> doubled.wait()
    tensor([2., 4.])
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    """The result of an asynchronous operation, available once the operation completes.

    Args:
        devices (list, optional): PyTorch's CUDA devices whose streams the value lives on;
            accepted (ember's backends order their own work).

    Example::

        >>> fut = ember.futures.Future()
        >>> fut.done()
        False
        >>> fut.set_result(3)
        >>> fut.done(), fut.wait()
        (True, 3)
    """

    def __init__(self, *, devices: list[Any] | None = None) -> None:
        self._completed = threading.Event()
        self._lock = threading.Lock()
        self._result: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], object]] = []
        self._finish: Callable[[], object] | None = None  # completes this future when waited on

    @classmethod
    def _completed_by(cls, finish: Callable[[Future[T]], object]) -> Future[T]:
        """A future that the first :meth:`wait` completes by calling ``finish(future)``."""
        future: Future[T] = cls()
        future._finish = lambda: finish(future)
        return future

    def done(self) -> bool:
        """Whether the value (or an error) is set.

        Example::

            >>> ember.futures.Future().done()
            False
        """
        return self._completed.is_set()

    def wait(self) -> T:
        """Block until the future completes; its value, or the error it completed with raised here.

        Example::

            >>> fut = ember.futures.Future()
            >>> fut.set_result("ready")
            >>> fut.wait()
            'ready'
        """
        finish, self._finish = self._finish, None
        if finish is not None:
            try:
                finish()
            except Exception as error:  # noqa: BLE001 - the operation's error is the future's
                if not self.done():
                    self.set_exception(error)
        self._completed.wait()
        if self._exception is not None:
            raise self._exception
        return self._result

    def value(self) -> T:
        """The value of a completed future (the error it completed with is raised); a future that
        completes when waited on is waited on.

        Example::

            >>> fut = ember.futures.Future()
            >>> fut.set_result(1)
            >>> fut.value()
            1
        """
        if not self.done() and self._finish is None:
            raise RuntimeError("Future.value(): the future has not completed yet; call wait() instead")
        return self.wait()

    def set_result(self, result: T) -> None:
        """Complete the future with ``result``, then run the callbacks added so far.

        Example::

            >>> fut = ember.futures.Future()
            >>> fut.set_result(ember.ones(2))
            >>> fut.wait()
            tensor([1., 1.])
        """
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an error, which :meth:`wait` and :meth:`value` raise.

        Example::

            >>> fut = ember.futures.Future()
            >>> fut.set_exception(ValueError("lost"))
            >>> fut.wait()
            Traceback (most recent call last):
            ...
            ValueError: lost
        """
        self._complete(None, result)

    def _complete(self, result: Any, exception: BaseException | None) -> None:
        with self._lock:
            if self._completed.is_set():
                raise RuntimeError("Future can only be marked completed once.")
            self._result, self._exception = result, exception
            self._finish = None
            self._completed.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def add_done_callback(self, callback: Callable[[Future[T]], object]) -> None:
        """Call ``callback(future)`` once the future completes (now, if it has).

        Example::

            >>> fut = ember.futures.Future()
            >>> fut.add_done_callback(lambda f: print("got", f.value()))
            >>> fut.set_result(5)
            got 5
        """
        with self._lock:
            if not self._completed.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future completed with ``callback(self)`` once this one completes; an error that
        ``callback`` raises completes it with PyTorch's RuntimeError naming that error. Waiting on
        the new future waits on this one.

        Example::

            >>> fut = ember.futures.Future()
            >>> plus_one = fut.then(lambda f: f.value() + 1)
            >>> fut.set_result(1)
            >>> plus_one.wait()
            2
        """
        chained: Future[S] = Future()
        chained._finish = self.wait if self._finish is not None else None

        def run(done: Future[T]) -> None:
            try:
                chained.set_result(callback(done))
            except Exception as error:  # noqa: BLE001 - the callback's error is the new future's
                message = f"Got the following error when running the callback: {type(error).__name__}: {error}"
                failure = RuntimeError(message)
                failure.__cause__ = error
                chained.set_exception(failure)

        self.add_done_callback(run)
        return chained


def collect_all(futures: list[Future[Any]]) -> Future[list[Future[Any]]]:
    """A future of the list ``futures``, completed once every one of them has.

    Example::

        >>> a, b = ember.futures.Future(), ember.futures.Future()
        >>> both = ember.futures.collect_all([a, b])
        >>> a.set_result(1); b.set_result(2)
        >>> [f.value() for f in both.wait()]
        [1, 2]
    """
    futures = list(futures)
    collected: Future[list[Future[Any]]] = Future()
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_: Future[Any]) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            collected.set_result(futures)

    def finish() -> None:  # a future completed by waiting on it: wait on each (their errors stay theirs)
        for future in futures:
            with contextlib.suppress(Exception):
                future.wait()

    if any(f._finish is not None for f in futures):
        collected._finish = finish
    if not futures:
        collected.set_result(futures)
    for future in futures:
        future.add_done_callback(one_done)
    return collected


def wait_all(futures: list[Future[Any]]) -> list[Any]:
    """Wait for every future of ``futures``; their values, in order (the first error raised).

    Example::

        >>> a = ember.futures.Future(); a.set_result(1)
        >>> ember.futures.wait_all([a])
        [1]
    """
    return [future.wait() for future in futures]
