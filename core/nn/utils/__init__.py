"""``ember.nn.utils``: gradient clipping, weight normalisation, parameter vectors, fusion of
batch norms, ``skip_init``, ``parametrize``/``parametrizations``, ``prune``, ``utils.rnn`` for packed
sequences, ``stateless.functional_call``, and convolution weights in a memory format."""

from . import parametrizations, parametrize, prune, rnn, stateless
from .clip_grad import *
from .convert_parameters import *
from .fusion import *
from .init import *
from .memory_format import *
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import *
