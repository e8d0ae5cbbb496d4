"""ember.distributed's key-value stores (HashStore, FileStore, TCPStore, PrefixStore) and the
exceptions they raise, against torch.distributed's: the same calls on both, the same values
(bytes, ints, bools), the same exception types.

The two-process tests start a second Python process that talks to a store this process
serves (TCPStore) or shares (FileStore), for ember and for torch alike.
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import ember.distributed as dist

torch = pytest.importorskip("torch")
tdist = pytest.importorskip("torch.distributed")

SHORT = datetime.timedelta(milliseconds=100)

# (method, args): each applied to a fresh ember store and a fresh torch store of the same kind
CALLS = [
    ("set", ("a", "x")),
    ("get", ("a",)),
    ("set", ("b", b"\x00\xff")),
    ("get", ("b",)),
    ("set", ("ключ", "значение")),
    ("get", ("ключ",)),
    ("add", ("c", 3)),
    ("add", ("c", -1)),
    ("get", ("c",)),
    ("add", ("fresh", 0)),
    ("num_keys", ()),
    ("compare_set", ("k", "", "v")),
    ("compare_set", ("k", "zz", "w")),
    ("compare_set", ("k", "v", "w")),
    ("get", ("k",)),
    ("compare_set", ("nokey", "x", "w")),
    ("compare_set", ("nokey2", b"", b"w")),
    ("check", (["a", "nokey"],)),
    ("check", (["a", "b"],)),
    ("check", ([],)),
    ("delete_key", ("a",)),
    ("delete_key", ("a",)),
    ("check", (["a"],)),
    ("num_keys", ()),
    ("get", ("nokey",)),
    ("wait", (["nokey"],)),
    ("wait", (["nokey", "b"], datetime.timedelta(milliseconds=50))),
    ("wait", (["b", "c"],)),
    ("append", ("ap", "1")),
    ("append", ("ap", b"2")),
    ("get", ("ap",)),
    ("multi_get", (["ap", "c"],)),
    ("multi_set", (["m1", "m2"], ["1", b"2"])),
    ("get", ("m2",)),
    ("has_extended_api", ()),
    ("set", ("x", 5)),
    ("get", (5,)),
    ("add", ("c", "1")),
    ("set_timeout", (5,)),
    ("num_keys", ()),
]
NOT_AN_INT = [("set", ("s", "abc")), ("add", ("s", 1))]  # torch's TCPStore server dies on this one


def _apply(store, calls):
    """What each call gives: ("ok", value) or ("raised", exception type)."""
    out = []
    for method, args in calls:
        try:
            out.append(("ok", getattr(store, method)(*args)))
        except Exception as exc:  # noqa: BLE001 - recorded and compared
            out.append(("raised", type(exc)))
    return out


def _same_outcomes(ours, theirs, calls):
    """Equal values; each ember exception an instance of what torch raised (named alike)."""
    kinds = {
        "DistStoreError": dist.DistStoreError,
        "DistNetworkError": dist.DistNetworkError,
        "DistError": dist.DistError,
        "RuntimeError": RuntimeError,
        "ValueError": ValueError,
        "TypeError": TypeError,
    }
    for (method, args), mine, reference in zip(calls, ours, theirs):
        where = f"{method}{args}"
        assert mine[0] == reference[0], f"{where}: ember {mine}, torch {reference}"
        if mine[0] == "ok":
            assert mine[1] == reference[1], f"{where}: ember {mine[1]!r}, torch {reference[1]!r}"
            assert type(mine[1]) is type(reference[1]), f"{where}: {type(mine[1])} vs {type(reference[1])}"
        else:
            assert issubclass(mine[1], kinds[reference[1].__name__]), f"{where}: ember {mine[1]}, torch {reference[1]}"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pair(kind, tmp_path):
    """(ember store, torch store) of ``kind``, both with a short timeout."""
    if kind == "hash":
        ours, theirs = dist.HashStore(), tdist.HashStore()
    elif kind == "file":
        ours, theirs = dist.FileStore(str(tmp_path / "ember"), 1), tdist.FileStore(str(tmp_path / "torch"), 1)
    elif kind == "tcp":
        ours = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
        theirs = tdist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    elif kind == "prefix":
        ours, theirs = dist.PrefixStore("pre", dist.HashStore()), tdist.PrefixStore("pre", tdist.HashStore())
    ours.set_timeout(SHORT)
    theirs.set_timeout(SHORT)
    return ours, theirs


@pytest.mark.parametrize("kind", ["hash", "file", "tcp", "prefix"])
def test_store_calls_against_torch(kind, tmp_path):
    ours, theirs = _pair(kind, tmp_path)
    calls = CALLS + (NOT_AN_INT if kind != "tcp" else [])
    mine, reference = _apply(ours, calls), _apply(theirs, calls)
    if kind == "file":  # torch's FileStore.delete_key says True for a key it does not hold; ember: False
        second_delete = calls.index(("delete_key", ("a",))) + 1
        assert reference[second_delete] == ("ok", True) and mine[second_delete] == ("ok", False)
        mine[second_delete] = reference[second_delete]
    _same_outcomes(mine, reference, calls)
    assert ours.timeout == theirs.timeout == SHORT


@pytest.mark.parametrize("kind", ["hash", "file", "tcp"])
def test_get_timeout_error(kind, tmp_path):
    ours, theirs = _pair(kind, tmp_path)
    with pytest.raises(RuntimeError) as reference:
        theirs.get("missing")
    start = time.monotonic()
    assert reference.type.__name__ == ("RuntimeError" if kind == "file" else "DistStoreError")
    with pytest.raises(dist.DistStoreError, match=r"(?i)time.?out") as raised:
        ours.get("missing")
    assert time.monotonic() - start >= 0.09  # it waited for the timeout
    assert isinstance(raised.value, RuntimeError) and isinstance(raised.value, dist.DistError)
    with pytest.raises(dist.DistStoreError, match="missing"):
        ours.wait(["missing"], datetime.timedelta(milliseconds=10))


def test_exception_hierarchy_against_torch():
    for name in ("DistError", "DistBackendError", "DistStoreError", "DistNetworkError"):
        ours, theirs = getattr(dist, name), getattr(tdist, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    assert issubclass(dist.DistributedError, dist.DistBackendError)


def test_store_classes_against_torch():
    for name in ("HashStore", "FileStore", "TCPStore", "PrefixStore"):
        assert issubclass(getattr(dist, name), dist.Store)
        assert issubclass(getattr(tdist, name), tdist.Store)
    base = dist.HashStore()
    prefixed = dist.PrefixStore("p", base)
    assert prefixed.underlying_store is base
    prefixed.set_timeout(datetime.timedelta(seconds=3))  # torch: it sets the underlying store's
    assert base.timeout == datetime.timedelta(seconds=3)
    assert dist.HashStore().timeout == tdist.HashStore().timeout == datetime.timedelta(seconds=300)
    with pytest.raises(ValueError, match="store argument cannot be None"):
        tdist.PrefixStore("p", None)
    with pytest.raises(ValueError, match="store argument cannot be None"):
        dist.PrefixStore("p", None)
    with pytest.raises(TypeError):
        tdist.PrefixStore("p", "a string")
    with pytest.raises(TypeError):
        dist.PrefixStore("p", "a string")


def test_get_waits_for_another_thread():
    store = dist.HashStore()
    threading.Timer(0.05, store.set, ("late", "v")).start()
    assert store.get("late") == b"v"
    server = dist.TCPStore("127.0.0.1", 0, None, True, timeout=datetime.timedelta(seconds=5))
    threading.Timer(0.05, dist.TCPStore("127.0.0.1", server.port).set, ("late", "w")).start()
    assert server.get("late") == b"w"


def test_add_is_atomic_across_threads():
    server = dist.TCPStore("127.0.0.1", 0, None, True)
    clients = [dist.TCPStore("127.0.0.1", server.port) for _ in range(4)]
    threads = [threading.Thread(target=lambda c=c: [c.add("n", 1) for _ in range(50)]) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.get("n") == b"200"


def test_tcp_store_num_keys_counts_workers_as_torch():
    ours = dist.TCPStore("127.0.0.1", 0, 2, True, wait_for_workers=False, timeout=SHORT)
    theirs = tdist.TCPStore("127.0.0.1", 0, 2, True, wait_for_workers=False, timeout=SHORT)
    counts = [(ours.num_keys(), theirs.num_keys())]
    mine_client = dist.TCPStore("127.0.0.1", ours.port, 2, timeout=SHORT)
    their_client = tdist.TCPStore("127.0.0.1", theirs.port, 2, timeout=SHORT)
    counts.append((ours.num_keys(), theirs.num_keys()))
    counts.append((mine_client.num_keys(), their_client.num_keys()))
    assert all(a == b for a, b in counts), counts
    alone = [
        dist.TCPStore("127.0.0.1", 0, None, True).num_keys(),
        tdist.TCPStore("127.0.0.1", 0, None, True).num_keys(),
    ]
    assert alone[0] == alone[1]
    assert ours.host == "127.0.0.1" and ours.port > 0


def test_tcp_store_network_errors():
    with pytest.raises(dist.DistStoreError, match="waiting for clients. 1/2 clients joined"):
        dist.TCPStore("127.0.0.1", 0, 2, True, timeout=SHORT)
    server = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    with pytest.raises(dist.DistNetworkError, match="failed to listen"):
        dist.TCPStore("127.0.0.1", server.port, 1, True, timeout=SHORT)
    port = server.port
    del server  # the server stops with its master
    with pytest.raises(dist.DistNetworkError, match=f"trying to connect to \\(127.0.0.1, {port}\\)"):
        dist.TCPStore("127.0.0.1", port, 1, False, timeout=SHORT)


def test_tcp_store_lost_server():
    server = dist.TCPStore("127.0.0.1", 0, None, True, timeout=SHORT)
    client = dist.TCPStore("127.0.0.1", server.port, timeout=SHORT)
    client.set("a", "1")
    del server
    with pytest.raises(dist.DistNetworkError):
        client.get("a")


def test_multi_tenant_masters_share_a_server():
    port = _free_port()
    a = dist.TCPStore("127.0.0.1", port, None, True, multi_tenant=True)
    b = dist.TCPStore("127.0.0.1", port, None, True, multi_tenant=True)
    a.set("k", "v")
    assert b.get("k") == b"v"


def test_file_store_removes_its_file_as_torch(tmp_path):
    for library in (dist, tdist):
        path = str(tmp_path / f"{library.__name__}-2")
        first, second = library.FileStore(path, 2), library.FileStore(path, 2)
        first.set("a", "b")
        assert second.get("a") == b"b"
        del first
        assert os.path.exists(path)
        del second
        assert not os.path.exists(path), library.__name__
        path = str(tmp_path / f"{library.__name__}-any")
        store = library.FileStore(path)
        del store
        assert os.path.exists(path), library.__name__


CHILD = textwrap.dedent(
    """
    import datetime, sys
    kind, library, where = sys.argv[1:4]
    if library == "torch":
        import torch.distributed as d
    else:
        import ember.distributed as d
    t = datetime.timedelta(seconds=30)
    store = d.TCPStore("127.0.0.1", int(where), 2, False, timeout=t) if kind == "tcp" else d.FileStore(where, 2)
    store.set_timeout(t)
    store.set("from_child", "hi")
    got = store.get("from_parent")
    total = store.add("counter", 10)
    store.wait(["done"])
    print(repr((got, total, store.get("counter"), store.check(["from_child", "done"]))))
    """
)


def _two_processes(kind, library, tmp_path):
    """The child's report and the parent's view of a store shared by two processes."""
    lib = tdist if library == "torch" else dist
    where = str(_free_port()) if kind == "tcp" else str(tmp_path / f"shared-{library}")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, library, where], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        t = datetime.timedelta(seconds=30)
        store = lib.TCPStore("127.0.0.1", int(where), 2, True, timeout=t) if kind == "tcp" else lib.FileStore(where, 2)
        store.set_timeout(t)
        seen = store.get("from_child")
        store.add("counter", 1)
        store.set("from_parent", "yo")
        while int(store.get("counter")) < 11:
            time.sleep(0.01)
        store.set("done", "1")
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    return seen, out.strip()


@pytest.mark.parametrize("kind", ["tcp", "file"])
def test_two_processes_against_torch(kind, tmp_path):
    ours = _two_processes(kind, "ember", tmp_path)
    theirs = _two_processes(kind, "torch", tmp_path)
    assert ours == theirs
    assert ours[0] == b"hi"


def test_init_process_group_store_argument_errors_as_torch():
    store = dist.HashStore()
    for kwargs in (
        {"store": store},
        {"store": store, "world_size": 1},
        {"store": store, "world_size": 1, "rank": 0, "init_method": "env://"},
    ):
        with pytest.raises(AssertionError) as reference:
            tdist.init_process_group("gloo", **{**kwargs, "store": tdist.HashStore()})
        with pytest.raises(AssertionError, match=str(reference.value)):
            dist.init_process_group("gloo", **kwargs)
        assert not dist.is_initialized()


@pytest.mark.parametrize("kind", ["hash", "file", "tcp", "prefix_tcp"])
def test_zero_timeout_as_torch(kind, tmp_path):
    """A zero timeout: no limit for HashStore and FileStore, no waiting for TCPStore (as torch's)."""

    def make(lib):
        if kind == "hash":
            return lib.HashStore()
        if kind == "file":
            return lib.FileStore(str(tmp_path / f"{lib.__name__}-zero"), 1)
        server = lib.TCPStore("127.0.0.1", 0, None, True)
        return lib.PrefixStore("p", server) if kind == "prefix_tcp" else server

    outcomes = []
    for lib in (dist, tdist):
        store = make(lib)
        threading.Timer(0.2, store.set, ("k", "v")).start()
        try:
            store.wait(["k"], datetime.timedelta(0))
            outcomes.append("waited")
        except RuntimeError as exc:
            assert type(exc).__name__ == "DistStoreError"
            outcomes.append("timed out")
        time.sleep(0.3)
    assert outcomes[0] == outcomes[1], outcomes


def test_add_amount_beyond_int64_as_torch():
    for lib in (dist, tdist):
        with pytest.raises(TypeError):
            lib.HashStore().add("big", 2**63)
    assert dist.HashStore().add("big", 2**63 - 1) == tdist.HashStore().add("big", 2**63 - 1)


def test_one_tcp_store_shared_by_threads():
    """A thread blocked in get() on a TCPStore does not hold up another thread's set() on the same object
    (each thread has its own connection; torch's one connection makes the get time out instead)."""
    store = dist.TCPStore("127.0.0.1", 0, None, True, timeout=datetime.timedelta(seconds=20))
    threading.Timer(0.1, store.set, ("k", "v")).start()
    assert store.get("k") == b"v"
    store.set_timeout(datetime.timedelta(0))  # no waiting: the key exists
    assert store.get("k") == b"v"
