"""``ember._dynamo`` and ``ember._inductor.config``: the compiler entry points and settings PyTorch
programs touch around ``torch.compile``, accepted with PyTorch's defaults and arguments (ember runs
eagerly, so they change no result)."""

from __future__ import annotations

import pytest

import ember
import ember._dynamo
import ember._inductor.config

pytest.importorskip("torch")
import torch._dynamo  # noqa: E402
import torch._inductor.config  # noqa: E402

CONFIGS = [(torch._dynamo.config, ember._dynamo.config), (torch._inductor.config, ember._inductor.config)]


@pytest.mark.parametrize("reference, config", CONFIGS, ids=["dynamo", "inductor"])
def test_defaults_as_torch(reference, config):
    ours = config.get_config_copy()
    assert ours, config.__name__
    for name, value in ours.items():
        group, _, setting = name.rpartition(".")
        assert getattr(getattr(reference, group) if group else reference, setting) == value, name


@pytest.mark.parametrize("reference, config", CONFIGS, ids=["dynamo", "inductor"])
def test_patch_as_torch(reference, config):
    name = next(iter(config.get_config_copy()))
    for module in (reference, config):
        before = module.get_config_copy()[name]
        with module.patch(name, not before):
            assert module.get_config_copy()[name] is (not before)
        with module.patch({name: not before}):
            assert module.get_config_copy()[name] is (not before)

        @module.patch(**{name: not before})
        def read(module=module):
            return module.get_config_copy()[name]

        assert read() is (not before) and module.get_config_copy()[name] is before
        patch = module.patch(no_such_setting=1)
        with pytest.raises(AttributeError, match="no_such_setting does not exist"), patch:
            pass


def test_grouped_setting_patched_by_dotted_name():
    for module in (torch._inductor.config, ember._inductor.config):
        with module.patch({"triton.cudagraphs": True}):
            assert module.triton.cudagraphs is True
        assert module.triton.cudagraphs is False


def test_program_around_compile_runs_eagerly():
    ember._dynamo.config.cache_size_limit = 64  # as programs do before compiling
    try:
        ember._dynamo.reset()
        model = ember.nn.Linear(3, 2)
        x = ember.ones(4, 3)
        ember._dynamo.mark_dynamic(x, 0)
        ember._dynamo.mark_static(x, 1)
        ember._dynamo.maybe_mark_dynamic(x, 0)
        compiled = ember.compile(model)
        if isinstance(compiled, ember._dynamo.eval_frame.OptimizedModule):  # the usual unwrapping test
            compiled = compiled._orig_mod
        assert compiled is model
        assert ember._dynamo.optimize("inductor")(model) is model
        assert ember._dynamo.allow_in_graph(len) is len and ember._dynamo.disallow_in_graph(len) is len
        assert not ember._dynamo.is_compiling()
        assert ember._dynamo.OptimizedModule is ember._dynamo.eval_frame.OptimizedModule
        assert ember._dynamo.disable(model) is model
    finally:
        ember._dynamo.config.cache_size_limit = 8
