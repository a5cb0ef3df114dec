"""Errors ingest raises for people to read (messages in Chinese)."""


class IngestError(ValueError):
    """Something an operator or administrator must fix; the message says what, in Chinese."""
