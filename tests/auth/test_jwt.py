"""Bearer-token checks: ``decode_token`` directly, and over HTTP on a protected route (GET /api/v1/tasks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from invite_service.auth.jwt import decode_token, mint_token
from invite_service.config import ConfigError, Settings
from invite_service.db import Database
from invite_service.errors import Unauthorized
from invite_service.main import create_app

PROTECTED = "/api/v1/tasks"
SECRET = "unit-test-hmac-secret-" + "k" * 48  # 64+ bytes: long enough for HS512 too
AUDIENCE = "invite-service"
ISSUER = "https://auth.example"

ClientFor = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


# -- token helpers --------------------------------------------------------------------------------


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims for user ``alice``; a change to ``None`` drops that claim."""
    now = int(time.time())
    base: dict[str, Any] = {"sub": "alice", "iat": now, "exp": now + 300}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], payload: dict[str, Any], hmac_key: bytes | None = None) -> str:
    """A token PyJWT would refuse to produce: unsigned, or HMAC-signed with a PEM public key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = (
        b"" if hmac_key is None else hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    )
    return f"{signing_input}.{_b64(signature)}"


def pem_public(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def hs_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, jwt_secret=SECRET, **overrides)


@pytest.fixture
def client_for(settings: Settings, database: Database) -> ClientFor:
    """A client for an app built with other auth settings, on the test database."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        custom = Settings(
            _env_file=None, database_url=settings.database_url, log_level="WARNING", **overrides
        ).ensure_startable()
        transport = httpx.ASGITransport(app=create_app(custom, database=database), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(resp: httpx.Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 401
    assert body["code"] == "unauthorized"
    assert body["instance"] == PROTECTED


# -- decode_token ---------------------------------------------------------------------------------


def test_decode_returns_the_subject() -> None:
    assert (
        decode_token(pyjwt.encode(claims(sub="user-42"), SECRET, algorithm="HS256"), hs_settings())
        == "user-42"
    )


@pytest.mark.parametrize(
    ("make_claims", "detail"),
    [
        # Built at run time, so a long test session cannot expire the "valid" exp of the others.
        (lambda: claims(exp=int(time.time()) - 60), "expired"),
        (lambda: claims(sub=None), "Invalid token"),
        (lambda: claims(exp=None), "Invalid token"),
        (lambda: claims(sub=""), "subject"),
        (lambda: claims(sub="x" * 129), "subject"),
    ],
    ids=["expired", "no-sub", "no-exp", "empty-sub", "overlong-sub"],
)
def test_decode_refuses_bad_claims(make_claims: Callable[[], dict[str, Any]], detail: str) -> None:
    with pytest.raises(Unauthorized) as err:
        decode_token(pyjwt.encode(make_claims(), SECRET, algorithm="HS256"), hs_settings())
    assert detail in err.value.detail


def test_decode_honours_the_leeway() -> None:
    settings = hs_settings()
    assert settings.jwt_leeway_seconds == 30
    now = int(time.time())
    assert decode_token(pyjwt.encode(claims(exp=now - 10), SECRET, algorithm="HS256"), settings) == "alice"
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(pyjwt.encode(claims(exp=now - 60), SECRET, algorithm="HS256"), settings)


def test_decode_refuses_alg_none_and_unlisted_hmac() -> None:
    settings = hs_settings()
    with pytest.raises(Unauthorized):
        decode_token(handmade({"alg": "none", "typ": "JWT"}, claims()), settings)
    # Right secret, but HS512 is not in INVITE_JWT_ALGORITHMS: the header does not choose.
    with pytest.raises(Unauthorized):
        decode_token(pyjwt.encode(claims(), SECRET, algorithm="HS512"), settings)


def test_decode_checks_audience_only_when_configured() -> None:
    with_aud = hs_settings(jwt_audience=AUDIENCE)
    assert decode_token(pyjwt.encode(claims(aud=AUDIENCE), SECRET, algorithm="HS256"), with_aud) == "alice"
    for token_claims in (claims(aud="another-service"), claims()):
        with pytest.raises(Unauthorized):
            decode_token(pyjwt.encode(token_claims, SECRET, algorithm="HS256"), with_aud)
    # Platform tokens may carry an audience; without one configured it is not checked.
    token = pyjwt.encode(claims(aud="anything"), SECRET, algorithm="HS256")
    assert decode_token(token, hs_settings()) == "alice"


def test_mismatched_key_type_is_a_401_not_a_crash(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    """ensure_startable refuses RS256+ES256 with one key; should it slip through, an ES256 header
    against an RSA key must still be a 401 (PyJWT raises InvalidKeyError, outside InvalidTokenError)."""
    settings = Settings(_env_file=None, jwt_algorithms=["RS256", "ES256"], jwt_public_key=pem_public(rsa_key))
    with pytest.raises(ConfigError, match="ES256"):
        settings.ensure_startable()
    with pytest.raises(Unauthorized):
        decode_token(pyjwt.encode(claims(), ec_key, algorithm="ES256"), settings)


def test_mint_token_signs_with_the_configured_hmac_algorithm(rsa_key: rsa.RSAPrivateKey) -> None:
    settings = hs_settings(jwt_algorithms=["HS512"])
    token = mint_token("bob", settings)
    assert pyjwt.get_unverified_header(token)["alg"] == "HS512"
    assert decode_token(token, settings) == "bob"
    with pytest.raises(ConfigError, match="HS"):
        mint_token(
            "bob", Settings(_env_file=None, jwt_algorithms=["RS256"], jwt_public_key=pem_public(rsa_key))
        )


# -- over HTTP, default app (HS256, embedded) --------------------------------------------------------


async def test_valid_token_reaches_the_route(
    client: httpx.AsyncClient, new_user: Callable[[], dict[str, str]]
) -> None:
    resp = await client.get(PROTECTED, headers=new_user())
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YWxpY2U6cGFzcw=="}, {"Authorization": "Bearer not-a-jwt"}],
    ids=["no-header", "basic-scheme", "garbage"],
)
async def test_missing_or_malformed_credentials(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert_unauthorized(await client.get(PROTECTED, headers=headers))


BAD_TOKENS: dict[str, Callable[[str], str]] = {
    "expired-60s": lambda key: pyjwt.encode(claims(exp=int(time.time()) - 60), key, algorithm="HS256"),
    "bad-signature": lambda key: pyjwt.encode(claims(), "some-other-secret-" + "x" * 20, algorithm="HS256"),
    "alg-none": lambda key: handmade({"alg": "none", "typ": "JWT"}, claims()),
    "no-sub": lambda key: pyjwt.encode(claims(sub=None), key, algorithm="HS256"),
    "no-exp": lambda key: pyjwt.encode(claims(exp=None), key, algorithm="HS256"),
    "unlisted-alg": lambda key: pyjwt.encode(claims(), key, algorithm="HS384"),
}


# HS384 with the embedded placeholder (shorter than 48 bytes) makes PyJWT warn while encoding.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_tokens_get_401_problem(client: httpx.AsyncClient, settings: Settings, case: str) -> None:
    token = BAD_TOKENS[case](settings.jwt_secret)
    assert_unauthorized(await client.get(PROTECTED, headers=bearer(token)))


async def test_leeway_over_http(client: httpx.AsyncClient, settings: Settings) -> None:
    now = int(time.time())
    recent = pyjwt.encode(claims(exp=now - 10), settings.jwt_secret, algorithm="HS256")
    assert (await client.get(PROTECTED, headers=bearer(recent))).status_code == 200
    stale = pyjwt.encode(claims(exp=now - 60), settings.jwt_secret, algorithm="HS256")
    assert_unauthorized(await client.get(PROTECTED, headers=bearer(stale)))


# -- over HTTP, apps with other auth settings --------------------------------------------------------


async def test_audience(client_for: ClientFor) -> None:
    async with client_for(jwt_secret=SECRET, jwt_audience=AUDIENCE) as c:
        good = pyjwt.encode(claims(aud=AUDIENCE), SECRET, algorithm="HS256")
        assert (await c.get(PROTECTED, headers=bearer(good))).status_code == 200
        for bad in (claims(aud="another-service"), claims()):
            assert_unauthorized(
                await c.get(PROTECTED, headers=bearer(pyjwt.encode(bad, SECRET, algorithm="HS256")))
            )


async def test_issuer(client_for: ClientFor) -> None:
    async with client_for(jwt_secret=SECRET, jwt_issuer=ISSUER) as c:
        good = pyjwt.encode(claims(iss=ISSUER), SECRET, algorithm="HS256")
        assert (await c.get(PROTECTED, headers=bearer(good))).status_code == 200
        for bad in (claims(iss="https://evil.example"), claims()):
            assert_unauthorized(
                await c.get(PROTECTED, headers=bearer(pyjwt.encode(bad, SECRET, algorithm="HS256")))
            )


async def test_rs256_with_public_key(
    client_for: ClientFor, rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    public = pem_public(rsa_key)
    async with client_for(jwt_algorithms=["RS256"], jwt_public_key=public) as c:
        good = pyjwt.encode(claims(), rsa_key, algorithm="RS256")
        assert (await c.get(PROTECTED, headers=bearer(good))).status_code == 200
        forged = pyjwt.encode(claims(), other_rsa_key, algorithm="RS256")
        assert_unauthorized(await c.get(PROTECTED, headers=bearer(forged)))


async def test_hs_token_refused_when_rs256_configured(
    client_for: ClientFor, settings: Settings, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Key confusion: an HS256 token MACed with the (public) RSA key, or with the HMAC secret still set."""
    public = pem_public(rsa_key)
    async with client_for(jwt_algorithms=["RS256"], jwt_public_key=public) as c:
        confused = handmade({"alg": "HS256", "typ": "JWT"}, claims(), hmac_key=public.encode())
        assert_unauthorized(await c.get(PROTECTED, headers=bearer(confused)))
        with_secret = pyjwt.encode(claims(), settings.jwt_secret, algorithm="HS256")
        assert_unauthorized(await c.get(PROTECTED, headers=bearer(with_secret)))
        assert_unauthorized(await c.get(PROTECTED, headers=bearer(handmade({"alg": "none"}, claims()))))


async def test_es256_with_public_key(
    client_for: ClientFor,
    ec_key: ec.EllipticCurvePrivateKey,
    other_ec_key: ec.EllipticCurvePrivateKey,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    async with client_for(jwt_algorithms=["ES256"], jwt_public_key=pem_public(ec_key)) as c:
        good = pyjwt.encode(claims(), ec_key, algorithm="ES256")
        assert (await c.get(PROTECTED, headers=bearer(good))).status_code == 200
        for forged in (
            pyjwt.encode(claims(), other_ec_key, algorithm="ES256"),
            pyjwt.encode(claims(), rsa_key, algorithm="RS256"),
        ):
            assert_unauthorized(await c.get(PROTECTED, headers=bearer(forged)))


# -- dev login -------------------------------------------------------------------------------------


async def test_dev_login_mints_a_usable_token(client: httpx.AsyncClient, settings: Settings) -> None:
    resp = await client.post("/api/v1/auth/dev-login", json={"user": "alice.dev"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["user"] == "alice.dev"
    assert decode_token(body["access_token"], settings) == "alice.dev"
    assert (await client.get(PROTECTED, headers=bearer(body["access_token"]))).status_code == 200


async def test_dev_login_works_with_another_hmac_algorithm(client_for: ClientFor) -> None:
    async with client_for(jwt_secret=SECRET, jwt_algorithms=["HS512"]) as c:
        resp = await c.post("/api/v1/auth/dev-login", json={"user": "carol"})
        assert resp.status_code == 200, resp.text
        assert (await c.get(PROTECTED, headers=bearer(resp.json()["access_token"]))).status_code == 200


async def test_dev_login_is_absent_in_production(client_for: ClientFor, settings: Settings) -> None:
    production_secret = "p" * 40
    async with client_for(profile="production", jwt_secret=production_secret, allow_sandbox=True) as c:
        resp = await c.post("/api/v1/auth/dev-login", json={"user": "mallory"})
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("application/problem+json")
        # The production app still authenticates tokens from the platform's issuer...
        platform = pyjwt.encode(claims(), production_secret, algorithm="HS256")
        assert (await c.get(PROTECTED, headers=bearer(platform))).status_code == 200
        # ...and not ones signed with the embedded placeholder.
        dev = pyjwt.encode(claims(), settings.jwt_secret, algorithm="HS256")
        assert_unauthorized(await c.get(PROTECTED, headers=bearer(dev)))
