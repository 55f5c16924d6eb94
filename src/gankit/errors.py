"""The one exception type for user mistakes.

Anything the user can fix (a bad config key, a missing dataset, a corrupt image) raises
:class:`UserError`; the CLI prints its message on one line and exits with code 2. Every other
exception is a bug in gankit and keeps its traceback.
"""


class UserError(Exception):
    """A mistake in the user's input: printed as one line, exit code 2."""

    exit_code = 2


class TrainingDiverged(UserError):
    """A loss or a weight became NaN or infinite: one line naming the step and the last good checkpoint, exit 3
    (not 2: the config may be fine, the run was not)."""

    exit_code = 3
