"""Padding off the main road, against PyTorch."""

import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "dtype, value", [("uint8", 300), ("uint8", -1), ("int8", 128), ("int8", -129), ("int16", 40000), ("float16", 1e6)]
)
def test_constant_pad_value_that_overflows_the_dtype(dtype, value):
    # NumPy's OverflowError came through for the integer types, and float16 took inf
    with pytest.raises(RuntimeError) as expected:
        torch.nn.functional.pad(torch.zeros(1, 2, dtype=getattr(torch, dtype)), (1, 1), value=value)
    with pytest.raises(RuntimeError) as got:
        ember.nn.functional.pad(ember.zeros(1, 2, dtype=getattr(ember, dtype)), (1, 1), value=value)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    "dtype, value", [("uint8", 255), ("int8", -128), ("int64", 2.7), ("bool", 2), ("float16", float("inf"))]
)
def test_constant_pad_value_that_fits(dtype, value):
    expected = torch.nn.functional.pad(torch.zeros(1, 2, dtype=getattr(torch, dtype)), (1, 1), value=value)
    got = ember.nn.functional.pad(ember.zeros(1, 2, dtype=getattr(ember, dtype)), (1, 1), value=value)
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize(
    "shape, pads",
    [((2, 0, 7, 6), (1, 2, 2, 1)), ((0, 7, 6), (1, 2, 2, 1)), ((2, 3, 0, 6), (1, 2, 0, 0)), ((2, 3, 4, 6), (0, 0, -2, -2)),
     ((2, 3, 4, 6), (0, 0, -3, -2)), ((2, 3, 0, 6), (1, 2, 0, 1))],
)  # fmt: skip
def test_circular_pad_of_empty_dimensions(shape, pads):
    # PyTorch's circular padding takes empty dimensions (and gives them) where its reflection and replication
    # padding refuse them; ember refused them for circular padding too
    results = []
    for T in (torch, ember):
        x = T.ones(shape, requires_grad=True)
        try:
            out = T.nn.functional.pad(x, pads, mode="circular")
        except RuntimeError as error:
            results.append(str(error))
            continue
        out.sum().backward()
        results.append((tuple(out.shape), tuple(x.grad.shape)))
    assert results[0] == results[1]
