"""``add_safe_globals`` and its list as PyTorch keeps it: a set of globals (an object added twice is listed
once), read when a ``weights_only`` load meets a global off the default list, its malformed entries raising
PyTorch's errors there (and never blamed on the file)."""

import collections
import io

import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _clean_lists():
    for lib in (torch, ember):
        lib.serialization.clear_safe_globals()
    yield
    for lib in (torch, ember):
        lib.serialization.clear_safe_globals()


def test_an_object_added_twice_is_listed_once():
    for lib in (torch, ember):
        lib.serialization.add_safe_globals([collections.Counter, collections.Counter])
        lib.serialization.add_safe_globals([collections.Counter, (collections.deque, "collections.deque")])
        listed = lib.serialization.get_safe_globals()
        assert len(listed) == 2 and set(listed) == {collections.Counter, (collections.deque, "collections.deque")}
        with lib.serialization.safe_globals([collections.OrderedDict]):
            assert len(lib.serialization.get_safe_globals()) == 3
        assert collections.OrderedDict not in lib.serialization.get_safe_globals()


@pytest.mark.parametrize(
    "entry, error, message",
    [
        ((collections.deque,), ValueError, "Expected tuple of length 2 \\(global, str of callable full path\\)"),
        ((collections.deque, 3), TypeError, "Expected second item in tuple to be str of callable full path"),
        (1, AttributeError, "'int' object has no attribute '__module__'"),
    ],
)
def test_malformed_entries_raise_pytorchs_errors_when_read(entry, error, message):
    for lib in (torch, ember):
        plain, needing = io.BytesIO(), io.BytesIO()
        lib.save({"w": lib.ones(1)}, plain)
        lib.save({"q": collections.deque([1])}, needing)
        lib.serialization.add_safe_globals([entry])
        plain.seek(0)
        assert lib.load(plain)["w"].tolist() == [1.0]  # the list is not read for a file that needs none of it
        needing.seek(0)
        with pytest.raises(error, match=message):
            lib.load(needing)
        needing.seek(0)
        if lib is ember:
            with pytest.raises(error, match=message):
                ember.serialization.get_unsafe_globals_in_checkpoint(needing)
