"""The negative twin of ``user_program.py``: each line marked ``# E: <code>`` passes a wrong type to
the public API, and tests/test_typing.py checks that mypy reports exactly these lines with these
error codes (and nothing else here). Never run, and not in the lint suite's mypy targets.
"""

from __future__ import annotations

import ember
import ember.nn.functional as F
from ember import nn, optim
from ember.optim.lr_scheduler import StepLR
from ember.utils.data import DataLoader, TensorDataset

x = ember.randn(4, 3)
target = ember.tensor([0, 1, 2, 0])
model = nn.Linear(3, 3)
optimizer = optim.SGD(model.parameters(), lr=0.1)

ember.zeros("3")  # E: arg-type
ember.tensor([1.0], device=3.5)  # E: arg-type
ember.randint(10)  # E: call-overload
ember.manual_seed("0")  # E: arg-type
F.relu("x")  # E: arg-type
F.cross_entropy(model(x), "labels")  # E: arg-type
F.dropout(x, p=0.5, training="yes")  # E: arg-type
F.conv2d(ember.randn(1, 1, 4, 4), ember.randn(1, 1, 3, 3), stride="2")  # E: arg-type
nn.Linear("3", 4)  # E: arg-type
nn.init.normal_(model.weight, std="1")  # E: arg-type
nn.utils.clip_grad_norm_(model.parameters(), max_norm="1")  # E: arg-type
optim.SGD(model.parameters(), lr="0.1")  # E: arg-type
StepLR(optimizer, step_size=1).step("3")  # E: arg-type
DataLoader(TensorDataset(x, target), batch_size="8")  # E: arg-type
ember.autograd.grad(model(x).sum(), "weight")  # E: arg-type
ember.save(model.state_dict(), 3)  # E: arg-type
x.sum(dim="0")  # E: arg-type
x.view("3", 4)  # E: arg-type
x.masked_fill(x > 0, "zero")  # E: arg-type
x.add_("1")  # E: arg-type
x.clamp_(min="0")  # E: arg-type
x.new_zeros("3")  # E: arg-type
x.new_full((2,), 1.0, dtype="float32")  # E: arg-type
ember.backends.get_backend("cpu").device_name("0")  # E: arg-type
ember.cuda.Stream(priority="high")  # E: arg-type
ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], size="2")  # E: arg-type
