"""``ember.Size`` against ``torch.Size``: arithmetic keeps the type, as programs rely on
(``x.shape + (1,)`` then ``.numel()``), and a non-int element is PyTorch's TypeError."""

import pytest

import ember

torch = pytest.importorskip("torch")

RESULTS = [
    lambda S: S([2, 3]) + (1,),
    lambda S: (1,) + S([2, 3]),
    lambda S: S([2, 3]) + S([4]),
    lambda S: S([2, 3]) * 2,
    lambda S: 2 * S([2, 3]),
    lambda S: S([2, 3]) * 0,
    lambda S: S([2, 3])[::-1],
]


@pytest.mark.parametrize("make", RESULTS)
def test_arithmetic_gives_a_size(make):
    expected, got = make(torch.Size), make(ember.Size)
    assert type(got) is ember.Size and type(expected) is torch.Size
    assert tuple(got) == tuple(expected) and got.numel() == expected.numel()


@pytest.mark.parametrize(
    "bad, error",
    [
        (lambda S: S([2, 3]) + [1], TypeError),
        (lambda S: S([2, 3]) + ("a",), TypeError),
        (lambda S: (2.5,) + S([2, 3]), TypeError),
        (lambda S: S([2, 3]) * 1.5, TypeError),
    ],
)
def test_refused_as_torch_refuses(bad, error):
    for S in (torch.Size, ember.Size):
        with pytest.raises(error):
            bad(S)
