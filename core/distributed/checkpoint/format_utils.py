"""Conversions between a checkpoint directory and a single ``torch.save`` file
(``torch.distributed.checkpoint.format_utils``), in one process."""

from __future__ import annotations

import os

import ember

from .filesystem import FileSystemReader, FileSystemWriter
from .planner import DefaultLoadPlanner, DefaultSavePlanner
from .state_dict_loader import _load_state_dict
from .state_dict_saver import _save_state_dict

__all__ = ["dcp_to_torch_save", "torch_save_to_dcp"]


def dcp_to_torch_save(dcp_checkpoint_dir: str | os.PathLike, torch_save_path: str | os.PathLike) -> None:
    """Write the whole checkpoint in ``dcp_checkpoint_dir`` (ember's or PyTorch's) to the single file
    ``torch_save_path`` in PyTorch's ``.pt`` format: the nested state_dict that was saved, every tensor
    whole and on the CPU. Run it on one rank (it holds the whole checkpoint in memory).

    Example::

        >>> import os, tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> from ember.distributed.checkpoint.format_utils import dcp_to_torch_save
        >>> path = tempfile.mkdtemp()
        >>> _ = dcp.save({"model": {"w": ember.ones(2)}, "step": 3}, checkpoint_id=path, no_dist=True)
        >>> dcp_to_torch_save(path, os.path.join(path, "whole.pt"))
        >>> ember.load(os.path.join(path, "whole.pt"))
        {'model': {'w': tensor([1., 1.])}, 'step': 3}
    """
    state: dict = {}
    _load_state_dict(state, FileSystemReader(dcp_checkpoint_dir), DefaultLoadPlanner(), no_dist=True, rebuild=True)
    ember.save(state, torch_save_path)


def torch_save_to_dcp(torch_save_path: str | os.PathLike, dcp_checkpoint_dir: str | os.PathLike) -> None:
    """Write the state_dict in the ``torch.save`` file ``torch_save_path`` as a checkpoint directory
    ``dcp_checkpoint_dir``. The file is read with ``weights_only=False``, as PyTorch's conversion
    does: convert only files you trust.

    Example::

        >>> import os, tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> from ember.distributed.checkpoint.format_utils import torch_save_to_dcp
        >>> path = tempfile.mkdtemp()
        >>> ember.save({"w": ember.arange(3.0)}, os.path.join(path, "model.pt"))
        >>> torch_save_to_dcp(os.path.join(path, "model.pt"), os.path.join(path, "dcp"))
        >>> state = {"w": ember.zeros(3)}
        >>> dcp.load(state, checkpoint_id=os.path.join(path, "dcp"), no_dist=True)
        >>> state["w"]
        tensor([0., 1., 2.])
    """
    state = ember.load(torch_save_path, weights_only=False)
    _save_state_dict(state, FileSystemWriter(dcp_checkpoint_dir), DefaultSavePlanner(), no_dist=True)
