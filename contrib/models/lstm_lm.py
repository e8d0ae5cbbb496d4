"""A word-level LSTM language model (Zaremba et al., 2014; PyTorch's word_language_model example)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ember import nn

if TYPE_CHECKING:
    from ember import Tensor
    from ember.types import Device

__all__ = ["LSTMLanguageModel"]


class LSTMLanguageModel(nn.Module):
    """Embedding -> dropout -> multi-layer LSTM -> dropout -> linear decoder over the vocabulary.

    Args:
        vocab_size: number of tokens.
        embedding_dim: size of the token embeddings. Default: ``200``.
        hidden_size: LSTM state size. Default: ``200``.
        num_layers: stacked LSTM layers. Default: ``2``.
        dropout: dropout on embeddings, between layers and before the decoder. Default: ``0.2``.
        tie_weights: share the embedding and decoder weights (needs
            ``embedding_dim == hidden_size``). Default: ``False``.

    Shape:
        - Input: :math:`(L, N)` token indices (sequence first, like ``nn.LSTM``).
        - Output: logits :math:`(L, N, \\text{vocab\\_size})` and the final ``(h, c)``, each
          :math:`(\\text{num\\_layers}, N, \\text{hidden\\_size})`.

    Example::

        >>> model = LSTMLanguageModel(100, 16, 32)
        >>> logits, (h, c) = model(ember.randint(0, 100, (7, 3)))
        >>> logits.shape
        ember.Size([7, 3, 100])
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 200,
        hidden_size: int = 200,
        num_layers: int = 2,
        dropout: float = 0.2,
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = nn.LSTM(embedding_dim, hidden_size, num_layers, dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            if embedding_dim != hidden_size:
                raise ValueError(
                    f"LSTMLanguageModel: tie_weights needs embedding_dim == hidden_size, got {embedding_dim} "
                    f"and {hidden_size}"
                )
            self.decoder.weight = self.encoder.weight
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def init_hidden(self, batch_size: int, device: Device = None) -> tuple[Tensor, Tensor]:
        """Zero ``(h, c)`` states for a batch."""
        import ember

        shape = (self.num_layers, batch_size, self.hidden_size)
        return ember.zeros(*shape, device=device), ember.zeros(*shape, device=device)

    def forward(
        self, input: Tensor, hidden: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        return self.decoder(self.drop(output)), hidden
