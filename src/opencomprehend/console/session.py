"""Who is looking at the console, and that its forms come from its own pages.

- Development mode (loopback only): no sign-in; every page is the server's default account's.
- `--auth sigv4`: a person signs in with an access key id and its secret made by `opencomprehend
  credentials`. The session is a cookie holding the key id, a random session id and an expiry (8 hours),
  signed with the server's secret (HMAC-SHA256), HttpOnly and SameSite=Strict. Every request looks the
  credential up again, so a key removed (or a temporary key expired) ends its sessions at once; signing
  out records the session id in the job store (`SignOuts`), so the cookie is refused on every node even if
  it was copied. The account is the credential's, so a person sees exactly what the key sees through the
  API.
- Forms: a CSRF token (double submit: a random cookie, and its HMAC under the server's secret in a hidden
  field) on every POST, and the Origin header, when the browser sends one, must be this server's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from opencomprehend.security.credentials import Credential, CredentialStore
from opencomprehend.security.files import SecurityFileError
from opencomprehend.security.records import RecordsTable

SESSION_COOKIE = "oc_session"
CSRF_COOKIE = "oc_csrf"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Viewer:
    """The account a console request acts for; `access_key_id` is None in development mode."""

    account_id: str
    region: str
    access_key_id: str | None
    session_id: str | None = None
    expires: int | None = None


class SignOuts:
    """The sessions signed out before their expiry, in the job store (shared by every node); each is
    forgotten once its cookie would have expired anyway."""

    def __init__(self, records: RecordsTable) -> None:
        self.records = records

    def revoked(self, session_id: str) -> bool:
        return any(record["session"] == session_id for record in self.records.records())

    def revoke(self, session_id: str, expires: int) -> None:
        now = time.time()
        for record in self.records.records():
            if record["expires"] < now:
                try:
                    self.records.remove(record["session"], "signed-out session")
                except SecurityFileError:
                    pass  # another node forgot it first
        try:
            self.records.insert({"session": session_id, "expires": expires, "created": now}, "signed-out session")
        except SecurityFileError:
            pass  # signed out twice


def _sign(secret: bytes, purpose: bytes, payload: bytes) -> str:
    return hmac.new(secret, purpose + b"\0" + payload, hashlib.sha256).hexdigest()


def session_cookie(secret: bytes, access_key_id: str, region: str, now: float | None = None) -> str:
    session_id = secrets.token_urlsafe(16)
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = json.dumps(
        {"k": access_key_id, "r": region, "s": session_id, "e": expires}, separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(secret, b"session", payload)


def read_session(
    secret: bytes, value: str | None, credentials: CredentialStore, sign_outs: SignOuts | None = None
) -> Viewer | None:
    """The viewer a session cookie names, or None when it is forged, expired, signed out or its key is gone."""
    if not value:
        return None
    body, _, signature = value.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
    except (ValueError, json.JSONDecodeError):
        return None
    if not hmac.compare_digest(signature, _sign(secret, b"session", payload)):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data["e"] < time.time():
        return None
    session_id = str(data.get("s"))
    if sign_outs is not None and sign_outs.revoked(session_id):
        return None
    credential = credentials.get(str(data.get("k")))
    if credential is None or not _usable(credential):
        return None
    return Viewer(credential.account_id, str(data.get("r")), credential.access_key_id, session_id, data["e"])


def _usable(credential: Credential) -> bool:
    return credential.expires is None or credential.expires > time.time()


def check_sign_in(credentials: CredentialStore, access_key_id: str, secret_access_key: str) -> Credential | None:
    """The credential when the secret is its own (compared in constant time), else None."""
    credential = credentials.get(access_key_id.strip())
    if credential is None or not _usable(credential):
        # Compared anyway, so that an unknown key takes as long as a wrong secret.
        hmac.compare_digest(secret_access_key.encode(), b"x" * 40)
        return None
    if not hmac.compare_digest(secret_access_key.encode(), credential.secret_access_key.encode()):
        return None
    return credential


def csrf_value(request: Request) -> str:
    """This browser's CSRF cookie value (a new one when it has none; `remember_csrf` sets it)."""
    value = request.cookies.get(CSRF_COOKIE)
    if not value or len(value) != 43:
        value = getattr(request.state, "new_csrf", None)
        if value is None:
            value = request.state.new_csrf = secrets.token_urlsafe(32)
    return value


def csrf_token(secret: bytes, request: Request) -> str:
    return _sign(secret, b"csrf", csrf_value(request).encode())


def csrf_ok(secret: bytes, request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return False
    if not hmac.compare_digest(submitted, _sign(secret, b"csrf", cookie.encode())):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def remember_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/console"
        )


def set_session(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console")
