"""``ember.optim``: optimizers and learning-rate schedulers, with PyTorch's update rules."""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "SparseAdam",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adamax",
    "ASGD",
    "LBFGS",
    "lr_scheduler",
]
