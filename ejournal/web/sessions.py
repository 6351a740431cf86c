"""A browser's login session: the API's session token in an HttpOnly cookie, and CSRF tokens.

The cookie holds the very token ``POST /auth/login`` hands out, so a page is authenticated by
``Authenticator`` exactly as an API call is: the same credential versions, locks, breach reports
and п. 4.4 invalidations end it at its next request.

CSRF: every form carries a token derived from the session token (SHA-256 of a label and the
token). Another site can make a browser send the cookie, but it can read neither the cookie nor
a page, so it cannot know the token. The login form, which has no session yet, is protected the
same way by a random value in a cookie of its own (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "ejournal_session"
LOGIN_COOKIE = "ejournal_login"
CSRF_FIELD = "csrf"


def csrf_token(secret: str) -> str:
    """The token forms must carry for a session (or a login form) whose secret is ``secret``."""
    return hashlib.sha256(b"ejournal csrf\0" + secret.encode()).hexdigest()


def csrf_matches(secret: str | None, sent: str | None) -> bool:
    if not secret or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret), sent)


def new_login_secret() -> str:
    return secrets.token_urlsafe(24)


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """HttpOnly, SameSite=Lax, and Secure when the page was served over TLS (uvicorn sets the
    scheme from X-Forwarded-Proto behind a trusted proxy). No Max-Age: the cookie ends with the
    browser; the session itself ends on the server (8 hours, logout, lock, п. 4.4)."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )
