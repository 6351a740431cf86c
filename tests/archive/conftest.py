"""One closed and archived school year per backend, shared by the tests of a module."""

from tests.archive.support import archived_year

__all__ = ["archived_year"]
