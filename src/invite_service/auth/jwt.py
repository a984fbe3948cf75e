"""Bearer tokens: PyJWT with the algorithm list pinned by settings."""

from __future__ import annotations

import datetime as dt

import jwt as pyjwt

from invite_service.config import ConfigError, Settings
from invite_service.errors import Unauthorized
from invite_service.kit.clock import utcnow

_NUMERIC_DATES = ("exp", "iat", "nbf")


def _verification_keys(settings: Settings) -> tuple[str, ...]:
    """HS*: the current secret, then the previous one during a rotation; RS*/ES*: the issuer's key."""
    return settings.jwt_verification_secrets if settings.uses_hmac else (settings.jwt_public_key,)


def _decode(token: str, key: str, settings: Settings, options: pyjwt.types.Options) -> dict[str, object]:
    claims: dict[str, object] = pyjwt.decode(
        token,
        key,
        algorithms=settings.jwt_algorithms,
        audience=settings.jwt_audience or None,
        issuer=settings.jwt_issuer or None,
        leeway=settings.jwt_leeway_seconds,
        options=options,
    )
    return claims


def decode_token(token: str, settings: Settings) -> str:
    """The user id (``sub``) of a valid token, or ``Unauthorized``.

    ``algorithms`` comes from settings, never from the token header, so ``alg: none``
    and HS/RS key confusion are refused by PyJWT itself.
    """
    options: pyjwt.types.Options = {"require": ["exp", "sub"]}
    if not settings.jwt_audience:
        options["verify_aud"] = False
    try:
        *older, last = _verification_keys(settings)
        for key in older:
            try:
                claims = _decode(token, key, settings, options)
                break
            except pyjwt.InvalidSignatureError:
                continue  # signed with another secret of the rotation: try the next one
        else:
            claims = _decode(token, last, settings, options)
    except pyjwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token has expired") from exc
    except pyjwt.PyJWTError as exc:
        # PyJWTError, not just InvalidTokenError: a header naming another allowed algorithm whose
        # key type does not match raises InvalidKeyError, which is the caller's fault (401), not a 500.
        raise Unauthorized(f"Invalid token: {type(exc).__name__}") from exc
    for claim in _NUMERIC_DATES:
        # PyJWT reads these with int(), so "exp": "9999999999" would pass; RFC 7519 says a JSON number.
        value = claims.get(claim)
        if claim in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Unauthorized(f"Invalid token: {claim} is not a number")
    sub = claims.get("sub")
    # The subject becomes the user id in every query: a NUL in it would be a database error.
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 128 or "\x00" in sub:
        raise Unauthorized("Token subject is missing or malformed")
    return sub


def mint_token(user: str, settings: Settings, *, ttl_seconds: int | None = None) -> str:
    """A token for ``user`` signed with the current HMAC secret (never the previous one of a rotation).

    Signed with the first configured algorithm, so ``decode_token`` accepts it under any HS* setting.
    """
    if not settings.uses_hmac:
        raise ConfigError(
            "tokens can only be minted with an HS* algorithm; "
            "with RS*/ES* the platform's auth service issues them"
        )
    now = utcnow()
    claims: dict[str, object] = {
        "sub": user,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_seconds or settings.dev_token_ttl_seconds),
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return pyjwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithms[0])
