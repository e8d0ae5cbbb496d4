"""Point-to-point, rooted and all-to-all collectives, object collectives and subgroups of
ember.distributed, each compared with torch.distributed (gloo, CPU) on the same inputs.

Run under ``mpiexec -n 2`` or ``-n 3`` with ``EMBER_TEST_TORCH_PORT`` set to a free port:
every rank joins both an ember ``mpi`` group and a torch ``gloo`` group, runs each check
once per library and compares the results (values, shapes, dtypes, return values, and the
exception types of the argument errors). Each check prints ``ok``/``FAIL`` like the other
scripts of this folder.
"""

from __future__ import annotations

import datetime

import numpy as np
from common import run_against_torch

import ember
import ember.distributed as edist

try:
    import torch
    import torch.distributed as tdist
except ImportError:  # the test file skips without torch
    torch = tdist = None


class Raised:
    """What a call raised, for comparison across the libraries."""

    def __init__(self, exc):
        self.type = type(exc).__name__
        self.text = str(exc)

    def __repr__(self):
        return f"Raised({self.type}: {self.text[:200]})"


def attempt(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - compared with the other library's
        return Raised(exc)


def host(t):
    """A tensor of either library as (dtype name, NumPy values)."""
    name = str(t.dtype).split(".")[-1]
    if name == "bfloat16":
        t = t.float()
    return name, t.detach().cpu().numpy().copy()


def same(a, b, where="result", tol=0.0):
    """``a`` (ember's) equals ``b`` (torch's): tensors by dtype, shape and values (exact unless ``tol``)."""
    if isinstance(b, Raised) or isinstance(a, Raised):
        assert isinstance(a, Raised) and isinstance(b, Raised), f"{where}: ember gave {a!r}, torch {b!r}"
        assert a.type == b.type or (a.type == "DistributedError" and b.type == "RuntimeError"), (
            f"{where}: ember raised {a!r}, torch {b!r}"
        )
        return
    if torch is not None and isinstance(b, torch.Tensor):
        assert isinstance(a, ember.Tensor), f"{where}: ember gave {type(a).__name__}, torch a tensor"
        (da, va), (db, vb) = host(a), host(b)
        assert da == db, f"{where}: dtype {da} != {db}"
        assert va.shape == vb.shape, f"{where}: shape {va.shape} != {vb.shape}"
        if tol:  # reductions over 3 ranks may add in another order
            np.testing.assert_allclose(va, vb, rtol=tol, atol=tol, err_msg=where)
        else:
            assert np.array_equal(va, vb, equal_nan=True), f"{where}: {va} != {vb}"
        return
    if isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]", tol)
        return
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), f"{where}: {a!r} != {b!r}"
        for k in b:
            same(a[k], b[k], f"{where}[{k!r}]", tol)
        return
    assert a == b, f"{where}: ember {a!r} != torch {b!r}"


class Lib:
    """One library's names: ``T`` (ember or torch), ``D`` (its distributed), ``dev`` (the device)."""

    def __init__(self, T, D, dev):
        self.T, self.D, self.dev = T, D, dev

    def data(self, rank, shape=(3, 4), dtype="float64", offset=0):
        rng = np.random.default_rng(100 * rank + offset + 1)
        if dtype in ("int64", "int32", "uint8", "int8"):
            values = rng.integers(0, 9, size=shape)
        elif dtype == "bool":
            values = rng.integers(0, 2, size=shape).astype(bool)
        elif dtype.startswith("complex"):
            values = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        else:
            values = rng.standard_normal(shape)
        t = self.T.tensor(values)
        return t.to(getattr(self.T, dtype)).to(self.dev) if self.dev != "cpu" else t.to(getattr(self.T, dtype))

    def zeros(self, *shape, dtype="float64"):
        return self.T.zeros(tuple(shape), dtype=getattr(self.T, dtype), device=self.dev)


def both(fn, dev="cpu", tol=0.0):
    """A check: ``fn(lib)`` on ember (device ``dev``) and on torch (CPU) must give the same."""

    def check():
        mine = attempt(lambda: fn(Lib(ember, edist, dev)))
        theirs = attempt(lambda: fn(Lib(torch, tdist, "cpu")))
        same(mine, theirs, tol=tol)

    return check


TOL = {"float32": 1e-6, "float64": 1e-12, "int64": 0.0}
DTYPES = ("float32", "float64", "int64", "float16", "bfloat16", "bool", "complex64", "uint8")


# -- point to point ------------------------------------------------------------------------------------
def send_recv(dtype, shape=(3, 4)):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = L.zeros(*shape, dtype=dtype)
        if r == 0:
            for peer in range(1, n):
                L.D.send(L.data(peer, shape, dtype), dst=peer)
            return None
        source = L.D.recv(out, src=0)
        return [source, out]

    return fn


def recv_any_source(L):
    r, n = L.D.get_rank(), L.D.get_world_size()
    if r == 0:
        got = []
        for _ in range(1, n):
            t = L.zeros(2)
            src = L.D.recv(t)
            got.append((src, float(t[0].item()) == src))
        t = L.zeros(2)
        work = L.D.irecv(t)
        work.wait()
        assert work.source_rank() == work._source_rank()
        got.append((work.source_rank(), float(t[0].item()) == work.source_rank()))
        return sorted(got)  # which message comes first is a race: the set is what is compared
    L.D.send(L.T.full((2,), float(r), dtype=L.T.float64), dst=0)
    if r == n - 1:
        L.D.send(L.T.full((2,), float(r), dtype=L.T.float64), dst=0)
    return None


def recv_into_view():
    """ember receives into a strided view (torch's gloo refuses non-contiguous tensors)."""
    r = edist.get_rank()
    base = ember.zeros(4, 6, dtype=ember.float64)
    sent = Lib(ember, edist, "cpu").data(0, (4, 3))
    if r == 0:
        edist.send(sent.t().contiguous().t(), dst=1)  # a non-contiguous tensor is sent too
    elif r == 1:
        edist.recv(base[:, ::2], src=0)
        expected = np.zeros((4, 6))
        expected[:, ::2] = sent.numpy()
        assert np.array_equal(base.numpy(), expected), base


def isend_irecv(L):
    r, n = L.D.get_rank(), L.D.get_world_size()
    out = L.zeros(5)
    to, frm = (r + 1) % n, (r - 1) % n
    sent = L.data(r, (5,))
    works = [L.D.isend(sent, dst=to), L.D.irecv(out, src=frm)]
    flags = [w.wait() for w in works]
    return [out, flags, [w.is_completed() for w in works]]


def tags(L):
    r = L.D.get_rank()
    a, b = L.zeros(2), L.zeros(2)
    if r == 0:
        works = [
            L.D.isend(L.T.ones(2, dtype=L.T.float64), dst=1, tag=7),
            L.D.isend(L.T.full((2,), 2.0, dtype=L.T.float64), dst=1, tag=3),
        ]
        for w in works:
            w.wait()
    elif r == 1:
        L.D.recv(b, src=0, tag=3)
        L.D.recv(a, src=0, tag=7)
    return [a, b]


def batch_ring(L):
    r, n = L.D.get_rank(), L.D.get_world_size()
    left, right = L.zeros(3), L.zeros(3)
    ops = [
        L.D.P2POp(L.D.isend, L.data(r, (3,)), (r + 1) % n),
        L.D.P2POp(L.D.isend, L.data(r, (3,), offset=5), (r - 1) % n),
        L.D.P2POp(L.D.irecv, left, (r - 1) % n),
        L.D.P2POp(L.D.irecv, right, (r + 1) % n),
    ]
    works = L.D.batch_isend_irecv(ops)
    for w in works:
        w.wait()
    return [len(works), left, right]


def group_peer_send(L):
    r = L.D.get_rank()
    out = L.zeros(2)
    if r == 0:
        L.D.send(L.data(0, (2,)), group_dst=1)
    elif r == 1:
        return [L.D.recv(out, group_src=0), out]
    return None


# -- rooted collectives -----------------------------------------------------------------------------
def gather(dtype, dst, async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = [L.zeros(2, 3, dtype=dtype) for _ in range(n)] if r == dst else None
        work = L.D.gather(L.data(r, (2, 3), dtype), out, dst=dst, async_op=async_op)
        if async_op:
            work.wait()
        return out

    return fn


def scatter(dtype, src, async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = L.zeros(2, 3, dtype=dtype)
        parts = [L.data(i, (2, 3), dtype) for i in range(n)] if r == src else None
        work = L.D.scatter(out, parts, src=src, async_op=async_op)
        if async_op:
            work.wait()
        return out

    return fn


def reduce_scatter(dtype, op, async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = L.zeros(2, 3, dtype=dtype)
        inputs = [L.data(r, (2, 3), dtype, offset=i) for i in range(n)]
        copies = [t.clone() for t in inputs]
        work = L.D.reduce_scatter(out, inputs, op=getattr(L.D.ReduceOp, op), async_op=async_op)
        if async_op:
            work.wait()
        return [out, inputs, copies]

    return fn


def reduce_scatter_tensor(stacked, async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        # torch's gloo takes the concatenated form only (NCCL both): torch gets the same values so
        inp = L.data(r, (2 * n, 3), "float32")
        if stacked and L.T is ember:
            inp = inp.reshape(n, 2, 3)
        out = L.zeros(2, 3, dtype="float32")
        work = L.D.reduce_scatter_tensor(out, inp, async_op=async_op)
        if async_op:
            work.wait()
        return out

    return fn


def all_gather_into_tensor(stacked, dtype="float64", async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = L.zeros(*((n, 2, 3) if stacked and L.T is ember else (2 * n, 3)), dtype=dtype)
        work = L.D.all_gather_into_tensor(out, L.data(r, (2, 3), dtype), async_op=async_op)
        if async_op:
            work.wait()
        return out.reshape(2 * n, 3)

    return fn


def all_to_all(uneven, async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        rows = (lambda i, j: i + 2 * j + 1) if uneven else (lambda i, j: 2)
        inputs = [L.data(r, (rows(r, j), 3), "float64", offset=j) for j in range(n)]
        outputs = [L.zeros(rows(j, r), 3) for j in range(n)]
        if uneven and L.T is torch:  # torch's gloo all_to_all takes equal sizes only: its single form
            out = L.zeros(sum(rows(j, r) for j in range(n)), 3)
            L.D.all_to_all_single(out, L.T.cat(inputs), [rows(j, r) for j in range(n)], [rows(r, j) for j in range(n)])
            return list(out.split([rows(j, r) for j in range(n)]))
        work = L.D.all_to_all(outputs, inputs, async_op=async_op)
        if async_op:
            work.wait()
        return outputs

    return fn


def all_to_all_single(uneven, dtype="float64", async_op=False):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        if uneven:
            send = [r + 2 * j + 1 if (r + j) % 3 else 0 for j in range(n)]
            take = [j + 2 * r + 1 if (j + r) % 3 else 0 for j in range(n)]
        else:
            send = take = None
        inp = L.data(r, (sum(send) if send else 2 * n, 3), dtype)
        out = L.zeros(sum(take) if take else 2 * n, 3, dtype=dtype)
        work = L.D.all_to_all_single(out, inp, take, send, async_op=async_op)
        if async_op:
            work.wait()
        return out

    return fn


def reductions(dtype, op):
    """all_reduce, reduce, reduce_scatter_tensor (and all_gather, broadcast) of one dtype."""

    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        red_op = getattr(L.D.ReduceOp, op)
        a = L.data(r, (5,), dtype)
        L.D.all_reduce(a, op=red_op)
        b = L.data(r, (5,), dtype, offset=1)
        L.D.reduce(b, dst=n - 1, op=red_op)
        out = L.zeros(3, dtype=dtype)
        L.D.reduce_scatter_tensor(out, L.data(r, (3 * n,), dtype, offset=2), op=red_op)
        gathered = [L.zeros(2, dtype=dtype) for _ in range(n)]
        L.D.all_gather(gathered, L.data(r, (2,), dtype, offset=3))
        c = L.data(r, (4,), dtype, offset=4)
        L.D.broadcast(c, src=n - 1)
        return [a, b if r == n - 1 else None, out, gathered, c]

    return fn


def async_returns(L):
    """Every collective with async_op=True returns a Work whose wait() gives True."""
    r, n = L.D.get_rank(), L.D.get_world_size()
    t = L.data(r, (2,))
    works = [
        L.D.all_reduce(t, async_op=True),
        L.D.broadcast(t, src=0, async_op=True),
        L.D.reduce(t, dst=0, async_op=True),
        L.D.all_gather([L.zeros(2) for _ in range(n)], t, async_op=True),
        L.D.barrier(async_op=True),
    ]
    return [w.wait() for w in works]


# -- objects -------------------------------------------------------------------------------------
def gather_object(dst):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = [None] * n if r == dst else None
        L.D.gather_object({"rank": r, "text": "x" * (7 * r), "list": list(range(r))}, out, dst=dst)
        return out

    return fn


def scatter_object_list(src):
    def fn(L):
        r, n = L.D.get_rank(), L.D.get_world_size()
        out = [None]
        objs = [{"to": i, "pad": "y" * (5 * i)} for i in range(n)] if r == src else None
        L.D.scatter_object_list(out, objs, src=src)
        return out

    return fn


def send_recv_object_list(L):
    r, n = L.D.get_rank(), L.D.get_world_size()
    if r == 0:
        for peer in range(1, n):
            L.D.send_object_list([peer, "hello", {"a": [1, 2]}, None], dst=peer)
        return None
    got = [0, 0, 0, 0]
    source = L.D.recv_object_list(got, src=0)
    return [source, got]


def broadcast_object_list(L):
    r = L.D.get_rank()
    objs = ["from", r, {"k": r}] if r == 1 else [None, None, None]
    L.D.broadcast_object_list(objs, src=1)
    return objs


# -- groups ------------------------------------------------------------------------------------
def group_info(L):
    n = L.D.get_world_size()
    world = L.D.group.WORLD
    return [
        L.D.GroupMember.WORLD is world,
        L.D.GroupMember.NON_GROUP_MEMBER,
        L.D.get_process_group_ranks(world),
        L.D.get_process_group_ranks(None),
        L.D.get_global_rank(world, n - 1),
        L.D.get_group_rank(world, n - 1),
        L.D.get_rank(world),
        L.D.get_world_size(world),
        L.D.Backend.MPI,
        L.D.Backend.NCCL,
        L.D.Backend.GLOO,
        L.D.Backend("GLOO"),
        L.D.Backend("Custom"),
        isinstance(world, L.D.ProcessGroup),
        L.D.is_torchelastic_launched(),
    ]


def subgroup(ranks, sort_ranks=True):
    """Collectives on ``new_group(ranks)``; non-members get NON_GROUP_MEMBER and every call returns None."""

    def fn(L):
        r = L.D.get_rank()
        g = L.D.new_group(ranks, sort_ranks=sort_ranks)
        member = r in ranks
        info = [
            g == L.D.GroupMember.NON_GROUP_MEMBER,
            L.D.get_rank(g),
            L.D.get_world_size(g),
        ]
        if member:
            order = L.D.get_process_group_ranks(g)
            info += [
                order,
                [L.D.get_global_rank(g, i) for i in range(len(ranks))],
                [L.D.get_group_rank(g, x) for x in order],
                attempt(lambda: L.D.get_global_rank(g, len(ranks))),
                attempt(lambda: L.D.get_group_rank(g, 99)),
            ]
        k = len(ranks)
        first = min(ranks)
        t = L.data(r, (2, 3))
        res = [L.D.all_reduce(t, group=g)]
        b = L.data(r, (2,), offset=1)
        res.append(L.D.broadcast(b, src=max(ranks), group=g))
        gathered = [L.zeros(2, 3) for _ in range(k)]
        res.append(L.D.all_gather(gathered, L.data(r, (2, 3), offset=2), group=g))
        gl = [L.zeros(2, 3) for _ in range(k)] if r == first else None
        res.append(L.D.gather(L.data(r, (2, 3), offset=3), gl, dst=first, group=g))
        sc = L.zeros(2)
        parts = [L.data(i, (2,), offset=4) for i in range(k)] if r == first else None
        res.append(L.D.scatter(sc, parts, src=first, group=g))
        rs = L.zeros(2)
        res.append(L.D.reduce_scatter(rs, [L.data(r, (2,), offset=5 + i) for i in range(k)], group=g))
        a2a = L.zeros(2 * k)
        res.append(L.D.all_to_all_single(a2a, L.data(r, (2 * k,), offset=9), group=g))
        red = L.data(r, (3,), offset=10)
        res.append(L.D.reduce(red, group_dst=k - 1, group=g))
        objs = [None] * k
        res.append(L.D.all_gather_object(objs, ("r", r), group=g))
        res.append(L.D.barrier(group=g))
        res.append(L.D.gather_object(r, [None] * k if r == first else None, dst=first, group=g))
        res.append(L.D.get_process_group_ranks(L.D.group.WORLD))
        bol = [r, "x" * r]
        res.append(L.D.broadcast_object_list(bol, src=max(ranks), group=g))
        res.append(bol)
        L.D.destroy_process_group(g)
        red = red if info[1] == k - 1 else None  # elsewhere torch leaves scratch values in it
        return [info, res, t, b, gathered, gl, sc, rs, a2a, red, objs if member else None]

    return fn


def subgroup_p2p(L):
    r, n = L.D.get_rank(), L.D.get_world_size()
    g = L.D.new_group([n - 1, 0])
    out = L.zeros(3)
    got = None
    if r == 0:
        L.D.send(L.data(0, (3,)), group_dst=1, group=g)
    elif r == n - 1:
        got = L.D.recv(out, group_src=0, group=g)
    else:  # not a member: sends and receives refuse the group
        got = [attempt(lambda: L.D.isend(out, dst=0, group=g)), attempt(lambda: L.D.irecv(out, src=0, group=g))]
    return [got, out]


def monitored_barrier(L):
    return [L.D.monitored_barrier(), L.D.monitored_barrier(timeout=30.0, wait_all_ranks=True)]


# -- argument errors ---------------------------------------------------------------------------------
def errors(L):
    """Argument errors raised locally, before any communication (torch's exception types)."""
    r, n = L.D.get_rank(), L.D.get_world_size()
    f, i = L.zeros(4, dtype="float32"), L.zeros(4, dtype="int64")
    cases = {
        "send_self": lambda: L.D.send(f, r),
        "send_none": lambda: L.D.send(f),
        "send_both": lambda: L.D.send(f, (r + 1) % n, group_dst=(r + 1) % n),
        "gather_count": lambda: L.D.gather(f, [f], dst=r),
        "gather_nondst": lambda: L.D.gather(f, [f] * n, dst=(r + 1) % n),
        "gather_shape": lambda: L.D.gather(f, [f] * (n - 1) + [L.zeros(3, dtype="float32")], dst=r),
        "gather_dtype": lambda: L.D.gather(f, [f] * (n - 1) + [i], dst=r),
        "scatter_count": lambda: L.D.scatter(f, [f], src=r),
        "scatter_nonsrc": lambda: L.D.scatter(f, [f] * n, src=(r + 1) % n),
        "scatter_shape": lambda: L.D.scatter(f, [f] * (n - 1) + [L.zeros(3, dtype="float32")], src=r),
        "scatter_dtype": lambda: L.D.scatter(f, [f] * (n - 1) + [i], src=r),
        "rs_count": lambda: L.D.reduce_scatter(f, [f]),
        "ag_count": lambda: L.D.all_gather([f], f),
        "ag_shape": lambda: L.D.all_gather([f] * (n - 1) + [L.zeros(3, dtype="float32")], f),
        "ag_dtype": lambda: L.D.all_gather([f] * (n - 1) + [i], f),
        "agit_size": lambda: L.D.all_gather_into_tensor(L.zeros(4 * n - 1, dtype="float32"), f),
        "agit_dtype": lambda: L.D.all_gather_into_tensor(L.zeros(4 * n, dtype="float64"), f),
        "a2a_count": lambda: L.D.all_to_all([f], [f] * n),
        "a2a_dtype": lambda: L.D.all_to_all([f] * (n - 1) + [i], [f] * n),
        "a2as_split_sum": lambda: L.D.all_to_all_single(f, f, [1] * n, [2] * n),
        "a2as_split_len": lambda: L.D.all_to_all_single(f, f, [1, 3, 0, 0][: n + 1], [4 // n] * n),
        "a2as_dtype": lambda: L.D.all_to_all_single(f, i),
        "ar_op": lambda: L.D.all_reduce(f, "sum"),
        "ar_not_tensor": lambda: L.D.all_reduce([1.0]),
        "new_group_dup": lambda: L.D.new_group([0, 0]),
        "p2pop_op": lambda: L.D.P2POp(L.D.all_reduce, f, 1),
        "batch_not_p2pop": lambda: L.D.batch_isend_irecv([1]),
        "ar_complex_max": lambda: L.D.all_reduce(L.zeros(2, dtype="complex64"), op=L.D.ReduceOp.MAX),
        "ar_complex_product": lambda: L.D.all_reduce(L.zeros(2, dtype="complex64"), op=L.D.ReduceOp.PRODUCT),
        "isend_negative_tag": lambda: L.D.isend(f, (r + 1) % n, tag=-1),
        "gather_list_missing": lambda: L.D.gather(f, None, dst=r),
        "scatter_list_missing": lambda: L.D.scatter(f, None, src=r),
        "recv_object_list_any": lambda: L.D.recv_object_list([0], src=None),
        "sol_empty": lambda: L.D.scatter_object_list([], [1] * n, src=r),
        "non_member_rank": lambda: L.D.get_rank(L.D.GroupMember.NON_GROUP_MEMBER),
        "non_member_size": lambda: L.D.get_world_size(L.D.GroupMember.NON_GROUP_MEMBER),
        "non_member_all_reduce": lambda: L.D.all_reduce(f, group=L.D.GroupMember.NON_GROUP_MEMBER),
        "non_member_send": lambda: L.D.send(f, 0, group=L.D.GroupMember.NON_GROUP_MEMBER),
        "non_member_irecv": lambda: L.D.irecv(f, 0, group=L.D.GroupMember.NON_GROUP_MEMBER),
    }
    return {name: attempt(fn) for name, fn in cases.items()}


def ember_only_errors():
    """Errors torch cannot report without crashing a rank; ember's are RuntimeErrors as torch's checks are."""
    r, n = edist.get_rank(), edist.get_world_size()
    f = ember.zeros(4)
    for fn in (lambda: edist.isend(f, r), lambda: edist.irecv(f, r)):  # torch's send() raises ValueError too
        got = attempt(fn)
        assert isinstance(got, Raised) and got.type == "ValueError" and "Invalid" in got.text, got
    for fn in (
        lambda: edist.reduce_scatter_tensor(f, ember.zeros(4 * n - 1)),
        lambda: edist.reduce_scatter_tensor(f, ember.zeros(4 * n, dtype=ember.float64)),
        lambda: edist.reduce_scatter(f, [f] * (n - 1) + [ember.zeros(3)]),
        lambda: edist.all_to_all_single(ember.zeros(4), ember.zeros(5)),
    ):
        got = attempt(fn)
        assert isinstance(got, Raised) and got.type == "RuntimeError", got
    for bad in (lambda: edist.send(f, n), lambda: edist.broadcast(f, src=-1), lambda: edist.new_group([0, n])):
        got = attempt(bad)
        assert isinstance(got, Raised) and got.type == "ValueError", got
    assert edist.is_mpi_available() and not edist.is_gloo_available()


def monitored_barrier_missing():
    """Rank 0 names the ranks that never come (torch: "Rank 1 failed to pass monitoredBarrier in 1000 ms")."""
    r, n = edist.get_rank(), edist.get_world_size()
    if r == 0:
        got = attempt(lambda: edist.monitored_barrier(timeout=datetime.timedelta(seconds=1), wait_all_ranks=True))
        assert isinstance(got, Raised) and got.type == "DistributedError", got
        missing = ", ".join(str(i) for i in range(1, n))
        assert f"Rank{'s' if n > 2 else ''} {missing} failed to pass monitoredBarrier in 1000 ms" in got.text, got
    edist.barrier()


def checks(world_size):
    """The checks of a run on ``world_size`` ranks, by name."""
    found = {}
    for dtype in DTYPES:
        found[f"send_recv_{dtype}"] = both(send_recv(dtype))
    found["send_recv_0d"] = both(send_recv("float32", ()))
    found["send_recv_empty"] = both(send_recv("float32", (0, 3)))
    found["send_recv_restricted"] = both(send_recv("float64"), "restricted")
    found["recv_any_source"] = both(recv_any_source)
    found["recv_into_view"] = recv_into_view
    found["isend_irecv"] = both(isend_irecv)
    found["isend_irecv_restricted"] = both(isend_irecv, "restricted")
    found["tags"] = both(tags)
    found["batch_isend_irecv"] = both(batch_ring)
    found["group_peer_send"] = both(group_peer_send)
    for dtype in ("float32", "int64", "bfloat16", "bool"):
        found[f"gather_{dtype}"] = both(gather(dtype, world_size - 1))
        found[f"scatter_{dtype}"] = both(scatter(dtype, world_size - 1))
    found["gather_async"] = both(gather("float64", 0, True))
    found["scatter_async"] = both(scatter("float64", 0, True))
    found["gather_restricted"] = both(gather("float64", 0), "restricted")
    found["scatter_restricted"] = both(scatter("float64", 1), "restricted")
    for dtype, ops in (
        ("float64", ("SUM", "AVG", "PRODUCT", "MIN", "MAX")),
        ("float32", ("SUM",)),
        ("int64", ("SUM", "MAX")),
    ):
        for op in ops:
            found[f"reduce_scatter_{op}_{dtype}"] = both(reduce_scatter(dtype, op), tol=TOL[dtype])
    found["reduce_scatter_async"] = both(reduce_scatter("float64", "SUM", True), tol=1e-12)
    found["reduce_scatter_restricted"] = both(reduce_scatter("float64", "MAX"), "restricted")
    found["reduce_scatter_tensor"] = both(reduce_scatter_tensor(False), tol=1e-6)
    found["reduce_scatter_tensor_stacked"] = both(reduce_scatter_tensor(True, True), tol=1e-6)
    found["all_gather_into_tensor"] = both(all_gather_into_tensor(False))
    found["all_gather_into_tensor_stacked"] = both(all_gather_into_tensor(True, "int64", True))
    found["all_gather_into_tensor_restricted"] = both(all_gather_into_tensor(False, "float32"), "restricted")
    found["all_to_all"] = both(all_to_all(False))
    found["all_to_all_uneven"] = both(all_to_all(True, True))
    found["all_to_all_single"] = both(all_to_all_single(False))
    found["all_to_all_single_uneven"] = both(all_to_all_single(True, "float32", True))
    found["all_to_all_single_restricted"] = both(all_to_all_single(True), "restricted")
    found["async_returns"] = both(async_returns)
    for dtype, ops in (
        ("bool", ("SUM", "PRODUCT", "MIN", "MAX")),
        ("bfloat16", ("SUM", "MAX")),
        ("float16", ("SUM", "MIN")),
        ("uint8", ("SUM", "PRODUCT")),
        ("int8", ("SUM", "MAX")),
        ("int32", ("SUM",)),
        ("complex64", ("SUM",)),
    ):
        for op in ops:
            # 3 ranks may add in another order than torch's: a rounding of the dtype apart
            tol = {"bfloat16": 1e-2, "float16": 2e-3, "complex64": 1e-6}.get(dtype, 0.0)
            found[f"reductions_{dtype}_{op}"] = both(reductions(dtype, op), tol=tol)
    for root in sorted({0, world_size - 1}):
        found[f"gather_object_{root}"] = both(gather_object(root))
        found[f"scatter_object_list_{root}"] = both(scatter_object_list(root))
    found["send_recv_object_list"] = both(send_recv_object_list)
    found["broadcast_object_list"] = both(broadcast_object_list)
    found["group_info"] = both(group_info)
    found["subgroup_all"] = both(subgroup(list(range(world_size))), tol=1e-12)
    found["subgroup_one"] = both(subgroup([world_size - 1]))
    if world_size >= 3:
        found["subgroup_0_2"] = both(subgroup([0, 2]), tol=1e-12)
        found["subgroup_unsorted"] = both(subgroup([2, 1], sort_ranks=False), tol=1e-12)
        found["subgroup_sorted"] = both(subgroup([2, 1]), tol=1e-12)
    found["subgroup_p2p"] = both(subgroup_p2p)
    found["monitored_barrier"] = both(monitored_barrier)
    found["errors"] = both(errors)
    found["ember_only_errors"] = ember_only_errors
    found["monitored_barrier_missing"] = monitored_barrier_missing
    return found


if __name__ == "__main__":
    run_against_torch(checks)
