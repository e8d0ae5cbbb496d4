"""The layers: every ``nn.Module`` subclass of the catalogue, one file per category."""

from .module import *
from .container import *
from .activation import *
from .linear import *
from .dropout import *
from .sparse import *
from .distance import *
from .loss import *
from .conv import *
from .pooling import *
from .padding import *
from .batchnorm import *
from .instancenorm import *
from .normalization import *
from .pixelshuffle import *
from .upsampling import *
from .rnn import *
