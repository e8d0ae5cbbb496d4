"""Off the main road, differential against PyTorch: the class names of the autograd nodes that an op's
overloads give (a tensor or a number operand), ``sparse.mm``/``spmm`` of dense matrices, and the
``Tensor.broadcast_to`` forms."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

# name -> f(lib, x, y): x and y are (2, 2) float tensors that require grad
NODE_CASES = {
    "div floor tensor": lambda L, x, y: L.div(x, y, rounding_mode="floor"),
    "div floor number": lambda L, x, y: L.div(x, 2, rounding_mode="floor"),
    "div trunc tensor": lambda L, x, y: L.div(x, y, rounding_mode="trunc"),
    "div trunc number": lambda L, x, y: L.div(x, 2, rounding_mode="trunc"),
    "div_ floor": lambda L, x, y: x.clone().div_(2, rounding_mode="floor"),
    "div number": lambda L, x, y: x / 2,
    "div 0-d": lambda L, x, y: x / L.tensor(2.0),
    "remainder tensor": lambda L, x, y: L.remainder(x, y),
    "remainder number": lambda L, x, y: L.remainder(x, 2),
    "remainder 0-d": lambda L, x, y: L.remainder(x, L.tensor(2.0)),
    "% tensor": lambda L, x, y: x % y,
    "% number": lambda L, x, y: x % 2,
    "fmod tensor": lambda L, x, y: L.fmod(x, y),
    "fmod number": lambda L, x, y: L.fmod(x, 2),
    "fmod 0-d": lambda L, x, y: L.fmod(x, L.tensor(2.0)),
    "clamp_min number": lambda L, x, y: L.clamp_min(x, 1),
    "clamp_min tensor": lambda L, x, y: L.clamp_min(x, y),
    "clamp_max number": lambda L, x, y: L.clamp_max(x, 1),
    "clamp_max tensor": lambda L, x, y: L.clamp_max(x, y),
    "Tensor.clamp_min": lambda L, x, y: x.clamp_min(1),
    "Tensor.clamp_max tensor": lambda L, x, y: x.clamp_max(y),
    "clamp(min=number)": lambda L, x, y: x.clamp(min=1),
    "clamp(min=tensor)": lambda L, x, y: x.clamp(min=y),
    "clamp(number, number)": lambda L, x, y: x.clamp(0, 1),
    "lerp number": lambda L, x, y: L.lerp(x, y, 0.5),
    "lerp tensor": lambda L, x, y: L.lerp(x, y, y),
    "lerp 0-d": lambda L, x, y: L.lerp(x, y, L.tensor(0.5)),
    "xlogy tensor": lambda L, x, y: L.xlogy(x, y),
    "xlogy number other": lambda L, x, y: L.xlogy(x, 2.0),
    "xlogy number self": lambda L, x, y: L.xlogy(2.0, y),
    "xlog1py tensor": lambda L, x, y: L.special.xlog1py(x, y),
    "xlog1py number other": lambda L, x, y: L.special.xlog1py(x, 2.0),
    "xlog1py number self": lambda L, x, y: L.special.xlog1py(2.0, y),
    "logcumsumexp": lambda L, x, y: x.logcumsumexp(0),
    "logaddexp": lambda L, x, y: L.logaddexp(x, y),
    "igamma": lambda L, x, y: L.igamma(x.detach(), y),
    "igammac": lambda L, x, y: L.igammac(x.detach(), y),
    "special.gammainc": lambda L, x, y: L.special.gammainc(x.detach(), y),
    "masked_fill number": lambda L, x, y: x.masked_fill(y > 1, 0.5),
    "masked_fill tensor": lambda L, x, y: x.masked_fill(x > 2, y.sum()),
    "masked_fill 0-d tensor": lambda L, x, y: x.masked_fill(x > 2, L.tensor(-1.0)),
    "masked_fill_": lambda L, x, y: x.clone().masked_fill_(y > 1, 0.5),
    "softplus": lambda L, x, y: L.nn.functional.softplus(x),
    "softplus beta": lambda L, x, y: L.nn.functional.softplus(x, 2.0, 3.0),
}


@pytest.mark.parametrize("case", sorted(NODE_CASES))
def test_node_names_follow_the_overload(device, case):
    names, values, grads = {}, {}, {}
    for lib, dev in ((torch, "cpu"), (ember, device)):
        x = lib.tensor([[1.0, 2.5], [3.0, 4.0]], device=dev, requires_grad=True)
        y = lib.tensor([[1.5, 2.0], [0.5, 1.25]], device=dev, requires_grad=True)
        out = NODE_CASES[case](lib, x, y)
        names[lib] = (type(out.grad_fn).__name__, out.grad_fn.name())
        values[lib] = out.detach().cpu().reshape(-1).tolist()
        out.backward(lib.ones_like(out))
        grads[lib] = [[] if t.grad is None else t.grad.cpu().reshape(-1).tolist() for t in (x, y)]
    assert names[ember] == names[torch]
    assert values[ember] == pytest.approx(values[torch], rel=1e-6)
    for got, expected in zip(grads[ember], grads[torch]):
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)


# -- sparse.mm and spmm of dense matrices -----------------------------------------------------------
def _pair(lib, device, dtype):
    dt = getattr(lib, str(dtype).split(".")[-1])
    a = lib.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 4.0]], dtype=dt, device=device, requires_grad=True)
    b = lib.tensor([[2.0, 1.0], [0.0, -1.0], [5.0, 0.25]], dtype=dt, device=device, requires_grad=True)
    return a, b


@pytest.mark.parametrize("second", ["dense", "coo", "csr"])
@pytest.mark.parametrize("op", ["sparse.mm", "spmm"])
def test_sparse_mm_of_a_dense_first_matrix(device, dtype, op, second):
    results = {}
    for lib, dev, dt in ((torch, "cpu", dtype), (ember, device, dtype)):
        a, b = _pair(lib, dev, dt)
        other = b if second == "dense" else b.detach().to_sparse() if second == "coo" else b.detach().to_sparse_csr()
        fn = lib.sparse.mm if op == "sparse.mm" else lib.spmm
        if op == "spmm" and second == "csr":
            other = b.detach().to_sparse()
        out = fn(a, other)
        out.sum().backward()
        results[lib] = (
            out.layout == lib.strided,
            out.detach().cpu().tolist(),
            a.grad.cpu().tolist(),
            None if b.grad is None else b.grad.cpu().tolist(),
        )
    assert results[ember] == results[torch]


@pytest.mark.parametrize("op", ["sparse.mm", "spmm"])
def test_sparse_mm_of_dense_matrices_errors(op):
    for lib in (torch, ember):
        fn = lib.sparse.mm if op == "sparse.mm" else lib.spmm
        a = lib.ones(2, 3)
        with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            fn(a, a)
    for lib in (torch, ember):
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.sparse.mm(lib.ones(2, 3), lib.ones(3))
        with pytest.raises(TypeError, match=r"argument 'dense' \(position 2\) must be Tensor, not int"):
            lib.sparse.mm(lib.ones(2, 3), 3)


# -- Tensor.broadcast_to ----------------------------------------------------------------------------
BROADCAST_FORMS = {
    "ints": lambda x: x.broadcast_to(2, 3),
    "tuple": lambda x: x.broadcast_to((2, 3)),
    "list": lambda x: x.broadcast_to([2, -1]),
    "size=": lambda x: x.broadcast_to(size=(2, 3)),
    "function size=": lambda x: type(x).broadcast_to(x, size=(2, 3)),
}


@pytest.mark.parametrize("form", sorted(BROADCAST_FORMS))
def test_broadcast_to_method_forms(device, form):
    expected = BROADCAST_FORMS[form](torch.tensor([1.0, 2.0, 3.0]))
    got = BROADCAST_FORMS[form](ember.tensor([1.0, 2.0, 3.0], device=device))
    assert got.shape == expected.shape and got.cpu().tolist() == expected.tolist()
    assert got.stride() == expected.stride()


def test_broadcast_to_function_and_errors():
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0, 3.0])
        assert lib.broadcast_to(x, size=(2, 3)).shape == (2, 3)
        assert lib.Tensor.broadcast_to.__name__ == "broadcast_to"
        with pytest.raises(TypeError):
            lib.broadcast_to(x, 2, 3)
        with pytest.raises(TypeError):
            lib.broadcast_to(x, shape=(2, 3))
        with pytest.raises(TypeError, match='missing 1 required positional arguments: "size"'):
            x.broadcast_to()
