"""``ember.utils.model_zoo``: PyTorch's former home of :func:`ember.hub.load_state_dict_from_url`,
kept under its old name ``load_url`` (``torch.utils.model_zoo.load_url``) for the programs that
still call it."""

from ..hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]
