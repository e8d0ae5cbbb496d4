"""``ember.nn.functional``: the stateless forms of every layer and loss (``import ember.nn.functional as F``)."""

from .activation import *
from .linear import *
from .dropout import *
from .sparse import *
from .distance import *
from .loss import *
from .conv import *
from .pooling import *
from .padding import *
from .normalization import *
from .vision import *
