"""Who is calling: the Authorization header checked the way the contract describes.

Accepted: `Bearer <credential>` with exactly one space, where the credential is
a configured static API key (taken as is) or a JWT with header
`{"alg": "HS256", "typ": "JWT"}`, claims `iss` (a configured access key),
`exp` and `nbf` (Unix seconds), signed with that access key's secret.

The checks are strict and have no leeway: `nbf` later than the emulator's
clock answers 1003 and `exp` at or before it answers 1004, even by a second.
(A real server may allow some skew; the contract's `nbf = now - 5 s` is what
gives a client room.) The JWT is parsed here with the standard library so that
every malformed part gets its own message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Set
from typing import Any

from mivid.sandbox.codes import RefusalError

_BEARER = re.compile(r"Bearer ([^\s]+)")


def _b64url(segment: str, what: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", segment):
        raise RefusalError(1002, f"JWT {what} is not base64url-encoded")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise RefusalError(1002, f"JWT {what} is not base64url-encoded") from exc


def _json_part(segment: str, what: str) -> dict[str, Any]:
    raw = _b64url(segment, what)
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RefusalError(1002, f"JWT {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise RefusalError(1002, f"JWT {what} is not a JSON object")
    return value


def _time_claim(claims: Mapping[str, Any], name: str) -> float:
    if name not in claims:
        raise RefusalError(1002, f"JWT has no '{name}' claim (Unix seconds required)")
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RefusalError(
            1002, f"JWT claim '{name}' must be a number of Unix seconds, got {value!r}"
        )
    if value > 1e11:
        raise RefusalError(
            1002, f"JWT claim '{name}' = {value} looks like milliseconds; use Unix seconds"
        )
    return float(value)


def _live_parts_message(credential: str) -> str:
    """The live service's sentence; its counts are those of the JWT library it runs on
    (no dot: 0, one dot: 2, more than two: "> 3")."""
    dots = credential.count(".")
    got = "0" if dots == 0 else "2" if dots == 1 else "> 3"
    return f"The token was expected to have 3 parts, but got {got}"


def authenticate(
    header: str | None,
    *,
    access_keys: Mapping[str, str],
    api_keys: Set[str],
    now: float,
    live_messages: bool = False,
) -> str:
    """The account (access key or API key) the request acts for, or raise RefusalError.

    `live_messages`: word a token that is not three dot-separated parts the way the live
    service does (`The token was expected to have 3 parts, but got 0`).
    """
    if header is None:
        raise RefusalError(
            1001, "Authorization header is missing; send 'Authorization: Bearer <token>'"
        )
    match = _BEARER.fullmatch(header)
    if match is None:
        raise RefusalError(
            1002,
            "Authorization header must be 'Bearer <token>' (the word Bearer, one space, the token)",
        )
    credential = match.group(1)
    if credential in api_keys:
        return credential
    parts = credential.split(".")
    if len(parts) != 3:
        if live_messages:
            raise RefusalError(1002, _live_parts_message(credential))
        raise RefusalError(1002, "the bearer token is neither a known API key nor a JWT")
    header_part, claims_part, signature_part = parts
    jwt_header = _json_part(header_part, "header")
    if jwt_header.get("alg") != "HS256":
        raise RefusalError(1002, f"JWT header alg must be 'HS256', got {jwt_header.get('alg')!r}")
    if jwt_header.get("typ") != "JWT":
        raise RefusalError(1002, f"JWT header typ must be 'JWT', got {jwt_header.get('typ')!r}")
    claims = _json_part(claims_part, "payload")
    issuer = claims.get("iss")
    if issuer is None:
        raise RefusalError(1002, "JWT has no 'iss' claim (it must be the access key)")
    if not isinstance(issuer, str) or issuer not in access_keys:
        raise RefusalError(1000, f"unknown access key {issuer!r} in the JWT's 'iss' claim")
    signature = _b64url(signature_part, "signature")
    expected = hmac.new(
        access_keys[issuer].encode(), f"{header_part}.{claims_part}".encode(), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(signature, expected):
        raise RefusalError(
            1002, "JWT signature does not match: sign with the secret key of this access key"
        )
    expires = _time_claim(claims, "exp")
    not_before = _time_claim(claims, "nbf")
    if not_before > now:
        raise RefusalError(
            1003, f"token not valid yet: nbf is {not_before - now:.0f} s after the server's clock"
        )
    if expires <= now:
        raise RefusalError(1004, f"token expired {now - expires:.0f} s ago (exp is in the past)")
    return issuer
