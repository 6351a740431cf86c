"""Bodies of logging in, out, and of credentials."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.common import Input, Login, Output, Password
from ejournal.ledger.actor import Role


class LoginIn(Input):
    login: Login
    password: Password


class SessionOut(Output):
    access_token: str = Field(description="Send as 'Authorization: Bearer <token>'")
    token_type: str = "bearer"
    session_id: UUID
    account_id: UUID
    credential_version: int
    expires_at: datetime
    password_change_required: bool = Field(
        False,
        description="Opened with a one-time password: change it (POST /auth/password) before "
        "anything else; the session may do nothing but that and log out",
    )


class PasswordChangeIn(Input):
    current_password: Password
    new_password: Password


class GrantOut(Output):
    role: Role
    school_id: UUID | None


class MeOut(Output):
    account_id: UUID
    person_id: UUID
    login: str
    session_id: UUID
    credential_version: int
    grants: list[GrantOut]


class PasswordResetOut(Output):
    account_id: UUID
    credential_version: int
    temporary_password: str = Field(
        description="Shown once; hand it to the person in private. It opens one session, which "
        "may only change the password"
    )
