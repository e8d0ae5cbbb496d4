"""``torch._dynamo.eval_frame``: where PyTorch programs find :class:`OptimizedModule`."""

from __future__ import annotations

from ..nn.modules.module import Module


class OptimizedModule(Module):
    """The type of what PyTorch's ``torch.compile`` returns for a module, which programs test for to
    reach the original module (``model._orig_mod``). :func:`ember.compile` returns the module itself,
    so no ember module is one of these and such a test passes the module through.

    Example::

        >>> model = ember.compile(nn.Linear(2, 2))
        >>> isinstance(model, ember._dynamo.eval_frame.OptimizedModule)
        False
    """
