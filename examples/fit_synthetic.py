"""Fit a two-layer network to synthetic data with plain tensors and autograd; prints the falling loss."""

import ember

ember.manual_seed(0)
x = ember.randn(256, 8)
true_w = ember.randn(8, 1)
y = (x @ true_w).tanh() + 0.05 * ember.randn(256, 1)

w1 = (ember.randn(8, 32) * 0.3).requires_grad_()
b1 = ember.zeros(32, requires_grad=True)
w2 = (ember.randn(32, 1) * 0.3).requires_grad_()
b2 = ember.zeros(1, requires_grad=True)
params = [w1, b1, w2, b2]

for step in range(201):
    prediction = (x @ w1 + b1).tanh() @ w2 + b2
    loss = ((prediction - y) ** 2).mean()
    for p in params:
        p.grad = None
    loss.backward()
    with ember.no_grad():
        for p in params:
            p.sub_(0.1 * p.grad)
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")
