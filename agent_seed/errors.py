"""Exceptions that steer the agent loop; each carries the message recorded in the trajectory."""


class AgentError(Exception):
    """Base of all loop-control exceptions."""


class NonTerminating(AgentError):
    """The model made a mistake it can fix: the message goes back to it and the run goes on."""


class FormatError(NonTerminating):
    """The model's reply had no usable tool call."""


class Terminating(AgentError):
    """The run ends; the message says why."""

    exit_code = 1


class Submitted(Terminating):
    """The model called submit."""

    exit_code = 0


class LimitsExceeded(Terminating):
    """The step or token limit was reached."""

    exit_code = 3


class ModelError(Terminating):
    """The gateway refused the request or kept failing."""

    exit_code = 1
