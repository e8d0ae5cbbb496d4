"""Reference models built from the ``ember.nn`` catalogue: MLP, LeNet-5, CIFAR ResNets, an LSTM and a Transformer language model.

Each is a plain :class:`ember.nn.Module`; ``MODELS`` maps the command line's names to
constructors that take ``in_channels``, ``num_classes`` (and ``in_features`` for the MLP).
"""

from .lenet import LeNet5
from .lstm_lm import LSTMLanguageModel
from .mlp import MLP
from .resnet import BasicBlock, ResNet, resnet18, resnet20
from .transformer_lm import TransformerLanguageModel

__all__ = [
    "MLP",
    "LeNet5",
    "ResNet",
    "BasicBlock",
    "resnet18",
    "resnet20",
    "LSTMLanguageModel",
    "TransformerLanguageModel",
]
