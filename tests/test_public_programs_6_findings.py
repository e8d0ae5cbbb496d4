"""Differences from PyTorch found by the round-6 public programs (tests/test_public_programs_6.py), each
checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _outcome(fn):
    try:
        return fn().tolist()
    except Exception as error:  # noqa: BLE001 - the error's type is what is compared
        return type(error).__name__


@pytest.mark.parametrize(
    "shifts, dims",
    [((), None), ((), ()), ((), (0,)), ((1,), ()), ((1,), None), ((1, 2), None), ((1, 2), ()), ((1, -1), (0, 1))],
)
def test_roll_without_dims_or_shifts_as_torch(shifts, dims):
    """No shifts is an error; empty dims, like None, roll the flattened tensor."""
    x = ember.arange(6.0).view(2, 3)
    expected = _outcome(lambda: torch.roll(torch.arange(6.0).view(2, 3), shifts, dims))
    assert _outcome(lambda: ember.roll(x, shifts, dims)) == expected


@pytest.mark.parametrize("margin", [1.0, 0.0, -1.0])
@pytest.mark.parametrize("name", ["triplet_margin_loss", "triplet_margin_with_distance_loss"])
def test_triplet_losses_refuse_a_margin_that_is_not_positive_as_torch(name, margin):
    a, p, n = ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [3.0, 3.0]], [[1.0, 2.5], [0.0, 4.0]])

    def call(lib):
        return getattr(lib.nn.functional, name)(lib.tensor(a), lib.tensor(p), lib.tensor(n), margin=margin)

    expected = _outcome(lambda: call(torch))
    assert _outcome(lambda: call(ember)) == (pytest.approx(expected) if margin > 0 else expected)


def test_zero_grad_without_set_to_none_empties_a_sparse_gradient_as_torch():
    """``zero_grad(set_to_none=False)`` on an ``Embedding(sparse=True)``: the sparse gradient is emptied
    in place (``zero_``), and the next backward adds to it."""
    record = {}
    for lib in (torch, ember):
        lib.manual_seed(0)
        embedding = lib.nn.Embedding(5, 2, sparse=True)
        optimizer = lib.optim.SparseAdam(embedding.parameters(), lr=0.1)
        embedding(lib.tensor([[0, 2], [2, 4]])).pow(2).sum().backward()
        grad = embedding.weight.grad
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        emptied = (embedding.weight.grad is grad, grad.is_sparse, grad._nnz(), grad.is_coalesced(), grad.shape)
        emptied += (tuple(grad._indices().shape), tuple(grad._values().shape), grad.to_dense().tolist())
        embedding(lib.tensor([1, 4])).pow(2).sum().backward()
        optimizer.step()
        record[lib] = emptied, embedding.weight.grad.coalesce().to_dense().tolist(), embedding.weight.tolist()
    assert record[ember][0] == record[torch][0]
    np.testing.assert_allclose(record[ember][1], record[torch][1], rtol=1e-6)
    np.testing.assert_allclose(record[ember][2], record[torch][2], rtol=1e-6)


@pytest.mark.parametrize("pad", [(-5, 1), (1, -5), (-3, -2), (-4, 1), (-4, 0), (-2, -2), (2, -5), (-1, -1, -4, 1)])
def test_constant_pad_refuses_to_crop_more_than_a_dimension_holds_as_torch(pad):
    """Negative padding crops first (PyTorch narrows), so one negative side may not exceed the size even when
    the other side's positive padding would leave a non-negative output size."""
    expected = _outcome(lambda: torch.nn.functional.pad(torch.arange(12.0).view(3, 4), pad))
    assert _outcome(lambda: ember.nn.functional.pad(ember.arange(12.0).view(3, 4), pad)) == expected


@pytest.mark.parametrize(
    "draw",
    [
        lambda x, g: ember.bernoulli(x, generator=g),
        lambda x, g: x.bernoulli_(0.5, generator=g),
        lambda x, g: x.uniform_(generator=g),
        lambda x, g: ember.multinomial(x, 2, generator=g),
        lambda x, g: ember.randn(3, device=x.device, generator=g),
        lambda x, g: ember.randint(5, (3,), device=x.device, generator=g),
        lambda x, g: ember.randperm(4, device=x.device, generator=g),
    ],
)
def test_sampling_refuses_a_generator_of_another_device_type(device, draw):
    """BERT's masking with ``Generator()`` (a CPU one) on an accelerator's tensors: PyTorch refuses it
    ("Expected a 'cuda' device type for generator but found 'cpu'"); ember crashed inside the OpenCL backend."""
    if ember.device(device).type == "cpu":
        pytest.skip("the CPU generator is the device's own")
    x = ember.full((3,), 0.5, device=device)
    with pytest.raises(RuntimeError, match="device type for generator"):
        draw(x, ember.Generator())
    with pytest.raises(RuntimeError, match="device type for generator"):
        ember.ones(3).bernoulli_(0.5, generator=ember.Generator(device))


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, float("inf")])
@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("float64", "float64")])
def test_cdist_refuses_inputs_of_two_dtypes_as_torch(dtypes, rows, p):
    """Batch-hard mining that mixes a float64 anchor set with float32 embeddings: PyTorch raises, ember promoted."""

    def call(lib):
        x1 = lib.arange(rows * 4.0, dtype=getattr(lib, dtypes[0])).view(rows, 4) / 7
        x2 = lib.arange(20.0, dtype=getattr(lib, dtypes[1])).view(5, 4) / 5
        return lib.cdist(x1, x2, p=p)

    expected, ours = _outcome(lambda: call(torch)), _outcome(lambda: call(ember))
    if isinstance(expected, str):
        assert ours == expected
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cdist_and_pdist_inf_give_each_tied_coordinate_the_whole_gradient_as_torch(dtype):
    """``cdist(p=inf)`` and ``pdist(p=inf)`` of points whose differences tie (integer-valued data): PyTorch's gradient
    goes whole to every coordinate reaching the maximum, not shared out as ``amax``'s is."""
    points = [[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [2.0, -1.0]]
    record = {}
    for lib in (torch, ember):
        x1 = lib.tensor(points, dtype=getattr(lib, dtype), requires_grad=True)
        x2 = lib.tensor(points[::-1], dtype=getattr(lib, dtype), requires_grad=True)
        d = lib.cdist(x1, x2, p=float("inf"))
        g1, g2 = lib.autograd.grad((d * lib.arange(16.0, dtype=d.dtype).view(4, 4)).sum(), (x1, x2))
        pairs = lib.pdist(x1, p=float("inf"))
        (g,) = lib.autograd.grad((pairs * lib.arange(6.0, dtype=d.dtype)).sum(), x1)
        record[lib] = [t.detach().numpy() for t in (d, g1, g2, pairs, g)]
    for ours, theirs in zip(record[ember], record[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.float(),
        lambda s: s.double(),
        lambda s: s.half(),
        lambda s: s.long(),
        lambda s: s.cpu(),
        lambda s: s.transpose(0, 1),
        lambda s: s.transpose(-1, 0),
        lambda s: s.transpose(1, 1),
        lambda s: s.t(),
        lambda s: s.coalesce().transpose(0, 1),
    ],
)
def test_sparse_conversions_and_transpose_as_torch(call):
    """A GCN's adjacency (pygcn's ``adj.float()``, ``adj.cpu()``, a transposed adjacency): values, dtype,
    coordinates and coalescedness as PyTorch gives them; a conversion that changes nothing returns the tensor."""
    record = {}
    for lib in (torch, ember):
        s = lib.sparse_coo_tensor(lib.tensor([[0, 1, 1], [2, 0, 2]]), lib.tensor([3.0, 4.0, 5.0]), (2, 3))
        out = call(s)
        record[lib] = (out is s, str(out.dtype).rpartition(".")[2], tuple(out.shape), out.is_coalesced())
        record[lib] += (out._indices().tolist(), out._values().tolist(), out.to_dense().tolist())
    assert record[ember] == record[torch]


def test_sparse_transpose_refuses_a_dense_dimension_as_torch():
    def call(lib):
        s = lib.sparse_coo_tensor(lib.tensor([[0, 1, 1], [2, 0, 2]]), lib.ones(3, 2), (2, 3, 2))
        return s.transpose(1, 2)

    assert _outcome(lambda: call(ember)) == _outcome(lambda: call(torch)) == "RuntimeError"


def _legacy_sparse_outcomes(lib):
    indices, out = [[0, 1, 1], [2, 0, 2]], []
    for cls in (lib.sparse.FloatTensor, lib.sparse.DoubleTensor, lib.sparse.LongTensor):
        for args in (
            (lib.tensor(indices), lib.tensor([3, 4, 5])),
            (lib.tensor(indices), lib.tensor([3.0, 4.0, 5.0]), lib.Size([2, 3])),
            (2, 3),
            (),
            (lib.Size([2, 3]),),
            (lib.tensor(indices).int(), lib.tensor([3.0, 4.0, 5.0]), (2, 3)),
        ):
            try:
                s = cls(*args)
            except Exception as error:  # noqa: BLE001 - the error's type is what is compared
                out.append(type(error).__name__)
                continue
            out.append((str(s.dtype).rpartition(".")[2], tuple(s.shape), s._nnz(), s.is_coalesced()))
            out.append((isinstance(s, cls), isinstance(s, lib.sparse.FloatTensor), s.to_dense().tolist()))
    return out + [lib.sparse.FloatTensor.dtype is lib.float32, isinstance(lib.ones(2), lib.sparse.FloatTensor)]


@pytest.mark.filterwarnings("ignore:.*is deprecated")
def test_legacy_sparse_tensor_types_as_torch():
    """pygcn's ``sparse_mx_to_torch_sparse_tensor`` builds its adjacency with ``torch.sparse.FloatTensor(indices,
    values, shape)``: the legacy constructors, their dtypes (the values' for (indices, values)) and isinstance."""
    assert _legacy_sparse_outcomes(ember) == _legacy_sparse_outcomes(torch)
    with pytest.warns(UserWarning, match="deprecated"):
        ember.sparse.FloatTensor(2, 3)


_LAID_OUT = {
    "transposed": lambda lib: lib.ones(4, 3).t(),
    "permuted": lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1),
    "channels_last": lambda lib: lib.ones(2, 3, 2, 2).to(memory_format=lib.channels_last),
    "sliced": lambda lib: lib.ones(4, 6)[:, ::2],
    "sliced_long": lambda lib: lib.ones(20, 2)[:, 0],
    "transposed_float64": lambda lib: lib.ones(6, 5, dtype=lib.float64).t(),
}
_SAMPLERS = {
    "uniform_": lambda lib, x: x.uniform_(-1.0, 2.0),
    "normal_": lambda lib, x: x.normal_(),
    "normal_scaled": lambda lib, x: x.normal_(2.0, 3.0),
    "bernoulli_": lambda lib, x: x.bernoulli_(0.3),
    "bernoulli_tensor": lambda lib, x: x.bernoulli_(lib.full(tuple(x.shape), 0.6)),
    "exponential_": lambda lib, x: x.exponential_(),
    "geometric_": lambda lib, x: x.geometric_(0.3),
    "cauchy_": lambda lib, x: x.cauchy_(),
    "log_normal_": lambda lib, x: x.log_normal_(),
    "random_": lambda lib, x: x.random_(0, 10),
    "bernoulli": lambda lib, x: lib.bernoulli(x * 0.5),
    "dropout": lambda lib, x: lib.nn.functional.dropout(x, 0.4),
    "dropout_inplace": lambda lib, x: lib.nn.functional.dropout(x, 0.4, inplace=True),
    "alpha_dropout": lambda lib, x: lib.nn.functional.alpha_dropout(x, 0.4, True),
    "rand_like": lambda lib, x: lib.rand_like(x),
}


@pytest.mark.parametrize("layout", list(_LAID_OUT))
@pytest.mark.parametrize("sampler", list(_SAMPLERS))
def test_samplers_fill_a_strided_tensor_in_its_memory_order_as_torch(sampler, layout):
    """A batch_first ``MultiheadAttention`` output (transposed) going through ``dropout``, a channels-last
    activation, ``.t().uniform_()``: PyTorch draws in memory order, so each address gets the same number
    from the same seed; ember drew in the logical order (a TransformerEncoderLayer trained differently)."""
    record = {}
    for lib in (torch, ember):
        lib.manual_seed(0)
        out = _SAMPLERS[sampler](lib, _LAID_OUT[layout](lib))
        record[lib] = (out.tolist(), tuple(out.stride()), lib.rand(2).tolist())
    assert record[ember][1] == record[torch][1]
    np.testing.assert_allclose(record[ember][0], record[torch][0], rtol=1e-6)
    assert record[ember][2] == record[torch][2]


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.nn.Conv2d(3, 4, 3).to(memory_format=lib.channels_last),
        lambda lib: lib.nn.ConvTranspose2d(3, 4, 3).to(memory_format=lib.channels_last),
        lambda lib: lib.nn.Conv3d(2, 2, 2).to(memory_format=lib.channels_last_3d),
        lambda lib: lib.nn.Conv2d(3, 4, 3),
        lambda lib: lib.nn.Linear(3, 4),
    ],
)
def test_reset_parameters_of_a_channels_last_convolution_draws_row_major_as_torch(build):
    """PyTorch's convolutions draw a weight that is not row-major into a row-major buffer, so a channels-last
    model starts from the numbers of a row-major one (now that samplers fill in memory order, this matters)."""
    record = {}
    for lib in (torch, ember):
        module = build(lib)
        lib.manual_seed(0)
        module.reset_parameters()
        record[lib] = [p.tolist() for p in module.parameters()] + [tuple(module.weight.stride())]
    assert record[ember][-1] == record[torch][-1]
    for ours, theirs in zip(record[ember][:-1], record[torch][:-1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
