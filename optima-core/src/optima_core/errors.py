"""The one error type for conditions a user caused and can fix, at any time of a run.

Whatever the user can fix (the run-config, the command line, the input data, a plugin, a stage that has nothing to
select) is raised as :class:`OptimaUserError` or one of its subclasses (``ConfigError``, ``InputDataError``,
:class:`PluginError`, ``OptimizationFailedError``). The CLI prints its message as ``error: ...`` and exits with code
2, without a traceback, whether validation finds it before Ray starts or a stage finds it afterwards. Every other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class OptimaUserError(Exception):
    """A condition the user caused; the message names the thing, the value found and what was expected."""


class PluginError(OptimaUserError):
    """A plugin problem a user must fix: conflicting or unknown names, a hook a plugin does not implement."""


class UserCodeError(OptimaUserError):
    """An exception raised by the user's own code (a run-config hook): the message names the hook, the exception and
    the user's file:line. It is the user's to fix, so it is shown as one line (``-v`` also logs the traceback)."""


def find_user_error(error: BaseException) -> OptimaUserError | None:
    """The :class:`OptimaUserError` behind ``error``, or ``None`` when ``error`` is a bug.

    Looks at ``error`` itself, at the original exception Ray keeps in ``cause`` when it re-raises a failure of a
    task or an actor, and along explicit ``raise ... from`` chains. Implicit contexts are not followed: a bug raised
    while handling a user error stays a bug.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # Ray's RayTaskError is re-raised as a subclass of the original type whose text holds the remote traceback:
        # the original (in ``cause``) carries the plain message.
        cause = getattr(current, "cause", None)
        if isinstance(cause, OptimaUserError):
            return cause
        if isinstance(current, OptimaUserError):
            return current
        current = current.__cause__
    return None
