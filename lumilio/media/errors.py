"""The one error the media layer raises for a file it cannot read."""

from __future__ import annotations


class MediaError(Exception):
    """A file cannot be read; `str(error)` is a short reason a person understands."""
