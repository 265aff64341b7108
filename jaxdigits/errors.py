"""The errors a person can cause, as one family of exception types.

A wrong argument, a missing or damaged file, a used output folder: these are not bugs of
jaxdigits, and a script should report them as one line, not as a traceback. Every such
error raised by jaxdigits is an instance of ``UserInputError``, *and* of the built-in type
a caller would expect (``ValueError``, ``TypeError``, ``FileNotFoundError``, ...), so code
that catches ``ValueError`` keeps working. A bare ``ValueError`` — from a bug, or from deep
inside JAX or NumPy — is deliberately *not* a ``UserInputError``: scripts let it through
with its traceback, because it is a fault to find, not a setting to change.

One error is not a person's: ``TrainingDiverged``, a run whose cost became NaN or infinite.
It is a ``RuntimeError`` that carries the last good state, so a caller can save it or retry
with a smaller learning rate.

Messages speak of arguments and environment variables (``data_dir``, ``overwrite``,
``$JAXDIGITS_MNIST_DIR``), not of a script's flags; scripts translate where they differ.
"""

from __future__ import annotations

__all__ = [
    "CheckpointMismatch",
    "DamagedFile",
    "DataFileError",
    "DataUnavailableError",
    "InvalidArgument",
    "InvalidArgumentType",
    "MissingFile",
    "OutputExists",
    "TrainingDiverged",
    "UserInputError",
]


class UserInputError(Exception):
    """Base of every error caused by what a person passed in, and fixable by them."""


class InvalidArgument(UserInputError, ValueError):
    """An argument or setting has a value that cannot be used (a name, a size, a range)."""


class InvalidArgumentType(UserInputError, TypeError):
    """An argument has the wrong type or dtype."""


class MissingFile(UserInputError, FileNotFoundError):
    """A file or folder that was named does not exist."""


class OutputExists(UserInputError, FileExistsError):
    """The output folder already holds files and overwriting was not asked for."""


class DamagedFile(UserInputError, ValueError):
    """A file exists but cannot be read as what it should be (truncated, altered, foreign)."""


class CheckpointMismatch(UserInputError, ValueError):
    """A checkpoint belongs to another configuration than the one asked to resume."""


class DataFileError(UserInputError, ValueError):
    """A data file is missing, truncated, corrupt or not what was expected."""


class DataUnavailableError(UserInputError, RuntimeError):
    """The requested dataset is neither cached, nor downloadable, nor in the given folder."""


class TrainingDiverged(RuntimeError):
    """The cost became NaN or infinite; the learning rate is usually too large.

    ``args`` are ``(message, last_good_state)``: the state before the failed epoch.
    """

    @property
    def last_good_state(self):
        return self.args[1]
