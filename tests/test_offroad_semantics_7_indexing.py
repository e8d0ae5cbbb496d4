"""Off the main road, differential against PyTorch: an index outside its dimension in advanced indexing is
PyTorch's IndexError "index 3 is out of bounds for dimension 0 with size 3", the dimension counted among the
index tensors (ember let the backend's error through: NumPy's "for axis 1", OpenCL's own words), on reads,
writes and ``index_put_``; ``take``/``put_``'s "out of range: tried to access index 3 on a tensor of 3
elements."; ``index_add``'s IndexError into a vector (ember raised scatter_add's RuntimeError); and
``scatter_reduce``'s mean of bools refused by its own kernel's name."""

from __future__ import annotations

import re

import pytest

import ember

torch = pytest.importorskip("torch")


def _a(L, d):
    return L.arange(24, device=d).reshape(2, 3, 4)


def _t(L, d, values, dtype=None):
    return L.tensor(values, device=d, dtype=dtype)


# name -> f(lib, device): an index outside its dimension
OUT_OF_BOUNDS = {
    "[[2]]": lambda L, d: _a(L, d)[[2]],
    "[[-3]]": lambda L, d: _a(L, d)[[-3]],
    "[tensor([0, 5])]": lambda L, d: _a(L, d)[_t(L, d, [0, 5])],
    "[tensor([0, 3, -9])] (first named)": lambda L, d: _a(L, d)[_t(L, d, [0, 3, -9])],
    "[:, [3]]": lambda L, d: _a(L, d)[:, [3]],
    "[:, tensor([-4])]": lambda L, d: _a(L, d)[:, _t(L, d, [-4])],
    "[:, :, [5]]": lambda L, d: _a(L, d)[:, :, [5]],
    "[[0], [5]]": lambda L, d: _a(L, d)[[0], [5]],
    "[[0], [0], [9]]": lambda L, d: _a(L, d)[[0], [0], [9]],
    "[:, [0], [9]]": lambda L, d: _a(L, d)[:, [0], [9]],
    "[..., [9]]": lambda L, d: _a(L, d)[..., [9]],
    "[0, :, [9]]": lambda L, d: _a(L, d)[0, :, [9]],
    "[None, :, [5]]": lambda L, d: _a(L, d)[None, :, [5]],
    "[[0, 1], [1, -4]]": lambda L, d: _a(L, d)[[0, 1], [1, -4]],
    "[mask, :, [9]]": lambda L, d: _a(L, d)[_t(L, d, [True, False]), :, [9]],
    "[mask2d, [9]]": lambda L, d: _a(L, d)[_t(L, d, [[True, False, True], [False, False, False]]), [9]],
    "[int32 tensor]": lambda L, d: _a(L, d)[_t(L, d, [1, 2], L.int32)],
    "setitem [:, [5]]": lambda L, d: _a(L, d).__setitem__((slice(None), [5]), 1),
    "setitem [[2]] tensor": lambda L, d: _a(L, d).__setitem__([2], _t(L, d, 1)),
    "index_put_": lambda L, d: _a(L, d).index_put_((_t(L, d, [0]), _t(L, d, [5])), _t(L, d, 1)),
    "index_put_ accumulate": lambda L, d: _a(L, d).index_put_(
        (_t(L, d, [0]), _t(L, d, [5])), _t(L, d, 1), accumulate=True
    ),
    "take 3": lambda L, d: L.arange(3, device=d).take(_t(L, d, [3])),
    "take -4": lambda L, d: L.arange(3, device=d).take(_t(L, d, [0, -4])),
    "take 2-d": lambda L, d: L.zeros(2, 3, device=d).take(_t(L, d, [[6]])),
    "put 3": lambda L, d: L.zeros(3, device=d).put(_t(L, d, [3]), _t(L, d, [1.0])),
    "put_ -4 accumulate": lambda L, d: L.zeros(3, device=d).put_(_t(L, d, [-4]), _t(L, d, [1.0]), accumulate=True),
    "index_add vector": lambda L, d: L.zeros(3, device=d).index_add(0, _t(L, d, [3]), L.ones(1, device=d)),
    "index_add vector -1": lambda L, d: L.zeros(3, device=d).index_add(0, _t(L, d, [-1]), L.ones(1, device=d)),
    "index_add 0-d": lambda L, d: L.zeros((), device=d).index_add(0, _t(L, d, [1]), L.ones((), device=d)),
    "index_add matrix": lambda L, d: L.zeros(3, 2, device=d).index_add(0, _t(L, d, [3]), L.ones(1, 2, device=d)),
    "index_add matrix dim 1": lambda L, d: L.zeros(3, 2, device=d).index_add(1, _t(L, d, [-1]), L.ones(3, 1, device=d)),
}

# ember's index_add/index_select into a vector add the offending index to PyTorch's words
_EMBER_ADDS = {"index_add vector", "index_add vector -1", "index_add 0-d"}


@pytest.mark.parametrize("case", list(OUT_OF_BOUNDS))
def test_index_out_of_bounds_errors(device, case):
    with pytest.raises(Exception) as expected:
        OUT_OF_BOUNDS[case](torch, "cpu")
    message = re.escape(str(expected.value))
    pattern = f"^{message} \\(index .*\\)$" if case in _EMBER_ADDS else f"^{message}$"
    with pytest.raises(type(expected.value), match=pattern):
        OUT_OF_BOUNDS[case](ember, device)


# name -> f(lib, device): the same calls within bounds still give PyTorch's values
IN_BOUNDS = {
    "[[-2]]": lambda L, d: _a(L, d)[[-2]],
    "[:, [2, -3]]": lambda L, d: _a(L, d)[:, [2, -3]],
    "[0, :, [3]]": lambda L, d: _a(L, d)[0, :, [3]],
    "[mask, :, [3]]": lambda L, d: _a(L, d)[_t(L, d, [True, False]), :, [3]],
    "take -3": lambda L, d: L.arange(3, device=d).take(_t(L, d, [-3, 2])),
    "put_ -3 accumulate": lambda L, d: L.zeros(3, device=d).put_(
        _t(L, d, [-3, 0]), _t(L, d, [1.0, 2.0]), accumulate=True
    ),
    "index_add int32": lambda L, d: L.zeros(3, device=d).index_add(
        0, _t(L, d, [2, 0, 2], L.int32), L.ones(3, device=d)
    ),
    "index_put_ dup int32 accumulate": lambda L, d: L.zeros(4, device=d).index_put_(
        (_t(L, d, [0, 0, 2, 0], L.int32),), _t(L, d, [1.0, 2.0, 3.0, 4.0]), accumulate=True
    ),
}


@pytest.mark.parametrize("case", list(IN_BOUNDS))
def test_in_bounds_still_indexes(device, case):
    assert IN_BOUNDS[case](ember, device).tolist() == IN_BOUNDS[case](torch, "cpu").tolist()


def test_scatter_reduce_mean_of_bools_refused():
    for L in (torch, ember):
        x = L.tensor([True, False, True])
        with pytest.raises(
            NotImplementedError, match="\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'"
        ):
            x.scatter_reduce(0, L.tensor([0, 0, 1]), x, "mean", include_self=False)


def test_scatter_reduce_names_the_index_out_of_bounds():
    # ember: "scatter_reduce(): index out of bounds for dimension 0 with size 3", without the index
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        torch.zeros(3).scatter_reduce(0, torch.tensor([1, -1, 5]), torch.ones(3), "amax")
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        ember.zeros(3).scatter_reduce(0, ember.tensor([1, -1, 5]), ember.ones(3), "amax")
