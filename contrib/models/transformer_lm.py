"""A Transformer language model (PyTorch's word_language_model ``TransformerModel``, pre-norm option)."""

from __future__ import annotations

import math

import ember
from ember import nn

__all__ = ["TransformerLanguageModel"]


class TransformerLanguageModel(nn.Module):
    r"""Embedding (scaled by :math:`\sqrt{d}`) + sinusoidal positions -> causal Transformer encoder
    -> linear decoder over the vocabulary.

    Args:
        vocab_size: number of tokens.
        d_model: width of the model. Default: ``128``.
        nhead: attention heads. Default: ``4``.
        num_layers: encoder layers. Default: ``2``.
        dim_feedforward: width of the feed-forward networks. Default: ``512``.
        dropout: dropout probability. Default: ``0.1``.
        max_len: longest sequence. Default: ``512``.
        norm_first: pre-norm layers. Default: ``False``.
        batch_first: inputs :math:`(N, L)` and outputs :math:`(N, L, \text{vocab\_size})`.
            Default: ``False``.

    Shape:
        - Input: :math:`(L, N)` token indices (sequence first; :math:`(N, L)` with ``batch_first``).
        - Output: logits :math:`(L, N, \text{vocab\_size})` (:math:`(N, L, \text{vocab\_size})`
          with ``batch_first``); position :math:`i` sees tokens :math:`\le i` only.

    Example::

        >>> model = TransformerLanguageModel(100, d_model=16, nhead=2, dim_feedforward=32)
        >>> model(ember.randint(0, 100, (7, 3))).shape
        ember.Size([7, 3, 100])
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 512,
        dropout: float = 0.1,
        max_len: int = 512,
        norm_first: bool = False,
        batch_first: bool = False,
    ) -> None:
        super().__init__()
        self.vocab_size, self.d_model, self.batch_first = vocab_size, d_model, batch_first
        self.encoder = nn.Embedding(vocab_size, d_model)
        position = ember.arange(max_len, dtype=ember.float32).unsqueeze(1)
        frequency = (ember.arange(0, d_model, 2, dtype=ember.float32) * (-math.log(10000.0) / d_model)).exp()
        pe = ember.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = (position * frequency).sin()
        pe[:, 0, 1::2] = (position * frequency).cos()
        self.register_buffer("pe", pe)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, norm_first=norm_first)
        self.transformer = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.decoder = nn.Linear(d_model, vocab_size)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, tokens: ember.Tensor) -> ember.Tensor:
        if self.batch_first:
            return self._sequence_first(tokens.t()).transpose(0, 1)
        return self._sequence_first(tokens)

    def _sequence_first(self, tokens: ember.Tensor) -> ember.Tensor:
        length = tokens.shape[0]
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=tokens.device)
        x = self.drop(self.encoder(tokens) * math.sqrt(self.d_model) + self.pe[:length])
        return self.decoder(self.transformer(x, mask=mask, is_causal=True))
