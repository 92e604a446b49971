"""The base class of errors that a user fixes in the command line, the config or the data."""


class UserInputError(ValueError):
    """A command, config or data problem that the user can fix; the message says what, where and how.

    The tools print such an error as a short block instead of a traceback (:mod:`mmseg_kd.engine.tool_errors`), so
    its message must stand alone: the entry or file at fault, the problem, and the fix.
    """


class UserInputTypeError(UserInputError, TypeError):
    """A value of the wrong type in the command line or the config (e.g. the string ``'False'`` for a switch)."""


class UserFileError(UserInputError, RuntimeError):
    """A file the user named cannot be used as it is (unreadable, another model's, a wrong hash, not downloadable)."""
