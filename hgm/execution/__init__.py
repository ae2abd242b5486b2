"""Where expansions and evaluations run: on the head's threads (`local`) or as tasks on a Ray cluster (`ray`)."""

from hgm.execution.base import Executor, make_executor

__all__ = ["Executor", "make_executor"]
