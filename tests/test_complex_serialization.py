"""Complex tensors through ember.save/ember.load and PyTorch's files (ComplexFloatStorage,
ComplexDoubleStorage), both ways."""

from __future__ import annotations

import pytest
from complex_support import assert_same, torch

import ember


def _tensors(m):
    z = m.tensor([[1 + 2j, 3j], [-1.5 + 0j, 0.25 - 4j]])
    return {"z": z, "w": z.to(m.complex128), "t": z.t(), "row": z[1], "r": m.view_as_real(z.to(m.complex128))}


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_file_loads_in_ember(tmp_path, legacy):
    path = tmp_path / "t.pt"
    expected = _tensors(torch)
    torch.save(expected, path, _use_new_zipfile_serialization=not legacy)
    loaded = ember.load(path)
    for key, value in expected.items():
        assert_same(loaded[key], value)
        assert loaded[key].stride() == value.stride()


def test_ember_file_loads_in_torch_and_ember(tmp_path):
    path = tmp_path / "e.pt"
    saved = _tensors(ember)
    ember.save(saved, path)
    by_torch, by_ember = torch.load(path), ember.load(path)
    for key, value in saved.items():
        assert_same(value, by_torch[key])
        assert by_ember[key].dtype is value.dtype and by_ember[key].tolist() == value.tolist()


def test_state_dict_with_complex_parameter(tmp_path):
    path = tmp_path / "m.pt"
    weight = ember.nn.Parameter(ember.tensor([1 + 1j, 2 - 1j]))
    ember.save({"weight": weight}, path)
    assert torch.load(path)["weight"].dtype == torch.complex64
    assert ember.load(path)["weight"].dtype is ember.complex64
