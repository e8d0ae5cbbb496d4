"""``ember.hub`` against ``torch.hub`` on the same files: checkpoints fetched from ``file://`` URLs
into a local cache (PyTorch's zip format, its legacy pickle format, the legacy one-file zip archive),
hash checks, and entrypoints of a ``hubconf.py`` in a local directory."""

import contextlib
import hashlib
import os
import shutil
import zipfile

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_HUBCONF = '''
"""A hub repository that either framework can load."""
dependencies = []

from helper import offset


def add(a, b=1):
    """Adds b and an offset to a."""
    return a + b + offset


def _private():
    pass


not_callable = 3
'''


@pytest.fixture
def repo(tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "hubconf.py").write_text(_HUBCONF)
    (folder / "helper.py").write_text("offset = 10\n")
    return str(folder)


def _state(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {"weight": torch.randn(3, 2, generator=generator), "steps": torch.arange(4)}


def _assert_same_state(ours, theirs):
    assert list(ours) == list(theirs)
    for key in theirs:
        assert str(ours[key].dtype).split(".")[1] == str(theirs[key].dtype).split(".")[1]
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())


def _load_both(tmp_path, url, **kwargs):
    theirs = torch.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "torch"), progress=False, **kwargs)
    ours = ember.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "ember"), progress=False, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("layout", ["zip", "legacy", "legacy_zip"])
def test_load_state_dict_from_url_reads_what_torch_reads(tmp_path, layout, weights_only):
    path = tmp_path / "weights.pth"
    torch.save(_state(), path, _use_new_zipfile_serialization=layout == "zip")
    if layout == "legacy_zip":
        with zipfile.ZipFile(tmp_path / "archive.zip", "w") as archive:
            archive.write(path, "weights.pth")
        path = tmp_path / "archive.zip"
    with pytest.warns(FutureWarning, match="old format") if layout == "legacy_zip" else contextlib.nullcontext():
        ours, theirs = _load_both(tmp_path, path.as_uri(), weights_only=weights_only, map_location="cpu")
    _assert_same_state(ours, theirs)
    assert sorted(os.listdir(tmp_path / "ember")) == sorted(os.listdir(tmp_path / "torch"))


def test_the_cached_file_is_loaded_without_a_download(tmp_path):
    path = tmp_path / "source.pt"
    torch.save(_state(), path)
    ember.hub.load_state_dict_from_url(path.as_uri(), model_dir=str(tmp_path / "cache"), progress=False)
    torch.save(_state(seed=1), path)  # changed at the URL: the cached copy still wins
    again = ember.hub.load_state_dict_from_url(path.as_uri(), model_dir=str(tmp_path / "cache"), progress=False)
    _assert_same_state(again, _state())


def test_file_name_and_check_hash(tmp_path):
    path = tmp_path / "source.pt"
    torch.save(_state(), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ours, theirs = _load_both(tmp_path, path.as_uri(), check_hash=True, file_name=f"net-{digest[:8]}.pt")
    _assert_same_state(ours, theirs)
    assert os.listdir(tmp_path / "ember") == [f"net-{digest[:8]}.pt"]
    with pytest.raises(RuntimeError) as torch_error:
        torch.hub.load_state_dict_from_url(path.as_uri(), str(tmp_path / "t"), check_hash=True, file_name="net-0bad.pt")
    with pytest.raises(RuntimeError) as ember_error:
        ember.hub.load_state_dict_from_url(path.as_uri(), str(tmp_path / "e"), check_hash=True, file_name="net-0bad.pt")
    assert str(ember_error.value) == str(torch_error.value)
    assert os.listdir(tmp_path / "e") == os.listdir(tmp_path / "t") == []  # no partial download left


def test_weights_only_refuses_other_objects_as_torch_does(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"net": torch.nn.Identity()}, path)
    with pytest.raises(Exception) as torch_error:
        torch.hub.load_state_dict_from_url(path.as_uri(), str(tmp_path / "t"), progress=False, weights_only=True)
    with pytest.raises(Exception) as ember_error:
        ember.hub.load_state_dict_from_url(path.as_uri(), str(tmp_path / "e"), progress=False, weights_only=True)
    assert type(ember_error.value) is type(torch_error.value)


def test_download_url_to_file(tmp_path):
    source = tmp_path / "blob.bin"
    source.write_bytes(bytes(range(256)) * 1000)
    ember.hub.download_url_to_file(source.as_uri(), str(tmp_path / "copy.bin"), hash_prefix="", progress=False)
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


def test_get_dir_and_set_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(ember.hub, "_hub_dir", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("EMBER_HOME", raising=False)
    assert ember.hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    assert ember.hub.get_dir() == str(tmp_path / "home" / "hub")
    ember.hub.set_dir(tmp_path / "chosen")
    assert ember.hub.get_dir() == str(tmp_path / "chosen")
    torch.save(_state(), tmp_path / "source.pt")
    ember.hub.load_state_dict_from_url((tmp_path / "source.pt").as_uri(), progress=False)
    assert os.listdir(tmp_path / "chosen" / "checkpoints") == ["source.pt"]


def test_load_calls_the_local_entrypoint_as_torch_does(repo):
    assert ember.hub.load(repo, "add", 5, source="local", b=2) == torch.hub.load(repo, "add", 5, source="local", b=2)
    assert ember.hub.list(repo, source="local") == ["add"]
    assert ember.hub.help(repo, "add", source="local") == "Adds b and an offset to a."


@pytest.mark.parametrize(
    "model, source, error",
    [
        ("missing", "local", RuntimeError),
        ("not_callable", "local", RuntimeError),
        (3, "local", ValueError),
        ("add", "hf", ValueError),
    ],
)
def test_load_errors_match_torch(repo, model, source, error):
    with pytest.raises(error) as torch_error:
        torch.hub.load(repo, model, source=source)
    with pytest.raises(error) as ember_error:
        ember.hub.load(repo, model, source=source)
    assert str(ember_error.value) == str(torch_error.value)


def test_missing_dependencies_match_torch(repo):
    hubconf = os.path.join(repo, "hubconf.py")
    with open(hubconf, "a") as f:
        f.write("dependencies = ['no_such_package_x', 'os']\n")
    with pytest.raises(RuntimeError) as torch_error:
        torch.hub.load(repo, "add", 1, source="local")
    with pytest.raises(RuntimeError) as ember_error:
        ember.hub.load(repo, "add", 1, source="local")
    assert str(ember_error.value) == str(torch_error.value) == "Missing dependencies: no_such_package_x"


def test_a_github_repository_in_the_cache_is_used_offline(tmp_path, monkeypatch):
    hub_dir = tmp_path / "hub"
    repo = hub_dir / "someone_models_main"
    repo.mkdir(parents=True)
    (repo / "hubconf.py").write_text(_HUBCONF)
    (repo / "helper.py").write_text("offset = 10\n")
    monkeypatch.setattr(ember.hub, "_hub_dir", str(hub_dir))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(hub_dir))
    for module in (ember, torch):
        assert module.hub.load("someone/models:main", "add", 5, b=2) == 17
        assert module.hub.list("someone/models:main") == ["add"]
        assert module.hub.help("someone/models:main", "add") == "Adds b and an offset to a."
    assert (hub_dir / "trusted_list").read_text() == ""  # a cached repository counts as trusted


def test_an_archive_entry_outside_the_hub_directory_is_refused(tmp_path):
    from ember.hub_github import _extract_safely

    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("repo/../../escaped.py", "x = 1")
    with zipfile.ZipFile(tmp_path / "evil.zip") as archive, pytest.raises(ValueError, match="traversal"):
        _extract_safely(archive, str(tmp_path / "hub"))
    assert not (tmp_path / "escaped.py").exists()


def test_model_zoo_load_url_is_load_state_dict_from_url(tmp_path):
    from torch.utils import model_zoo as torch_zoo

    from ember.utils import model_zoo

    path = tmp_path / "weights.pt"
    torch.save(_state(), path)
    ours = model_zoo.load_url(path.as_uri(), model_dir=str(tmp_path / "ember"), progress=False)
    theirs = torch_zoo.load_url(path.as_uri(), model_dir=str(tmp_path / "torch"), progress=False)
    _assert_same_state(ours, theirs)


def test_a_github_repository_is_downloaded_once_into_the_cache(tmp_path, monkeypatch):
    archive = tmp_path / "main.zip"
    with zipfile.ZipFile(archive, "w") as zipped:  # GitHub's zipball: one top folder named after the commit
        zipped.writestr("someone-models-0abc123/", "")
        zipped.writestr("someone-models-0abc123/hubconf.py", _HUBCONF)
        zipped.writestr("someone-models-0abc123/helper.py", "offset = 10\n")
    downloads = []

    def download(url, dst, hash_prefix=None, progress=True):
        downloads.append(url)
        shutil.copy(archive, dst)

    monkeypatch.setattr(ember.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.setattr(ember.hub, "download_url_to_file", download)
    for _ in range(2):
        assert ember.hub.load("someone/models:main", "add", 1, trust_repo=True, skip_validation=True) == 12
    assert downloads == ["https://github.com/someone/models/zipball/main"]
    assert sorted(os.listdir(tmp_path / "hub")) == ["someone_models_main", "trusted_list"]
    assert (tmp_path / "hub" / "trusted_list").read_text() == "someone_models\n"
