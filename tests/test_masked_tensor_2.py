"""ember.masked.MaskedTensor against torch.masked's: autograd through MaskedTensors (the gradient of a
MaskedTensor is one, with PyTorch's mask and data), argmax/argmin/norm, and the ``torch.masked``
reductions and normalizations of a MaskedTensor."""

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

_DATA = [[1.0, -2.0, 3.5, 0.5], [4.0, 0.25, -6.0, 2.0], [0.75, 1.5, -1.0, 3.0]]
_MASK = [[True, False, True, True], [False, False, True, False], [True, True, False, True]]
_COND = [[True, True, False, False], [False, True, True, True], [True, False, True, False]]
_PROTOTYPE = "The PyTorch API of MaskedTensors is in prototype stage"

pytestmark = [
    pytest.mark.filterwarnings(f"ignore:{_PROTOTYPE}:UserWarning"),
    # as PyTorch's, a MaskedTensor made of a tensor that requires grad (as_masked_tensor's) warns
    pytest.mark.filterwarnings("ignore:It is not recommended to create a MaskedTensor:UserWarning"),
]


def _lib_device(lib, device):
    return {"device": device} if lib is ember else {}


def _mt(lib, device, dtype="float32", data=_DATA, mask=_MASK, requires_grad=False):
    place = _lib_device(lib, device)
    return lib.masked.masked_tensor(
        lib.tensor(data, dtype=getattr(lib, dtype), **place), lib.tensor(mask, **place), requires_grad=requires_grad
    )


def _values(t):
    return ember.tensor(t.tolist(), dtype=ember.float64) if isinstance(t, torch.Tensor) else t.cpu().double()


def _same_masked(ours, theirs, rtol=1e-5, atol=1e-6):
    """The same MaskedTensor: type, dtype, shape, mask and every element of the data (the unspecified too)."""
    assert ember.masked.is_masked_tensor(ours) and torch.masked.is_masked_tensor(theirs)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.get_mask().tolist() == theirs.get_mask().tolist()
    ember.testing.assert_close(
        _values(ours.get_data()), _values(theirs.get_data()), rtol=rtol, atol=atol, equal_nan=True
    )


def _same_plain(ours, theirs, rtol=1e-5, atol=1e-6):
    assert not ember.masked.is_masked_tensor(ours) and not torch.masked.is_masked_tensor(theirs)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    ember.testing.assert_close(_values(ours), _values(theirs), rtol=rtol, atol=atol, equal_nan=True)


def _backward(out):
    (out if out.dim() == 0 else out.sum()).backward()


# -- autograd through MaskedTensors -------------------------------------------------------------------------------

_DIFFERENTIABLE = {
    "exp": lambda lib, mt: mt.exp(),
    "sin_function": lambda lib, mt: lib.sin(mt),
    "neg": lambda lib, mt: -mt,
    "pow": lambda lib, mt: mt**2,
    "sqrt_abs": lambda lib, mt: mt.abs().sqrt(),
    "log": lambda lib, mt: lib.log(mt),
    "mul_self": lambda lib, mt: mt * mt,
    "div_self": lambda lib, mt: mt / (mt * mt + 1),
    "add_scalar": lambda lib, mt: mt + 2.5,
    "sub_scalar": lambda lib, mt: mt - 1.5,
    "mul_dense": lambda lib, mt: mt * lib.tensor(_COND, dtype=mt.dtype, **_lib_device(lib, mt.device.type)),
    "sub_dense": lambda lib, mt: mt - lib.full(mt.shape, 2.0, dtype=mt.dtype, device=mt.device) * mt.get_data(),
    "rtruediv": lambda lib, mt: 1 / (mt * mt + 1),
    "logaddexp_self": lambda lib, mt: lib.logaddexp(mt, mt * 2),
    "exp_in_place": lambda lib, mt: (mt * 0.5).exp_(),
    "mul_in_place": lambda lib, mt: (mt + 1).mul_(mt),
    "sum": lambda lib, mt: mt.sum(),
    "sum_dim": lambda lib, mt: mt.sum(1),
    "sum_dim_keepdim": lambda lib, mt: mt.exp().sum(0, keepdim=True),
    "sum_function": lambda lib, mt: lib.sum(mt * mt),
    "mean": lambda lib, mt: mt.mean(),
    "mean_dim": lambda lib, mt: (mt * mt).mean(1),
    "amax": lambda lib, mt: mt.amax(),
    "amax_dim": lambda lib, mt: mt.amax(1),
    "amin_dim_keepdim": lambda lib, mt: mt.amin(0, True),
    "prod": lambda lib, mt: mt.prod(),
    "prod_dim": lambda lib, mt: mt.prod(1),
    "var": lambda lib, mt: mt.var(),
    "var_dim": lambda lib, mt: mt.var(1),
    "std_dim": lambda lib, mt: mt.std(0),
    "softmax": lambda lib, mt: mt.softmax(1),
    "softmax_function": lambda lib, mt: lib.softmax(mt * 2, 0),
    "to_tensor": lambda lib, mt: mt.to_tensor(0.0) * 3,
    "get_data": lambda lib, mt: mt.get_data() * mt.get_data(),
    "transpose": lambda lib, mt: mt.transpose(0, 1).exp(),
    "getitem_row": lambda lib, mt: mt[1] * 2,
    "getitem_columns": lambda lib, mt: mt[:, 1:3].exp(),
    "getitem_then_sum": lambda lib, mt: mt[1:].sum(),
    "select": lambda lib, mt: mt.select(1, 0) * 2,
    "expand": lambda lib, mt: mt[:1].expand(3, 4) * 2,
    "stack": lambda lib, mt: lib.stack([mt, mt * 2]),
    "reshape": lambda lib, mt: mt.reshape(4, 3).amax(1),
    "clone": lambda lib, mt: mt.clone() * 2,
    "double": lambda lib, mt: mt.double().exp(),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(_DIFFERENTIABLE))
def test_gradient_of_a_masked_tensor_is_torchs(device, dtype, case):
    op = _DIFFERENTIABLE[case]
    ours_in, theirs_in = (_mt(lib, device, dtype, requires_grad=True) for lib in (ember, torch))
    ours, theirs = op(ember, ours_in), op(torch, theirs_in)
    assert ember.masked.is_masked_tensor(ours) == torch.masked.is_masked_tensor(theirs)
    assert ours.requires_grad and theirs.requires_grad and not ours.is_leaf and not theirs.is_leaf
    (_same_masked if torch.masked.is_masked_tensor(theirs) else _same_plain)(ours, theirs)
    _backward(ours)
    _backward(theirs)
    assert type(ours_in.grad) is ember.masked.MaskedTensor
    _same_masked(ours_in.grad, theirs_in.grad, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_where_of_masked_tensors_and_its_gradients_as_torch(device, dtype):
    results = []
    for lib in (ember, torch):
        a = _mt(lib, device, dtype, requires_grad=True)
        b = _mt(lib, device, dtype, data=[[10 * v for v in row] for row in _DATA], requires_grad=True)
        b = lib.masked.masked_tensor(b.get_data().detach(), ~a.get_mask(), requires_grad=True)
        c = _mt(lib, device, dtype, requires_grad=True)
        plain = lib.ones(3, 4, dtype=getattr(lib, dtype), requires_grad=True, **_lib_device(lib, device))
        cond = lib.tensor(_COND, **_lib_device(lib, device))
        out, mixed = lib.where(cond, a, b), lib.where(cond, plain, c)
        out.sum().backward()
        mixed.sum().backward()
        results.append((out, mixed, a.grad, b.grad, c.grad, plain.grad))
    for ours, theirs in zip(*results):
        _same_masked(ours, theirs)


def test_as_masked_tensor_and_get_data_are_differentiable_as_torch(device):
    results = []
    for lib in (ember, torch):
        place = _lib_device(lib, device)
        x = lib.tensor(_DATA, requires_grad=True, **place)
        mt = lib.masked.as_masked_tensor(x, lib.tensor(_MASK, **place))
        flags = (mt.requires_grad, mt.is_leaf, mt.grad_fn is not None)
        (mt.exp() * 2).sum().backward()
        leaf = _mt(lib, device, requires_grad=True)
        data = leaf.get_data()
        data_flags = (lib.masked.is_masked_tensor(data), data.requires_grad, data.is_leaf)
        (data * data).sum().backward()
        first = leaf.grad.get_data().tolist()
        (leaf * 3).sum().backward()  # accumulates into the MaskedTensor gradient
        detached = leaf.detach()
        results.append((flags, data_flags, x.grad, first, leaf.grad, (detached.requires_grad, detached.is_leaf)))
    ours, theirs = results
    assert ours[0] == theirs[0] and ours[1] == theirs[1] and ours[5] == theirs[5]
    _same_masked(ours[2], theirs[2])
    assert ours[3] == theirs[3]
    _same_masked(ours[4], theirs[4])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_of_a_slice_with_nothing_specified_as_torch(device, dtype):
    mask = [[True, False, True, True], [False, False, False, False], [True, True, False, True]]
    results = []
    for lib in (ember, torch):
        mt = _mt(lib, device, dtype, mask=mask, requires_grad=True)
        out = mt.softmax(1)
        (out * out).sum().backward()
        results.append((out, mt.grad))
    for ours, theirs in zip(*results):
        _same_masked(ours, theirs)


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's below
        return type(error), str(error).splitlines()[0].replace("ember.", "torch.")  # dtypes' names
    return None


_ERRORS = {
    "no_grad": lambda lib, d: _mt(lib, d).sum().backward(),
    "not_scalar": lambda lib, d: _mt(lib, d, requires_grad=True).exp().backward(),
    "argmax_backward": lambda lib, d: _mt(lib, d, requires_grad=True).argmax().backward(),
    "masks_differ": lambda lib, d: _mt(lib, d, requires_grad=True) + _mt(lib, d, mask=_COND),
    "in_place_on_leaf": lambda lib, d: _mt(lib, d, requires_grad=True).exp_(),
    "binary_in_place_on_leaf": lambda lib, d: _mt(lib, d, requires_grad=True).add_(1.0),
    "gradient_masks_differ": lambda lib, d: _cat_of_one_leaf(lib, d),
    "norm": lambda lib, d: _mt(lib, d).norm(),
    "norm_dim": lambda lib, d: _mt(lib, d).norm(dim=1),
    "norm_function": lambda lib, d: lib.norm(_mt(lib, d), 1),
    "where_same_leaf": lambda lib, d: _where_of_one_leaf(lib, d),
}


def _cat_of_one_leaf(lib, device):
    mt = _mt(lib, device, requires_grad=True)
    (lib.cat([mt, mt[:1]]) * 2).sum().backward()


def _where_of_one_leaf(lib, device):
    mt = _mt(lib, device, requires_grad=True)
    lib.where(lib.tensor(_COND, **_lib_device(lib, device)), mt, mt * 2).sum().backward()


@pytest.mark.parametrize("case", sorted(_ERRORS))
def test_errors_as_torch(device, case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _error(lambda: _ERRORS[case](ember, device)), _error(lambda: _ERRORS[case](torch, device))
    assert theirs is not None and ours == theirs


# -- argmax, argmin, norm ------------------------------------------------------------------------------------------

_INDEXING_REDUCTIONS = {
    "argmax": lambda lib, mt: mt.argmax(),
    "argmax_dim": lambda lib, mt: mt.argmax(1),
    "argmax_dim_keepdim": lambda lib, mt: mt.argmax(1, True),
    "argmin": lambda lib, mt: mt.argmin(),
    "argmin_dim_keepdim": lambda lib, mt: mt.argmin(dim=0, keepdim=True),
    "argmax_function": lambda lib, mt: lib.argmax(mt),
    "argmin_function_dim": lambda lib, mt: lib.argmin(mt, 1),
    "amax_dim_keepdim": lambda lib, mt: mt.amax(1, True),
    "all_dim": lambda lib, mt: (mt > 0).all(1),
    "all": lambda lib, mt: (mt > 0).all(),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("case", sorted(_INDEXING_REDUCTIONS))
def test_argmax_argmin_of_a_masked_tensor_as_torch(device, dtype, case):
    data = [[int(4 * v) for v in row] for row in _DATA] if dtype == "int64" else _DATA
    op = _INDEXING_REDUCTIONS[case]
    ours = op(ember, _mt(ember, device, dtype, data=data))
    theirs = op(torch, _mt(torch, device, dtype, data=data))
    _same_masked(ours, theirs)
    assert ours.requires_grad is theirs.requires_grad is False


# -- torch.masked's functions of a MaskedTensor --------------------------------------------------------------------

_FUNCTIONS = {
    "sum": lambda lib, mt: lib.masked.sum(mt),
    "sum_dim": lambda lib, mt: lib.masked.sum(mt, 1),
    "sum_dim_keepdim": lambda lib, mt: lib.masked.sum(mt, 0, keepdim=True),
    "prod": lambda lib, mt: lib.masked.prod(mt),
    "prod_dim": lambda lib, mt: lib.masked.prod(mt, 1),
    "amax": lambda lib, mt: lib.masked.amax(mt),
    "amin_dim": lambda lib, mt: lib.masked.amin(mt, 1),
    "argmax": lambda lib, mt: lib.masked.argmax(mt),
    "argmax_dim": lambda lib, mt: lib.masked.argmax(mt, 1),
    "argmin_dim_keepdim": lambda lib, mt: lib.masked.argmin(mt, 0, keepdim=True),
    "mean": lambda lib, mt: lib.masked.mean(mt),
    "mean_dim": lambda lib, mt: lib.masked.mean(mt, 1),
    "mean_mask": lambda lib, mt: lib.masked.mean(mt, 1, mask=mt.get_mask()),
    "median": lambda lib, mt: lib.masked.median(mt),
    "median_dim": lambda lib, mt: lib.masked.median(mt, 0),
    "norm": lambda lib, mt: lib.masked.norm(mt),
    "norm_ord_dim": lambda lib, mt: lib.masked.norm(mt, 1.0, 1),
    "norm_inf": lambda lib, mt: lib.masked.norm(mt, -float("inf"), 0),
    "var": lambda lib, mt: lib.masked.var(mt),
    "var_dim_mask": lambda lib, mt: lib.masked.var(mt, 1, mask=mt.get_mask()),
    "std_dim": lambda lib, mt: lib.masked.std(mt, 0),
    "logsumexp": lambda lib, mt: lib.masked.logsumexp(mt),
    "logsumexp_dim": lambda lib, mt: lib.masked.logsumexp(mt, 1),
    "softmax": lambda lib, mt: lib.masked.softmax(mt, 1),
    "log_softmax": lambda lib, mt: lib.masked.log_softmax(mt, 0),
    "softmin": lambda lib, mt: lib.masked.softmin(mt, 1),
    "normalize": lambda lib, mt: lib.masked.normalize(mt, 2.0, 1),
    "cumsum": lambda lib, mt: lib.masked.cumsum(mt, 1),
    "cumprod": lambda lib, mt: lib.masked.cumprod(mt, 0),
    "logaddexp": lambda lib, mt: lib.masked.logaddexp(mt, mt * 2),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(_FUNCTIONS))
def test_masked_functions_of_a_masked_tensor_as_torch(device, dtype, case):
    op = _FUNCTIONS[case]
    ours_in, theirs_in = (_mt(lib, device, dtype, requires_grad=True) for lib in (ember, torch))
    ours, theirs = op(ember, ours_in), op(torch, theirs_in)
    _same_plain(ours, theirs)
    if case.startswith(("argmax", "argmin")):
        assert not ours.requires_grad and not theirs.requires_grad
        return
    finite = lambda lib, t: lib.where(lib.isfinite(t), t, lib.zeros_like(t))  # noqa: E731
    finite(ember, ours).sum().backward()
    finite(torch, theirs).sum().backward()
    _same_masked(ours_in.grad, theirs_in.grad, atol=1e-5)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("case", ["sum", "sum_dim", "prod_dim", "amax", "amin_dim", "argmax_dim"])
def test_masked_functions_of_an_integer_masked_tensor_as_torch(device, dtype, case):
    data = [[int(4 * v) % 3 for v in row] for row in _DATA]
    ours = _error(lambda: _FUNCTIONS[case](ember, _mt(ember, device, dtype, data=data)))
    theirs = _error(lambda: _FUNCTIONS[case](torch, _mt(torch, device, dtype, data=data)))
    assert ours == theirs  # bool has no identity for amax, amin and argmax: the same NotImplementedError
    if theirs is None:
        _same_plain(
            _FUNCTIONS[case](ember, _mt(ember, device, dtype, data=data)),
            _FUNCTIONS[case](torch, _mt(torch, device, dtype, data=data)),
        )
