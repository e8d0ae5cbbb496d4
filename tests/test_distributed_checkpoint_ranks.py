"""ember.distributed.checkpoint on several ranks against torch.distributed.checkpoint (gloo, CPU), and
all_gather_coalesced and split_group.

``tests/distributed/checkpoint_against_torch.py`` runs under ``mpiexec -n 2`` and ``-n 3``: every rank
joins an ember ``mpi`` group and a torch ``gloo`` group; ember's checkpoints are read by torch and
torch's by ember on every rank, the files each rank writes and the rank that writes each replicated
item are compared with torch's, a DDP model and its optimizer go through the state_dict helpers and
both libraries' save and load, and an error on one rank raises on all of them. Every check it prints
is one test here.
"""

from __future__ import annotations

import pytest
from test_distributed_collectives2 import rank_tests

pytest.importorskip("torch")

globals().update(rank_tests("checkpoint_against_torch.py"))
