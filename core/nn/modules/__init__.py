"""The layers: every ``nn.Module`` subclass of the catalogue, one file per category."""

from .activation import *
from .adaptive import *
from .attention import *
from .batchnorm import *
from .container import *
from .conv import *
from .ctc import *
from .distance import *
from .dropout import *
from .fold import *
from .instancenorm import *
from .lazy import *
from .linear import *
from .linear_cross_entropy import *
from .loss import *
from .module import *
from .normalization import *
from .padding import *
from .pixelshuffle import *
from .pooling import *
from .rnn import *
from .sparse import *
from .syncbatchnorm import *
from .transformer import *
from .upsampling import *
