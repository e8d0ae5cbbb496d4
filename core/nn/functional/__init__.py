"""``ember.nn.functional``: the stateless forms of every layer and loss (``import ember.nn.functional as F``)."""

from ... import overrides as _overrides
from .. import grad  # PyTorch's F.grad is torch.nn.grad
from .activation import *
from .attention import *
from .attention import (  # PyTorch's private helpers, which programs that copy its layers call
    _canonical_mask,
    _in_projection,
    _in_projection_packed,
    _mha_shape_check,
    _none_or_dtype,
)
from .conv import *
from .ctc import *
from .distance import *
from .dropout import *
from .fold import *
from .grouped_mm import *
from .linear import *
from .linear_cross_entropy import *
from .loss import *
from .normalization import *
from .padding import *
from .pooling import *
from .sparse import *
from .vision import *

# PyTorch's __torch_function__ protocol: checking wrappers for tensor subclasses, if one was defined before
_overrides.wrap_module_functions(globals(), __name__)
