"""``ember.distributed.elastic``: the parts of PyTorch's ``torch.distributed.elastic`` that training
scripts import; ember's launcher is :mod:`ember.distributed.run`."""
