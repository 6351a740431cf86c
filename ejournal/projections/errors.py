"""The errors of the read side: one root, and what the HTTP layer maps to 404."""

from __future__ import annotations


class ProjectionError(Exception):
    """Something the read models cannot answer."""


class NotProjected(ProjectionError):
    """The read models hold no such record (it does not exist, or is not projected yet)."""
