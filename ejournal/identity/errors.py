"""Why identity refused: one root error, and the refusals of logins and sessions by stable code."""

from __future__ import annotations


class IdentityError(Exception):
    """The root error of the identity package."""


class AuthenticationError(IdentityError):
    """A login or a session refused, by a stable code of the ``auth.*`` family (the HTTP layer's
    catalogue gives each its status and Russian title). ``retry_after``: seconds until a throttled
    login may try again."""

    def __init__(self, code: str, *, retry_after: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after
