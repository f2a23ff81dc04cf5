"""Who sent a request: SigV4 verified with botocore's own signer, or development mode's plain reading.

- `sigv4`: the Authorization header's access key must be one of the operator's credentials
  (security/credentials.py); botocore's SigV4Auth recomputes the signature over the headers the client
  signed, and it must match. Every `x-amz-*` header the request carries (X-Amz-Target, which names the
  operation, X-Amz-Date, X-Amz-Security-Token) and its Content-Type must be among the signed ones, so
  that none can be changed after signing. The request's date must be within 15 minutes of the server's
  clock, which also bounds how long a captured request can be replayed. The credential maps to one
  account. A temporary credential's session token must come in X-Amz-Security-Token, and it is refused
  once expired (ExpiredTokenException); a long-term key with a token is refused, as AWS refuses it.
- `development` (the embedded default, loopback only): nothing is verified; the account is the access
  key id when that is twelve digits (LocalStack's convention: two local clients with different keys get
  two isolated accounts), else the configured default account.

Either way the region is the signed credential scope's, and only a well-formed region name is accepted.
Errors are the codes AWS JSON clients know, all HTTP 400 as on Comprehend's own endpoint.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from opencomprehend.config import REGION_PATTERN
from opencomprehend.security.credentials import ACCOUNT_ID, Credential, CredentialStore
from opencomprehend.service.errors import ServiceError

SERVICE = "comprehend"
MAX_SKEW = dt.timedelta(minutes=15)
_REGION = re.compile(REGION_PATTERN)  # what AWS's region names look like (config.py)
MAX_REGION_CHARS = 32
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)"
    r"\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*"
)
_SCOPE = re.compile(r"(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_LOOSE_SCOPE = re.compile(r"Credential=(?P<key>[^/,\s]*)/\d{8}/(?P<region>[^/,\s]+)/")


@dataclass(frozen=True)
class Identity:
    account_id: str
    region: str
    access_key_id: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, status=400)


def _invalid_signature(message: str) -> ServiceError:
    return _error("InvalidSignatureException", message)


def _check_region(region: str) -> str:
    if len(region) > MAX_REGION_CHARS or not _REGION.fullmatch(region):
        raise _invalid_signature("Credential should be scoped to a valid region.")
    return region


def _unrecognized() -> ServiceError:
    return _error("UnrecognizedClientException", "The security token included in the request is invalid.")


def _must_be_signed(name: str) -> bool:
    """A header whose change after signing would change the request: x-amz-* (the operation, the date, the
    session token) and the content type, as AWS's SDKs all sign them."""
    return name.startswith("x-amz-") or name == "content-type"


def _check_session_token(credential: Credential, token: str | None, now: dt.datetime) -> None:
    """A temporary credential's token must come with it, and it must not have expired; a long-term key
    carries none (AWS answers a token it did not issue as an invalid one)."""
    if not credential.temporary:
        if token is not None:
            raise _unrecognized()
        return
    if token is None or not hmac.compare_digest(
        token.encode("utf-8", "surrogateescape"), credential.session_token.encode("utf-8")
    ):
        raise _unrecognized()
    if credential.expires is not None and now.timestamp() >= credential.expires:
        raise _error("ExpiredTokenException", "The security token included in the request is expired")


def development_identity(headers: Mapping[str, str], default_account: str, default_region: str) -> Identity:
    """Development mode: nothing verified; the account from a twelve-digit access key id."""
    found = _LOOSE_SCOPE.search(headers.get("authorization", ""))
    if not found:
        return Identity(default_account, default_region, None)
    key = found.group("key")
    account = key if ACCOUNT_ID.fullmatch(key) else default_account
    return Identity(account, _check_region(found.group("region")), key or None)


def _request_time(headers: Mapping[str, str]) -> tuple[str, dt.datetime]:
    stamp = headers.get("x-amz-date")
    if stamp is None:
        raise _error(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    try:
        when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise _error(
            "IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{stamp}'."
        ) from None
    return stamp, when


def _check_skew(stamp: str, when: dt.datetime, now: dt.datetime) -> None:
    def basic(moment: dt.datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%SZ")

    if when < now - MAX_SKEW:
        raise _invalid_signature(
            f"Signature expired: {stamp} is now earlier than {basic(now - MAX_SKEW)} ({basic(now)} - 15 min.)"
        )
    if when > now + MAX_SKEW:
        raise _invalid_signature(
            f"Signature not yet current: {stamp} is still later than {basic(now + MAX_SKEW)} ({basic(now)} + 15 min.)"
        )


def verify_sigv4(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: CredentialStore,
    now: dt.datetime | None = None,
) -> Identity:
    """The identity of a SigV4-signed request, or the ServiceError a client of AWS would get."""
    authorization = headers.get("authorization")
    if not authorization:
        raise _error("MissingAuthenticationTokenException", "Missing Authentication Token")
    parsed = _AUTHORIZATION.fullmatch(authorization.strip())
    if parsed is None:
        raise _error(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
            "(AWS4-HMAC-SHA256).",
        )
    scope = _SCOPE.fullmatch(parsed.group("credential"))
    if scope is None:
        raise _error(
            "IncompleteSignatureException", "The Credential is not <key>/<date>/<region>/<service>/aws4_request."
        )
    region = _check_region(scope.group("region"))
    if scope.group("service") != SERVICE:
        raise _invalid_signature(f"Credential should be scoped to correct service: '{SERVICE}'.")
    stamp, when = _request_time(headers)
    if scope.group("date") != stamp[:8]:
        raise _invalid_signature("Credential should be scoped to a valid date: the request's X-Amz-Date day.")
    _check_skew(stamp, when, now or _now())
    credential = credentials.get(scope.group("key"))
    if credential is None:
        raise _unrecognized()

    signed = parsed.group("signed").split(";")
    if "host" not in signed or any(name not in headers for name in signed):
        raise _invalid_signature("The request's SignedHeaders must include host, and every one must be present.")
    unsigned = sorted(name for name in set(headers.keys()) if _must_be_signed(name) and name not in signed)
    if unsigned:
        raise _error(
            "IncompleteSignatureException",
            f"{', '.join(repr(name) for name in unsigned)} must be {'a ' if len(unsigned) == 1 else ''}"
            f"'SignedHeader{'' if len(unsigned) == 1 else 's'}' in the AWS Authorization: every x-amz-* header "
            "present and the Content-Type are signed.",
        )
    _check_session_token(credential, headers.get("x-amz-security-token"), now or _now())
    # botocore's signer over exactly the headers the client signed, at the client's own timestamp.
    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{path}" + (f"?{query}" if query else ""),
        headers={name: headers[name] for name in signed},
        data=body,
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(
        Credentials(credential.access_key_id, credential.secret_access_key, credential.session_token or None),
        SERVICE,
        region,
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, parsed.group("signature")):
        raise _invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details."
        )
    return Identity(credential.account_id, region, credential.access_key_id)
