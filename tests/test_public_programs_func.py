"""The ``torch.func`` tutorials (per-sample gradients, Jacobians/Hessians/hvp, model ensembling),
run on ember and on torch from the same weights.

``functional_call(model, (params, buffers), (batch,))`` inside ``vmap(grad(loss), in_dims=(None,
None, 0, 0))`` against a loop of per-sample ``backward``; DP-SGD's per-sample clipping from those
gradients; ``jacrev``/``jacfwd`` with ``argnums`` (one and a tuple), under ``vmap``; ``hessian``,
``jacfwd(jacrev(f))``; Hessian-vector products through ``jvp(grad(f), ...)`` and ``vjp``;
``stack_module_state`` with a base copy moved to the ``meta`` device, vmapped over the models; and
Opacus's per-sample gradients from forward and full backward hooks (``einsum`` with ellipses,
``unfold`` for the convolutions).
"""

from __future__ import annotations

import copy

import numpy as np
from public_programs import assert_same_run, copy_weights, torch

import ember

RNG = np.random.default_rng(0)
DATA = RNG.standard_normal((5, 1, 8, 8)).astype(np.float32)
TARGETS = RNG.integers(0, 4, 5)


def build(lib):
    nn, F = lib.nn, lib.nn.functional

    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 6, 3, 1)
            self.norm = nn.BatchNorm2d(6)
            self.fc1 = nn.Linear(6 * 2 * 2, 16)
            self.fc2 = nn.Linear(16, 4)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.norm(self.conv2(x)))
            x = F.max_pool2d(x, 2)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    return SimpleCNN


def per_sample_gradients(lib, reference):
    from_func = lib.func
    model = build(lib)()
    copy_weights(reference, model)
    model.eval()
    data, targets = lib.tensor(DATA), lib.tensor(TARGETS)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        predictions = from_func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return lib.nn.functional.nll_loss(predictions, target.unsqueeze(0))

    vmapped = from_func.vmap(from_func.grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, data, targets)
    looped = []
    for i in range(data.shape[0]):
        model.zero_grad()
        lib.nn.functional.nll_loss(model(data[i : i + 1]), targets[i : i + 1]).backward()
        looped.append([p.grad.clone() for p in model.parameters()])
    # DP-SGD: clip each sample's gradient to norm 1, then average
    norms = lib.stack([g.reshape(g.shape[0], -1).norm(2, dim=1) for g in vmapped.values()], dim=1).norm(2, dim=1)
    factors = (1.0 / (norms + 1e-6)).clamp(max=1.0)
    clipped = [lib.einsum("i,i...->...", factors, g) / data.shape[0] for g in vmapped.values()]
    return list(vmapped.values()), looped, [norms, *clipped]


def test_per_sample_gradients_match_torch_and_the_loop():
    torch.manual_seed(0)
    reference = build(torch)()
    ours, our_loop, our_clipped = per_sample_gradients(ember, reference)
    theirs, _, their_clipped = per_sample_gradients(torch, reference)
    assert_same_run(ours + our_clipped, theirs + their_clipped)
    for i, grads in enumerate(our_loop):
        for g, per_sample in zip(grads, ours):
            np.testing.assert_allclose(g.numpy(), per_sample[i].numpy(), rtol=1e-4, atol=1e-6)


W = RNG.standard_normal((3, 4)).astype(np.float64)
B = RNG.standard_normal(3).astype(np.float64)
X = RNG.standard_normal((5, 4)).astype(np.float64)


def derivatives(lib):
    fn = lib.func
    F = lib.nn.functional
    weight, bias, x = lib.tensor(W), lib.tensor(B), lib.tensor(X)

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()

    def energy(x):
        return (x.sin() * x.roll(1, 0)).sum() + (x**3).sum() / 3

    v = lib.ones_like(x[0])
    record = [
        fn.jacrev(predict, argnums=2)(weight, bias, x[0]),
        fn.jacfwd(predict, argnums=2)(weight, bias, x[0]),
        *fn.jacrev(predict, argnums=(0, 1))(weight, bias, x[0]),
        fn.vmap(fn.jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x),
        fn.vmap(fn.jacfwd(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x),
        fn.hessian(energy)(x[0]),
        fn.jacfwd(fn.jacrev(energy))(x[0]),
        fn.jacrev(fn.jacrev(energy))(x[0]),
        fn.jvp(fn.grad(energy), (x[0],), (v,))[1],
        fn.vjp(fn.grad(energy), x[0])[1](v)[0],
    ]
    return record


def test_jacobians_and_hessians_match_torch():
    assert_same_run(derivatives(ember), derivatives(torch), rtol=1e-10, atol=1e-12)


def ensemble(lib, references):
    fn = lib.func
    models, SimpleCNN = [], build(lib)
    for reference in references:
        model = SimpleCNN()
        copy_weights(reference, model)
        models.append(model)
    params, buffers = fn.stack_module_state(models)
    base_model = copy.deepcopy(models[0]).to("meta")

    def fmodel(params, buffers, x):
        return fn.functional_call(base_model, (params, buffers), (x,))

    minibatch = lib.tensor(DATA)
    predictions = fn.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
    return [predictions, *params.values(), params["fc1.weight"].requires_grad]


def test_model_ensembling_matches_torch():
    torch.manual_seed(0)
    references = [build(torch)() for _ in range(3)]
    assert_same_run(ensemble(ember, references), ensemble(torch, references))


def hook_per_sample_gradients(lib, reference):
    """Opacus's ``GradSampleModule`` way: forward hooks keep each layer's input, full backward hooks
    its output gradient, and ``einsum`` (``unfold`` for convolutions) makes the per-sample gradients."""
    F = lib.nn.functional
    model = build(lib)()
    copy_weights(reference, model)
    model.eval()
    activations, grad_samples = {}, {}

    def capture_activations(module, inputs, output):
        activations[module] = inputs[0].detach()

    def compute_grad_sample(module, grad_input, grad_output):
        A, B = activations[module], grad_output[0].detach()
        n = A.shape[0]
        if isinstance(module, lib.nn.Linear):
            grad_samples[module.weight] = lib.einsum("n...i,n...j->nij", B, A)
            grad_samples[module.bias] = lib.einsum("n...k->nk", B)
        else:
            unfolded = F.unfold(A, module.kernel_size, padding=module.padding, stride=module.stride)
            B = B.reshape(n, -1, unfolded.shape[-1])
            grad_samples[module.weight] = lib.einsum("noq,npq->nop", B, unfolded).view(n, *module.weight.shape)
            grad_samples[module.bias] = B.sum(dim=2)

    handles = []
    for module in model.modules():
        if isinstance(module, (lib.nn.Linear, lib.nn.Conv2d)):
            handles.append(module.register_forward_hook(capture_activations))
            handles.append(module.register_full_backward_hook(compute_grad_sample))
    data, targets = lib.tensor(DATA), lib.tensor(TARGETS)
    loss = lib.nn.functional.nll_loss(model(data), targets, reduction="sum")
    loss.backward()
    for handle in handles:
        handle.remove()
    return [grad_samples[p] if p in grad_samples else None for p in model.parameters()], model


def test_per_sample_gradients_from_hooks_match_torch_and_vmap():
    torch.manual_seed(0)
    reference = build(torch)()
    ours, model = hook_per_sample_gradients(ember, reference)
    theirs, _ = hook_per_sample_gradients(torch, reference)
    assert_same_run(ours, theirs)
    vmapped, _, _ = per_sample_gradients(ember, reference)
    for name, hooked, g in zip([n for n, _ in model.named_parameters()], ours, vmapped):
        if hooked is not None:
            np.testing.assert_allclose(hooked.numpy(), g.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
