"""Library errors. The CLI turns any ``RtOutcomesError`` into one line and exit status 2."""


class RtOutcomesError(Exception):
    """Base class of every error rtoutcomes reports to a user (bad input, bad study file...)."""

    exit_code: int = 2
