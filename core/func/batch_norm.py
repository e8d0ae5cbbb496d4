"""``ember.func.replace_all_batch_norm_modules_``: batch norms that keep no running statistics,
for ``vmap`` over models whose batch norms would otherwise update shared buffers."""

from __future__ import annotations

from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module

__all__ = ["replace_all_batch_norm_modules_"]


def replace_all_batch_norm_modules_(root: Module) -> Module:
    r"""Make every batch norm in ``root`` (``root`` included) stop tracking running statistics, in place.

    Their ``running_mean``, ``running_var`` and ``num_batches_tracked`` become ``None`` and
    ``track_running_stats`` ``False``, so they normalise with the statistics of each batch, in
    training and in eval mode alike.

    Args:
        root (nn.Module): the module to change.

    Returns:
        ``root``.

    Example::

        >>> from ember.func import replace_all_batch_norm_modules_
        >>> net = replace_all_batch_norm_modules_(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
        >>> net[1].running_mean is None, net[1].track_running_stats
        (True, False)
    """
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
