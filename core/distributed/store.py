"""Key-value stores: how the processes of a job find each other and share small values.

The API is ``torch.distributed``'s :class:`Store` family. A store maps string keys to byte
values; :meth:`~Store.get` and :meth:`~Store.wait` block until the key exists (at most the
store's :attr:`~Store.timeout`, then :class:`~ember.distributed.DistStoreError`), so a store
is also a rendezvous: one process ``set`` s a key, the others ``get`` it.

- :class:`HashStore`: in this process's memory (threads of one process).
- :class:`FileStore`: a file every process can open (one machine, or a shared file system).
- :class:`TCPStore`: a server in one process (``is_master=True``), reached over TCP by the
  others, on any machine.
- :class:`PrefixStore`: a view of another store whose keys all start with ``prefix/``.

Any of them can be passed as ``init_process_group(store=..., rank=..., world_size=...)``.

Example::

    >>> import ember.distributed as dist
    >>> store = dist.HashStore()
    >>> store.set("first", "hello")          # str or bytes; values come back as bytes
    >>> store.get("first")
    b'hello'
    >>> store.add("count", 2), store.add("count", 3)
    (2, 5)
    >>> store.compare_set("first", "hello", "bye")
    b'bye'
    >>> store.check(["first", "missing"]), store.num_keys()
    (False, 2)
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import os
import socket
import struct
import threading
import time
from collections.abc import Iterable

from .errors import DistNetworkError, DistStoreError

__all__ = ["FileStore", "HashStore", "PrefixStore", "Store", "TCPStore"]

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)  # torch.distributed.constants.default_store_timeout


def _key(name: str, key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{name}(): key must be a str, got {type(key).__name__}")
    return key


def _keys(name: str, keys: object) -> list[str]:
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Iterable):
        raise TypeError(f"{name}(): keys must be a list of str, got {type(keys).__name__}")
    return [_key(name, k) for k in keys]


def _value(name: str, value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name}(): value must be str or bytes, got {type(value).__name__}")


def _int(name: str, arg: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}(): {arg} must be an int, got {type(value).__name__}")
    return value


def _timedelta(name: str, timeout: object) -> datetime.timedelta:
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{name}(): timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    return timeout


def _added(key: str, current: bytes | None, amount: int) -> int:
    """``current`` (an integer's digits, or absent: 0) plus ``amount``; ValueError for other bytes."""
    if current is None:
        return amount
    try:
        return int(current.decode()) + amount
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"add(): the value of key {key!r} is not an integer: {current!r}") from None


def _compared(current: bytes | None, expected: bytes, desired: bytes) -> tuple[bytes, bool]:
    """torch's compare-and-set: (what it returns, whether ``desired`` is stored).

    An absent key takes ``desired`` only when ``expected`` is empty (else ``expected`` comes
    back); a present one when it equals ``expected`` (else its value comes back).
    """
    if current is None:
        return (desired, True) if expected == b"" else (expected, False)
    return (desired, True) if current == expected else (current, False)


class Store:
    """Base class of the key-value stores (see the module docstring).

    Values are bytes (``str`` values are stored UTF-8 encoded). :meth:`get` and :meth:`wait`
    block until their keys exist, for at most :attr:`timeout`; then they raise
    :class:`~ember.distributed.DistStoreError` (a ``RuntimeError``). A subclass implements
    ``_set``, ``_get`` (``None`` for an absent key), ``_add``, ``_compare_set``, ``_delete``,
    ``_num_keys`` and ``_wait`` (true once every key exists, false when ``seconds`` passed).
    """

    def __init__(self, timeout: datetime.timedelta = _DEFAULT_TIMEOUT) -> None:
        self._timeout = timeout

    # -- what a store implements -----------------------------------------------------------------
    def _set(self, key: str, value: bytes) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement set")

    def _get(self, key: str) -> bytes | None:
        raise NotImplementedError(f"{type(self).__name__} does not implement get")

    def _add(self, key: str, amount: int) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement add")

    def _compare_set(self, key: str, expected: bytes, desired: bytes) -> bytes:
        raise NotImplementedError(f"{type(self).__name__} does not implement compare_set")

    def _append(self, key: str, value: bytes) -> None:
        current = self._get(key)
        self._set(key, (current or b"") + value)

    def _delete(self, key: str) -> bool:
        raise NotImplementedError(f"{type(self).__name__} does not implement delete_key")

    def _num_keys(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement num_keys")

    def _wait(self, keys: list[str], seconds: float | None) -> bool:
        raise NotImplementedError(f"{type(self).__name__} does not implement wait")

    def _timeout_message(self, keys: list[str], seconds: float) -> str:
        return f"Wait timeout: keys {keys} were not set within {seconds * 1000:g} ms"

    # -- the API --------------------------------------------------------------------------------
    @property
    def timeout(self) -> datetime.timedelta:
        """How long :meth:`get` and :meth:`wait` block for a key (:meth:`set_timeout` changes it)."""
        return self._timeout

    def set_timeout(self, timeout: datetime.timedelta) -> None:
        """Set :attr:`timeout`, the default wait of :meth:`get` and :meth:`wait`.

        Zero means no limit for a :class:`HashStore` or :class:`FileStore`, and no waiting at all
        for a :class:`TCPStore` (as PyTorch's).

        Args:
            timeout (datetime.timedelta): the new timeout.
        """
        self._timeout = _timedelta("set_timeout", timeout)

    def set(self, key: str, value: str | bytes) -> None:
        """Store ``value`` under ``key``, replacing any value it had.

        Args:
            key (str): the key.
            value (str or bytes): the value (a ``str`` is stored UTF-8 encoded).
        """
        self._set(_key("set", key), _value("set", value))

    def get(self, key: str) -> bytes:
        """The value of ``key``, once it exists: blocks for at most :attr:`timeout`.

        Raises:
            DistStoreError: ``key`` was not set within the timeout.
        """
        key = _key("get", key)
        while True:
            self._await([key], self.timeout)
            value = self._get(key)
            if value is not None:
                return value

    def add(self, key: str, amount: int) -> int:
        """Add ``amount`` to the integer stored under ``key`` (0 if absent); returns the new value.

        The value is kept as its decimal digits, so :meth:`get` gives e.g. ``b"5"``. Each
        ``add`` is atomic: concurrent adds from several processes all count.

        Raises:
            ValueError: the key holds something other than an integer.
        """
        amount = _int("add", "amount", amount)
        if not -(2**63) <= amount < 2**63:
            raise TypeError(f"add(): amount must fit in 64 bits, got {amount}")
        return self._add(_key("add", key), amount)

    def compare_set(self, key: str, expected_value: str | bytes, desired_value: str | bytes) -> bytes:
        """Store ``desired_value`` if ``key`` holds ``expected_value``; returns the value it ends with.

        An absent key counts as holding ``""``. Where the comparison fails, the key keeps
        its value, which is returned (an absent key returns ``expected_value``, as PyTorch's).
        """
        return self._compare_set(
            _key("compare_set", key), _value("compare_set", expected_value), _value("compare_set", desired_value)
        )

    def append(self, key: str, value: str | bytes) -> None:
        """Append ``value`` to the bytes stored under ``key`` (create it if absent)."""
        self._append(_key("append", key), _value("append", value))

    def multi_get(self, keys: list[str]) -> list[bytes]:
        """The values of ``keys``, in order, once all exist (see :meth:`get`)."""
        return [self.get(k) for k in _keys("multi_get", keys)]

    def multi_set(self, keys: list[str], values: list[str | bytes]) -> None:
        """:meth:`set` each of ``keys`` to the value at the same place of ``values``."""
        keys = _keys("multi_set", keys)
        values = list(values)
        if len(keys) != len(values):
            raise ValueError(f"multi_set(): {len(keys)} keys but {len(values)} values")
        for k, v in zip(keys, values):
            self.set(k, v)

    def wait(self, keys: list[str], timeout: datetime.timedelta | None = None) -> None:
        """Block until every key of ``keys`` exists, for at most ``timeout`` (:attr:`timeout` if None).

        Raises:
            DistStoreError: a key was still missing when the timeout passed.
        """
        keys = _keys("wait", keys)
        self._await(keys, self.timeout if timeout is None else _timedelta("wait", timeout))

    #: whether a zero timeout means no limit (HashStore, FileStore) or not waiting at all (TCPStore)
    _zero_waits_forever = True

    def _await(self, keys: list[str], timeout: datetime.timedelta) -> None:
        seconds = timeout.total_seconds()
        if not self._wait(keys, None if seconds <= 0 and self._zero_waits_forever else max(seconds, 0.0)):
            raise DistStoreError(self._timeout_message(keys, seconds))

    def check(self, keys: list[str]) -> bool:
        """Whether every key of ``keys`` exists (at once, without waiting)."""
        return all(self._get(k) is not None for k in _keys("check", keys))

    def delete_key(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return self._delete(_key("delete_key", key))

    def num_keys(self) -> int:
        """The number of keys in the store (a :class:`TCPStore` or :class:`FileStore` counts
        the one it keeps for itself, as PyTorch's do)."""
        return self._num_keys()

    def has_extended_api(self) -> bool:
        """True: :meth:`append`, :meth:`multi_get` and :meth:`multi_set` work on this store."""
        return True


class HashStore(Store):
    """A store in this process's memory, shared by its threads (no other process sees it).

    Example::

        >>> store = dist.HashStore()
        >>> import threading
        >>> threading.Timer(0.05, store.set, ("ready", "1")).start()
        >>> store.get("ready")                 # waits for the other thread's set
        b'1'
    """

    def __init__(self) -> None:
        super().__init__()
        self._data: dict[str, bytes] = {}
        self._changed = threading.Condition()

    def _set(self, key, value):
        with self._changed:
            self._data[key] = value
            self._changed.notify_all()

    def _get(self, key):
        with self._changed:
            return self._data.get(key)

    def _add(self, key, amount):
        with self._changed:
            value = _added(key, self._data.get(key), amount)
            self._data[key] = str(value).encode()
            self._changed.notify_all()
            return value

    def _compare_set(self, key, expected, desired):
        with self._changed:
            result, stored = _compared(self._data.get(key), expected, desired)
            if stored:
                self._data[key] = desired
                self._changed.notify_all()
            return result

    def _append(self, key, value):
        with self._changed:
            self._data[key] = self._data.get(key, b"") + value
            self._changed.notify_all()

    def _delete(self, key):
        with self._changed:
            return self._data.pop(key, None) is not None

    def _num_keys(self):
        with self._changed:
            return len(self._data)

    def _wait(self, keys, seconds):
        with self._changed:
            return self._changed.wait_for(lambda: all(k in self._data for k in keys), seconds)


# -- FileStore ----------------------------------------------------------------------------------
_FILE_REFCOUNT = "\0refcount"  # keys a FileStore keeps for itself (a user's key cannot collide: NUL)
_FILE_CLEANUP = "\0cleanup"
_POLL = 0.01  # seconds between looks at a file or server that cannot signal a change


def _pack(data: dict[str, bytes]) -> bytes:
    out = bytearray()
    for key, value in data.items():
        raw = key.encode()
        out += struct.pack("<II", len(raw), len(value)) + raw + value
    return bytes(out)


def _unpack(raw: bytes) -> dict[str, bytes]:
    data, at = {}, 0
    while at + 8 <= len(raw):
        n, m = struct.unpack_from("<II", raw, at)
        at += 8
        data[raw[at : at + n].decode()] = raw[at + n : at + n + m]
        at += n + m
    return data


class FileStore(Store):
    """A store kept in the file ``file_name``, shared by every process that opens the same file.

    Each operation takes an exclusive lock on the file (``fcntl.flock``), so the processes of
    one machine (or of a file system with working locks) see one store. The last of
    ``world_size`` instances to be destroyed deletes the file; with ``world_size=-1`` it stays.

    Args:
        file_name (str): the file (created if absent).
        world_size (int): how many processes use it. Default: -1 (not known).

    Example::

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "store")
        >>> a, b = dist.FileStore(path, 2), dist.FileStore(path, 2)   # two processes, usually
        >>> a.set("address", "10.0.0.1:1234")
        >>> b.get("address")
        b'10.0.0.1:1234'
        >>> del a, b                 # the last of the two removes the file
        >>> os.path.exists(path)
        False
    """

    def __init__(self, file_name: str, world_size: int = -1) -> None:
        super().__init__()
        self._path = os.fspath(file_name)
        self._world_size = _int("FileStore", "world_size", world_size)
        self._transact(lambda data: (_count(data, _FILE_REFCOUNT, 1), True))
        self._open = True

    @property
    def path(self) -> str:
        """The file."""
        return self._path

    def _transact(self, change):
        """Run ``change(data) -> (result, modified)`` on the file's contents under its lock."""
        with open(self._path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                data = _unpack(f.read())
                result, modified = change(data)
                if modified:
                    f.seek(0)
                    f.truncate()
                    f.write(_pack(data))
                    f.flush()
                return result
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _read(self):
        try:
            with open(self._path, "rb") as f:
                fcntl.flock(f, fcntl.LOCK_SH)
                try:
                    return _unpack(f.read())
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
        except FileNotFoundError:
            return {}

    def _set(self, key, value):
        self._transact(lambda data: (data.__setitem__(key, value), True))

    def _get(self, key):
        return self._read().get(key)

    def _add(self, key, amount):
        return self._transact(lambda data: (_count(data, key, amount), True))

    def _compare_set(self, key, expected, desired):
        def change(data):
            result, stored = _compared(data.get(key), expected, desired)
            if stored:
                data[key] = desired
            return result, stored

        return self._transact(change)

    def _append(self, key, value):
        self._transact(lambda data: (data.__setitem__(key, data.get(key, b"") + value), True))

    def _delete(self, key):
        return self._transact(lambda data: (data.pop(key, None) is not None,) * 2)

    def _num_keys(self):
        return len(self._read())

    def _wait(self, keys, seconds):
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            data = self._read()
            if all(k in data for k in keys):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)

    def has_extended_api(self) -> bool:
        """False, as PyTorch's FileStore (:meth:`append`, :meth:`multi_get`, :meth:`multi_set` still work)."""
        return False

    def _timeout_message(self, keys, seconds):
        return f"Timeout waiting for key: {', '.join(keys)} after {seconds * 1000:g} ms (FileStore {self._path})"

    def __del__(self) -> None:
        if not getattr(self, "_open", False):
            return
        self._open = False
        try:
            finished, references = self._transact(
                lambda data: ((_count(data, _FILE_CLEANUP, 1), _count(data, _FILE_REFCOUNT, -1)), True)
            )
            if references == 0 and 0 <= self._world_size <= finished:
                os.remove(self._path)
        except Exception:  # noqa: BLE001 - the file is gone, or the interpreter is shutting down
            pass


def _count(data: dict[str, bytes], key: str, amount: int) -> int:
    value = _added(key, data.get(key), amount)
    data[key] = str(value).encode()
    return value


# -- TCPStore -----------------------------------------------------------------------------------
# A request is one command byte, the count of its fields (4 bytes, big-endian) and the fields,
# each a 4-byte length and the bytes; a reply is a status byte (0: done, 1: the key's value is absent or the wait timed out,
# 2: an error whose message follows) and its fields.
_SET, _GET, _ADD, _CAS, _APPEND, _DELETE, _NUM_KEYS, _WAIT, _PING = range(9)
_DONE, _ABSENT, _FAILED = range(3)
_INIT_KEY = "\0init/"  # what each TCPStore adds 1 to when it joins (the master waits for world_size)


def _send(sock: socket.socket, head: int, fields: list[bytes]) -> None:
    header = struct.pack(">BI", head, len(fields))
    sock.sendall(header + b"".join(struct.pack(">I", len(f)) + f for f in fields))


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise DistNetworkError(
                f"Failed to recv, got {len(buf)} bytes. Connection was likely closed. "
                "Did the remote server shutdown or crash?"
            )
        buf += chunk
    return bytes(buf)


def _recv(sock: socket.socket) -> tuple[int, list[bytes]]:
    """A message: its head byte (a command or a status) and its fields."""
    head, count = struct.unpack(">BI", _recv_exactly(sock, 5))
    return head, [_recv_exactly(sock, struct.unpack(">I", _recv_exactly(sock, 4))[0]) for _ in range(count)]


class _Server:
    """The TCPStore server: a :class:`HashStore` served to every connection by its own thread."""

    def __init__(self, host: str, port: int, listen_fd: int | None = None) -> None:
        self.store = HashStore()
        if listen_fd is not None:
            self._sock = socket.socket(fileno=listen_fd)
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self._sock = socket.socket(family, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self._sock.bind(("" if family == socket.AF_INET else "::", port))
                self._sock.listen(128)
            except OSError as exc:
                self._sock.close()
                name = errno.errorcode.get(exc.errno or 0, "?")
                raise DistNetworkError(
                    "The server socket has failed to listen on any local network address. "
                    f"port: {port}, code: {-(exc.errno or 0)}, name: {name}, message: {exc.strerror}"
                ) from None
        self.port = self._sock.getsockname()[1]
        self._stopped = False
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, name=f"TCPStore:{self.port}", daemon=True).start()

    def _accept(self):
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            while True:
                command, fields = _recv(conn)
                status, reply = self._answer(command, fields)
                _send(conn, status, reply)
        except (OSError, DistNetworkError):
            pass
        finally:
            conn.close()

    def _answer(self, command, fields):
        store = self.store
        key = fields[0].decode() if fields and command not in (_WAIT, _NUM_KEYS, _PING) else ""
        try:
            if command == _SET:
                store._set(key, fields[1])
            elif command == _GET:
                value = store._get(key)
                return (_ABSENT, []) if value is None else (_DONE, [value])
            elif command == _ADD:
                return _DONE, [str(store._add(key, int(fields[1]))).encode()]
            elif command == _CAS:
                return _DONE, [store._compare_set(key, fields[1], fields[2])]
            elif command == _APPEND:
                store._append(key, fields[1])
            elif command == _DELETE:
                return _DONE, [b"1" if store._delete(key) else b"0"]
            elif command == _NUM_KEYS:
                return _DONE, [str(store._num_keys()).encode()]
            elif command == _WAIT:
                seconds = float(fields[0])
                keys = [f.decode() for f in fields[1:]]
                return (_DONE if store._wait(keys, None if seconds < 0 else seconds) else _ABSENT), []
            elif command != _PING:
                return _FAILED, [f"unknown TCPStore command {command}".encode()]
        except ValueError as exc:
            return _FAILED, [str(exc).encode()]
        return _DONE, []

    def stop(self):
        self._stopped = True
        for s in [self._sock, *self._connections]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


_servers: dict[int, _Server] = {}  # multi_tenant servers of this process, by port
_servers_lock = threading.Lock()


class TCPStore(Store):
    """A store served over TCP by the process that makes it with ``is_master=True``.

    The master starts a server on ``port`` (``0``: any free port, see :attr:`port`); every
    process, the master included, talks to it as a client, so the processes of a job on any
    machines share one store. With ``wait_for_workers`` and a ``world_size``, each instance
    counts itself in a key the store keeps for itself (:meth:`num_keys` counts it, as PyTorch's),
    and the master's constructor waits (at most ``timeout``) until ``world_size`` have joined. The server lives as long as the master's
    instance.

    Args:
        host_name (str): the master's host name or address.
        port (int): the server's port.
        world_size (int, optional): how many instances join. Default: ``None`` (not known).
        is_master (bool): this instance starts the server. Default: ``False``.
        timeout (datetime.timedelta): how long to wait for the server, the workers, and a
            key in :meth:`get`/:meth:`wait`. Default: 300 seconds.
        wait_for_workers (bool): the master waits for ``world_size`` instances. Default: ``True``.
        multi_tenant (bool): masters of this process on the same port share one server.
            Default: ``False``.
        master_listen_fd (int, optional): a listening socket's file descriptor for the
            server to use, instead of binding ``port``. Default: ``None``.
        use_libuv (bool): accepted for PyTorch's signature (ember's server uses threads).

    Raises:
        DistNetworkError: the master cannot listen on ``port``, or a client found no server
            within ``timeout``.
        DistStoreError: the master's ``world_size`` instances did not all join in time.

    Example::

        >>> server = dist.TCPStore("127.0.0.1", 0, world_size=2, is_master=True, wait_for_workers=False)
        >>> client = dist.TCPStore("127.0.0.1", server.port, world_size=2)   # usually another process
        >>> client.set("step", "10")
        >>> server.get("step"), server.add("step", 1)
        (b'10', 11)
    """

    def __init__(
        self,
        host_name: str,
        port: int,
        world_size: int | None = None,
        is_master: bool = False,
        timeout: datetime.timedelta = _DEFAULT_TIMEOUT,
        wait_for_workers: bool = True,
        multi_tenant: bool = False,
        master_listen_fd: int | None = None,
        use_libuv: bool = True,
    ) -> None:
        super().__init__(_timedelta("TCPStore", timeout))
        if not isinstance(host_name, str):
            raise TypeError(f"TCPStore(): host_name must be a str, got {type(host_name).__name__}")
        port = _int("TCPStore", "port", port)
        if world_size is not None:
            world_size = _int("TCPStore", "world_size", world_size)
        self._host, self._world_size, self._is_master = host_name, world_size, bool(is_master)
        self._server: _Server | None = None
        self._owns_server = False
        if is_master:
            with _servers_lock:
                shared = _servers.get(port) if multi_tenant and port else None
                if shared is None:
                    shared = _Server(host_name, port, master_listen_fd)
                    self._owns_server = not multi_tenant
                    if multi_tenant:
                        _servers[shared.port] = shared
                self._server = shared
            port = shared.port
        self._port = port
        self._local = threading.local()  # each thread talks over its own connection: one blocked
        self._sockets: list[socket.socket] = []  # in get/wait does not hold up the others
        self._socket()
        if wait_for_workers and world_size is not None:
            self._add(_INIT_KEY, 1)
            if is_master:
                self._wait_for_workers()

    def _connect(self) -> socket.socket:
        seconds = self._timeout.total_seconds()
        deadline = time.monotonic() + seconds
        delay = 0.01
        while True:
            try:
                sock = socket.create_connection((self._host, self._port), timeout=max(seconds, 0.1))
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError:
                if time.monotonic() >= deadline:
                    raise DistNetworkError(
                        f"The client socket has timed out after {seconds * 1000:g}ms while trying to connect to "
                        f"({self._host}, {self._port})."
                    ) from None
                time.sleep(delay)
                delay = min(2 * delay, 0.5)

    def _socket(self) -> socket.socket:
        """This thread's connection to the server (made on its first call)."""
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = self._local.sock = self._connect()
            self._sockets.append(sock)
        return sock

    def _wait_for_workers(self):
        seconds = self._timeout.total_seconds()
        deadline = time.monotonic() + seconds
        while True:
            joined = int(self._get(_INIT_KEY) or b"0")
            if joined >= self._world_size:
                return
            if time.monotonic() >= deadline:
                raise DistStoreError(
                    f"Timed out after {seconds:g} seconds waiting for clients. {joined}/{self._world_size} clients joined."
                )
            time.sleep(_POLL)

    def _call(self, command: int, *fields: bytes) -> tuple[int, list[bytes]]:
        sock = self._socket()
        try:
            _send(sock, command, list(fields))
            status, reply = _recv(sock)
        except OSError as exc:
            raise DistNetworkError(f"TCPStore ({self._host}, {self._port}): the connection failed: {exc}") from None
        if status == _FAILED:
            raise ValueError(reply[0].decode())
        return status, reply

    @property
    def host(self) -> str:
        """The server's host name, as given."""
        return self._host

    @property
    def port(self) -> int:
        """The server's port (the one the system chose, where ``port=0`` was given to the master)."""
        return self._port

    @property
    def libuvBackend(self) -> bool:  # noqa: N802 - torch's name
        """False: ember's server runs on threads, not libuv."""
        return False

    def _set(self, key, value):
        self._call(_SET, key.encode(), value)

    def _get(self, key):
        status, reply = self._call(_GET, key.encode())
        return reply[0] if status == _DONE else None

    def _add(self, key, amount):
        return int(self._call(_ADD, key.encode(), str(amount).encode())[1][0])

    def _compare_set(self, key, expected, desired):
        return self._call(_CAS, key.encode(), expected, desired)[1][0]

    def _append(self, key, value):
        self._call(_APPEND, key.encode(), value)

    def _delete(self, key):
        return self._call(_DELETE, key.encode())[1][0] == b"1"

    def _num_keys(self):
        return int(self._call(_NUM_KEYS)[1][0])

    _zero_waits_forever = False

    def _wait(self, keys, seconds):
        forever = -1.0  # the server's code for no limit
        status, _ = self._call(
            _WAIT, repr(forever if seconds is None else seconds).encode(), *(k.encode() for k in keys)
        )
        return status == _DONE

    def _timeout_message(self, keys, seconds):
        return f"wait timeout after {seconds * 1000:g}ms, keys: {', '.join(keys)}"

    def __del__(self) -> None:
        for sock in getattr(self, "_sockets", ()):
            sock.close()
        if getattr(self, "_owns_server", False) and self._server is not None:
            self._server.stop()


class PrefixStore(Store):
    """A view of ``store`` that puts ``prefix + "/"`` before every key.

    Several users of one store (each process group, each job phase) keep their keys apart.
    :meth:`num_keys` counts the underlying store's keys.

    Args:
        prefix (str): the prefix.
        store (Store): the store underneath.

    Example::

        >>> base = dist.HashStore()
        >>> dist.PrefixStore("trainer", base).set("epoch", "3")
        >>> base.get("trainer/epoch")
        b'3'
    """

    def __init__(self, prefix: str, store: Store) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"PrefixStore(): prefix must be a str, got {type(prefix).__name__}")
        if store is None:
            raise ValueError("store argument cannot be None")
        if not isinstance(store, Store):
            raise TypeError(f"PrefixStore(): store must be a Store, got {type(store).__name__}")
        super().__init__(store.timeout)
        self._prefix, self._store = prefix, store

    @property
    def underlying_store(self) -> Store:
        """The store underneath."""
        return self._store

    @property
    def timeout(self) -> datetime.timedelta:
        """The underlying store's timeout."""
        return self._store.timeout

    def set_timeout(self, timeout: datetime.timedelta) -> None:
        """Set the underlying store's timeout."""
        self._store.set_timeout(timeout)

    @property
    def _zero_waits_forever(self):
        return self._store._zero_waits_forever

    def _k(self, key):
        return f"{self._prefix}/{key}"

    def _set(self, key, value):
        self._store._set(self._k(key), value)

    def _get(self, key):
        return self._store._get(self._k(key))

    def _add(self, key, amount):
        return self._store._add(self._k(key), amount)

    def _compare_set(self, key, expected, desired):
        return self._store._compare_set(self._k(key), expected, desired)

    def _append(self, key, value):
        self._store._append(self._k(key), value)

    def _delete(self, key):
        return self._store._delete(self._k(key))

    def _num_keys(self):
        return self._store._num_keys()

    def _wait(self, keys, seconds):
        return self._store._wait([self._k(k) for k in keys], seconds)

    def _timeout_message(self, keys, seconds):
        return self._store._timeout_message([self._k(k) for k in keys], seconds)
