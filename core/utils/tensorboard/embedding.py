"""The files of TensorBoard's projector (embedding) plugin: for each embedding, a folder
``<step, 5 digits>/<tag, escaped>`` in the log directory holding ``tensors.tsv`` (the points),
``metadata.tsv`` (their labels) and ``sprite.png`` (their thumbnails), and the run's
``projector_config.pbtxt`` naming them."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from tensorboard.compat import tf
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo

import ember

from ._convert import make_np
from ._layout import make_grid

__all__ = ["embedding_folder", "get_embedding_info", "make_mat", "make_sprite", "make_tsv", "write_pbtxt"]


def _write(path: str, contents: bytes) -> None:
    with tf.io.gfile.GFile(path, "wb") as file:
        file.write(contents)


def embedding_folder(tag: str, global_step: int) -> str:
    """The folder of an embedding, relative to the log directory: the step in 5 digits, then the
    tag with ``%``, ``/`` and ``\\`` escaped as ``%25``, ``%2f`` and ``%5c``.

    >>> embedding_folder("layer/1", 7)
    '00007/layer%2f1'
    """
    escaped = tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")
    return f"{str(global_step).zfill(5)}/{escaped}"


def make_tsv(metadata: Sequence[Any], save_path: str, metadata_header: Sequence[str] | None = None) -> None:
    """Writes ``metadata.tsv`` into ``save_path``: one label a line, or, with
    ``metadata_header``, the header then one tab-separated row of labels a line. A tensor of
    labels gives its numbers (PyTorch writes ``tensor(3)`` for each).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     make_tsv(["cat", "dog"], folder)
    ...     open(os.path.join(folder, "metadata.tsv")).read()
    'cat\\ndog\\n'
    """
    if isinstance(metadata, ember.Tensor):
        metadata = metadata.tolist()
    if metadata_header:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(entry) for entry in row) for row in [metadata_header, *metadata]]
    else:
        lines = [str(label) for label in metadata]
    _write(os.path.join(save_path, "metadata.tsv"), ("\n".join(lines) + "\n").encode())


def make_sprite(label_img: Any, save_path: str) -> None:
    """Writes ``sprite.png`` into ``save_path``: the images ``label_img`` ``(N, C, H, W)``
    (values in [0, 1]) on a square grid of ``ceil(sqrt(N))`` columns, as the projector expects.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     make_sprite(np.ones((3, 1, 2, 2)), folder)
    ...     open(os.path.join(folder, "sprite.png"), "rb").read()[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    columns = math.ceil(label_img.shape[0] ** 0.5)
    grid = make_grid(make_np(label_img), ncols=columns).transpose(1, 2, 0)
    side = grid.shape[1]
    square = np.zeros((side, side, 3))
    square[: grid.shape[0]] = grid
    with io.BytesIO() as output:
        Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(output, format="PNG")
        _write(os.path.join(save_path, "sprite.png"), output.getvalue())


def make_mat(matlist: np.ndarray, save_path: str) -> None:
    """Writes ``tensors.tsv`` into ``save_path``: one point (a row of ``matlist``) a line, its
    coordinates tab-separated.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     make_mat(np.array([[1.0, 2.5]]), folder)
    ...     open(os.path.join(folder, "tensors.tsv")).read()
    '1.0\\t2.5\\n'
    """
    lines = ["\t".join(str(x) for x in row) + "\n" for row in matlist.tolist()]
    _write(os.path.join(save_path, "tensors.tsv"), "".join(lines).encode())


def get_embedding_info(
    metadata: Sequence[Any] | None, label_img: Any, subdir: str, global_step: int, tag: str
) -> EmbeddingInfo:
    """The projector's ``EmbeddingInfo`` of the embedding in folder ``subdir``: its name
    ``tag:step`` and the paths of its files.

    >>> get_embedding_info(None, None, "00000/default", 0, "default").tensor_path
    '00000/default/tensors.tsv'
    """
    info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}", tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
    return info


def write_pbtxt(save_path: str, contents: str) -> None:
    """Writes the projector configuration ``contents`` (protobuf text) to
    ``projector_config.pbtxt`` in ``save_path``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_pbtxt(folder, 'embeddings { tensor_name: "default:00000" }')
    ...     os.listdir(folder)
    ['projector_config.pbtxt']
    """
    _write(os.path.join(save_path, "projector_config.pbtxt"), contents.encode())
