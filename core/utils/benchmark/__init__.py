"""``ember.utils.benchmark``: timing statements as ``torch.utils.benchmark`` does --
:class:`Timer`, the :class:`Measurement` it returns, and :class:`Compare` for tables of them.

Example::

    >>> from ember.utils import benchmark
    >>> m = benchmark.Timer("x * 2", globals={"x": ember.ones(10)}).timeit(10)
    >>> m.stmt, m.number_per_run
    ('x * 2', 10)
"""

from .compare import Compare
from .measurement import Measurement, TaskSpec, select_unit, trim_sigfig
from .timing import Language, Timer, timer

__all__ = ["Compare", "Language", "Measurement", "TaskSpec", "Timer", "select_unit", "timer", "trim_sigfig"]
