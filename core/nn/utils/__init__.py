"""``ember.nn.utils``: gradient clipping, weight normalisation, and ``utils.rnn`` for packed sequences."""

from . import rnn
from .clip_grad import *
from .weight_norm import *
