"""Storage offsets and strides of empty views, against PyTorch.

PyTorch's views of a tensor keep the storage offset of their slice even where they hold no element
(``zeros(3)[3:].storage_offset() == 3``), which may lie past the end of the storage
(``zeros(3, 4)[3:, 2].storage_offset() == 14``, ``as_strided((0,), (1,), 10)``); NumPy's empty slices
stay where they were, and its constructor starts no array past its buffer's end. An expanded size-1
dimension steps 0 even where it grows to 0 (``zeros(1).expand(0).stride() == (0,)``), and in an expanded
tensor without elements a new leading dimension of size 1 steps over the dimension after it.
``data_ptr()`` of a tensor without elements is 0. Shapes, strides, offsets, contiguity and storage sizes
are compared, in float32 and float64."""

import io

import pytest
import torch

import ember


def _z(lib, kw, dtype, *shape):
    return lib.zeros(shape, dtype=getattr(lib, dtype), **kw)


#: name -> a function of (library, device keyword, dtype name) that makes a view (or a tuple of views)
_VIEWS = {
    "expand_1_to_0": lambda L, k, d: _z(L, k, d, 1).expand(0),
    "expand_1x1_to_0x0": lambda L, k, d: _z(L, k, d, 1, 1).expand(0, 0),
    "expand_2x1_to_2x0": lambda L, k, d: _z(L, k, d, 2, 1).expand(2, 0),
    "expand_1_to_0x1": lambda L, k, d: _z(L, k, d, 1).expand(0, 1),
    "expand_sliced_to_0": lambda L, k, d: _z(L, k, d, 3)[2:].expand(0),
    "expand_0_to_1x1x0": lambda L, k, d: _z(L, k, d, 0).expand(1, 1, 0),
    "expand_new_size_1_to_0": lambda L, k, d: _z(L, k, d, 2, 3)[:, :1].expand(1, 2, 0),
    "expand_empty_new_size_1": lambda L, k, d: _z(L, k, d, 0, 3)[:, :1].expand(1, 0, 1),
    "expand_0_then_unsqueeze": lambda L, k, d: _z(L, k, d, 1).expand(0)[None],
    "expand_0_then_t": lambda L, k, d: _z(L, k, d, 1, 1).expand(0, 0).t(),
    "slice_at_end": lambda L, k, d: _z(L, k, d, 3)[3:],
    "slice_past_end": lambda L, k, d: _z(L, k, d, 3)[5:],
    "slice_reversed": lambda L, k, d: _z(L, k, d, 3)[2:1],
    "slice_step": lambda L, k, d: _z(L, k, d, 3)[3::2],
    "slice_rows_at_end": lambda L, k, d: _z(L, k, d, 3, 4)[3:],
    "slice_columns_at_end": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:],
    "slice_past_storage": lambda L, k, d: _z(L, k, d, 3, 4)[5:, 1:],
    "slice_rows_and_columns": lambda L, k, d: _z(L, k, d, 3, 4)[1:, 9:],
    "slice_of_slice": lambda L, k, d: _z(L, k, d, 3)[1:][5:],
    "slice_negative": lambda L, k, d: _z(L, k, d, 3, 4)[:, -1:-2],
    "slice_then_select": lambda L, k, d: _z(L, k, d, 3, 4)[3:, 2],
    "select_then_slice": lambda L, k, d: _z(L, k, d, 3, 4)[2, 4:],
    "slice_new_axis": lambda L, k, d: _z(L, k, d, 3, 4)[None, 3:],
    "slice_ellipsis": lambda L, k, d: _z(L, k, d, 2, 3)[..., 3:],
    "slice_of_t": lambda L, k, d: _z(L, k, d, 3, 4).t()[:, 3:],
    "narrow_at_end": lambda L, k, d: _z(L, k, d, 3, 4).narrow(1, 4, 0),
    "narrow_rows": lambda L, k, d: _z(L, k, d, 3, 4).narrow(0, 3, 0),
    "select_of_empty": lambda L, k, d: _z(L, k, d, 2, 3, 0).select(1, 2),
    "split_sizes": lambda L, k, d: _z(L, k, d, 3, 4).split([4, 0], 1),
    "split_rows": lambda L, k, d: _z(L, k, d, 3, 4).split([3, 0]),
    "split_middle": lambda L, k, d: _z(L, k, d, 3, 4)[2:].split([0, 1, 0]),
    "chunk_of_empty_columns": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:].chunk(3, 1),
    "tensor_split": lambda L, k, d: _z(L, k, d, 3, 4).tensor_split([1, 4, 6], 1),
    "unbind": lambda L, k, d: _z(L, k, d, 2, 3, 0).unbind(1),
    "as_strided_past_end": lambda L, k, d: _z(L, k, d, 3).as_strided((0,), (1,), 10),
    "as_strided_2d": lambda L, k, d: _z(L, k, d, 3).as_strided((2, 0), (5, 7), 2),
    "as_strided_zero_strides": lambda L, k, d: _z(L, k, d, 3).as_strided((0, 2), (0, 0), 2),
    "as_strided_zero_strides_sliced": lambda L, k, d: _z(L, k, d, 3).as_strided((2, 0), (0, 0), 2)[1:],
    "as_strided_then_reshape": lambda L, k, d: _z(L, k, d, 3).as_strided((0, 2), (2, 1), 7).reshape(2, 0),
    "diagonal_of_empty_batch": lambda L, k, d: _z(L, k, d, 0, 3, 4).diagonal(1, 1, 2),
    "diagonal_below_of_empty_batch": lambda L, k, d: _z(L, k, d, 0, 3, 4).diagonal(-2, 1, 2),
    "diagonal_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[3:].diagonal(),
    "unfold_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:].unfold(0, 2, 1),
    "t_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:].t(),
    "permute_of_slice": lambda L, k, d: _z(L, k, d, 3, 4, 2)[:, 4:].permute(2, 0, 1),
    "movedim_of_select": lambda L, k, d: _z(L, k, d, 3, 4, 0)[2].movedim(0, 1),
    "view_of_slice": lambda L, k, d: _z(L, k, d, 3)[3:].view(0, 1),
    "unsqueeze_of_slice": lambda L, k, d: _z(L, k, d, 3)[3:].unsqueeze(0),
    "squeeze_of_slice": lambda L, k, d: _z(L, k, d, 3, 1, 4)[3:].squeeze(1),
    "reshape_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[3:].reshape(2, 0, 2),
    "flatten_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:].flatten(),
    "unflatten_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:].unflatten(0, (1, 3)),
    "expand_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[3:, 2:3].expand(0, 5),
    "detach_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[3:, 2].detach(),
    "contiguous_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[:, 4:].contiguous(),
    "view_dtype_of_slice": lambda L, k, d: _z(L, k, d, 3, 4)[3:, 2].view(L.int32 if d == "float32" else L.int64),
}


def _layouts(views, lib):
    views = views if isinstance(views, tuple) else (views,)
    return [
        (tuple(v.shape), v.stride(), v.storage_offset(), v.is_contiguous(), v.untyped_storage().nbytes()) for v in views
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(_VIEWS))
def test_empty_view_layout(device, case, dtype):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    t = _VIEWS[case](torch, {}, dtype)
    e = _VIEWS[case](ember, {"device": device}, dtype)
    assert _layouts(e, ember) == _layouts(t, torch)


def test_empty_view_shares_its_storage(device):
    x = ember.arange(12.0, device=device)
    view = x.view(3, 4)[5:, 1:].t()
    assert view._base is x
    assert view.storage_offset() == torch.zeros(3, 4)[5:, 1:].t().storage_offset() == 13
    assert view.untyped_storage() == x.untyped_storage()
    # a write through the empty view changes nothing, and a view of it steps on from its offset
    view.fill_(1.0)
    assert x.tolist() == torch.arange(12.0).tolist()
    assert view[2:].storage_offset() == torch.zeros(3, 4)[5:, 1:].t()[2:].storage_offset() == 15


def test_data_ptr_of_a_tensor_without_elements(device):
    x = ember.zeros(3, 4, device=device)
    t = torch.zeros(3, 4)
    assert x[3:].data_ptr() == t[3:].data_ptr() == 0
    assert x[3:, 2].data_ptr() == t[3:, 2].data_ptr() == 0
    assert ember.zeros(0, device=device).data_ptr() == torch.zeros(0).data_ptr() == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ops_on_views_past_the_end(device, dtype):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = lib.arange(12.0, dtype=getattr(lib, dtype), **kw).reshape(3, 4).requires_grad_()
        v = x[5:, 1:]
        out = [v + 1, v.t() * v.t(), v.sum(0), lib.cat([v, x[:1, 1:]]), v.clone(), lib.empty_like(v.t())]
        (lib.cat([v, x[:1, 1:]]).sum() + v.sum()).backward()
        results.append([(tuple(o.shape), o.stride(), o.tolist()) for o in out] + [(x.grad.stride(), x.grad.tolist())])
    assert results[1] == results[0]


def test_as_strided_past_the_end_refused_with_elements(device):
    # an empty view may start anywhere; one with elements must lie inside the storage, as in PyTorch
    x = ember.zeros(3, device=device)
    assert x.as_strided((0, 4), (1, 1), 100).storage_offset() == 100
    with pytest.raises(RuntimeError) as e:
        x.as_strided((1,), (1,), 3)
    with pytest.raises(RuntimeError) as t:
        torch.zeros(3).as_strided((1,), (1,), 3)
    assert str(e.value) == str(t.value)


def _views(lib, **kw):
    base = lib.zeros(3, 4, **kw)
    return {"at_end": base[3:], "past_end": base[3:, 2], "columns": base[:, 4:], "whole": base}


def _geometry(tensors):
    return {name: (t.stride(), t.storage_offset(), t.untyped_storage().nbytes()) for name, t in tensors.items()}


def test_save_keeps_the_offsets_of_empty_views(device):
    # as torch writes them: the whole storage, and the view's offset, which may lie past the storage's end
    buffer = io.BytesIO()
    ember.save(_views(ember, device=device), buffer)
    for lib in (torch, ember):
        buffer.seek(0)
        assert _geometry(lib.load(buffer, map_location="cpu")) == _geometry(_views(torch)), lib.__name__


def test_load_keeps_the_offsets_of_empty_views():
    buffer = io.BytesIO()
    torch.save(_views(torch), buffer)
    buffer.seek(0)
    assert _geometry(ember.load(buffer)) == _geometry(_views(torch))
