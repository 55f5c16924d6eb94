"""The one exception type for user mistakes.

Anything the user can fix (a bad config key, a missing dataset, a corrupt image) raises
:class:`UserError`; the CLI prints its message on one line and exits with code 2. Every other
exception is a bug in gankit and keeps its traceback.
"""


class UserError(Exception):
    """A mistake in the user's input: printed as one line, exit code 2."""

    exit_code = 2
