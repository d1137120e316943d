"""The error raised for a problem with a user's data files (CSV tables, lists, folders)."""

from __future__ import annotations


class DataError(ValueError):
    """A data file is missing, unreadable or inconsistent; the message names the file and the fault."""
