"""Library errors. The CLI turns any ``RtOutcomesError`` into a message and a non-zero exit."""


class RtOutcomesError(Exception):
    """Base class of every error rtoutcomes reports to a user (bad input, bad study file...)."""

    exit_code: int = 1
