"""The family of user errors: each is a UserInputError and the built-in type a caller catches."""

from jaxdigits import errors


def test_user_errors_are_also_the_builtin_types_callers_catch():
    assert issubclass(errors.InvalidArgument, ValueError) and issubclass(errors.InvalidArgumentType, TypeError)
    assert issubclass(errors.MissingFile, FileNotFoundError) and issubclass(errors.OutputExists, FileExistsError)
    from jaxdigits.errors import DataFileError, DataUnavailableError

    assert issubclass(DataFileError, errors.UserInputError) and issubclass(DataFileError, ValueError)
    assert issubclass(DataUnavailableError, errors.UserInputError) and issubclass(DataUnavailableError, RuntimeError)


def test_every_error_of_the_family_is_a_user_error_and_a_bug_is_not():
    builtin = {
        "InvalidArgument": ValueError,
        "InvalidArgumentType": TypeError,
        "MissingFile": FileNotFoundError,
        "OutputExists": FileExistsError,
        "DamagedFile": ValueError,
        "CheckpointMismatch": ValueError,
        "DataFileError": ValueError,
        "DataUnavailableError": RuntimeError,
    }
    assert set(errors.__all__) == {"UserInputError", "TrainingDiverged", *builtin}
    for name, base in builtin.items():
        error = getattr(errors, name)("a message")
        assert isinstance(error, errors.UserInputError) and isinstance(error, base), name
        assert str(error) == "a message"
    assert not isinstance(ValueError("a bug"), errors.UserInputError)
    diverged = errors.TrainingDiverged("cost is nan", "the last good state")  # not the user's doing: no error line
    assert not isinstance(diverged, errors.UserInputError) and diverged.last_good_state == "the last good state"
