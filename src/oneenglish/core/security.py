"""Passwords (Argon2id) and tokens (JWT access tokens, opaque refresh tokens)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from jwt.algorithms import HMACAlgorithm

from oneenglish.settings import Settings

# argon2-cffi's defaults are RFC 9106's second recommendation: Argon2id, t=3, m=64 MiB, p=4.
# PASSWORD_HASH_TIME_COST and PASSWORD_HASH_MEMORY_KIB change them (configure_hashing).
_hasher = PasswordHasher()
JWT_ALGORITHM = "HS256"  # pinned: tokens signed with anything else are rejected


class _CheckedOnceHMAC(HMACAlgorithm):
    """HS256 whose key is checked once per secret, not on every token.

    PyJWT checks an HMAC secret each time it signs or verifies (that it is no PEM, DER, SSH or
    JWK key: two DER parses and a JSON parse, which failed are exceptions): 7.6 % of the CPU of
    an authenticated request in the profile; one verification takes 53 µs instead of 79. Our
    secret comes from the settings and never changes, so the same check's result is kept; a
    different secret is checked anew."""

    def __init__(self) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._prepared: dict[str | bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)
            if len(self._prepared) < 8:  # a few secrets (tests rotate them), never unbounded
                self._prepared[key] = prepared
        return prepared


jwt.unregister_algorithm(JWT_ALGORITHM)
jwt.register_algorithm(JWT_ALGORITHM, _CheckedOnceHMAC())

# A valid hash of a random password, verified when the account does not exist so that an
# unknown account costs the same time as a wrong password (made with the configured cost).
_dummy_hash: str | None = None

POLICY_MESSAGE = (
    "Password must be 10 to 128 characters, contain a letter and a digit or symbol, "
    "and must not contain your username or the name part of your email."
)


def password_problems(password: str, *, username: str = "", email: str = "") -> str | None:
    """None when the password meets the policy, else the policy text."""
    lowered = password.lower()
    personal = [p for p in (username.lower(), email.split("@")[0].lower()) if len(p) >= 3]
    if (
        not 10 <= len(password) <= 128
        or not re.search(r"[A-Za-z]", password)
        or not re.search(r"[^A-Za-z]", password)
        or any(p in lowered for p in personal)
    ):
        return POLICY_MESSAGE
    return None


# Argon2 takes ~100 ms of CPU and 64 MiB per hash: it runs off the event loop, in a pool of its
# own sized to the cores, so a burst of logins queues here instead of oversubscribing the CPU
# and multiplying memory (asyncio's default pool would run cores + 4 at once).
_hash_pool: ThreadPoolExecutor | None = None
_hash_threads = 0


def configure_hashing(
    threads: int,
    processes: int = 1,
    *,
    time_cost: int = _hasher.time_cost,
    memory_kib: int = _hasher.memory_cost,
) -> None:
    """Size the process's hashing pool and set the hash's cost. Called once at start-up.

    threads 0: the cores shared among the `processes` serving the API (at least one each), so
    that the hashes in progress on the machine match its cores: more only queue for the CPU
    while each holds its 64 MiB (measured: two threads in each of two workers took a worker to
    240 MiB, one to 175). A stored hash made at another cost is re-made at this one on the next
    login (auth.service, `needs_rehash`)."""
    global _hash_pool, _hash_threads, _hasher, _dummy_hash
    wanted = threads or max(1, (os.cpu_count() or 1) // max(1, processes))
    if _hash_pool is None or wanted != _hash_threads:
        _hash_pool = ThreadPoolExecutor(max_workers=wanted, thread_name_prefix="argon2")
        _hash_threads = wanted
    if (time_cost, memory_kib) != (_hasher.time_cost, _hasher.memory_cost):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        _dummy_hash = None


def _hashing() -> ThreadPoolExecutor:
    if _hash_pool is None:
        configure_hashing(0)
    assert _hash_pool is not None
    return _hash_pool


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing(), _hasher.hash, password)


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy(), password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(_hashing(), verify)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    token_id: str
    expires_at: datetime


class InvalidToken(Exception):
    pass


def issue_access_token(
    settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[str, int]:
    now = datetime.now(UTC)
    ttl = settings.access_token_ttl_seconds
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
        "iss": settings.jwt_issuer,
        "typ": "access",
    }
    token = jwt.encode(claims, settings.signing_key, algorithm=JWT_ALGORITHM)
    return token, ttl


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=[JWT_ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "sid", "jti", "iat", "exp", "iss"]},
        )
        if claims.get("typ") != "access":
            raise InvalidToken("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc


def new_refresh_token() -> tuple[str, bytes]:
    """An opaque 256-bit token for the client, and the hash we store."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def link_token(settings: Settings, purpose: str, token_id: uuid.UUID) -> str:
    """The 256-bit secret of a link mailed to a user (verify an address, reset a password …).

    Derived from SECRET_KEY and the token row's id (HMAC-SHA256), so nothing stores it: the
    row keeps its SHA-256 only (hash_refresh_token), and the mail relay derives it again when
    it writes the mail. Reading the database without the key yields no working link."""
    message = f"link:{purpose}:{token_id}".encode()
    digest = hmac.new(settings.signing_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_claims(settings: Settings, purpose: str, claims: dict[str, str]) -> str:
    """A signed, non-expiring statement for a one-click link (an unsubscribe)."""
    return jwt.encode(
        {**claims, "typ": purpose, "iss": settings.jwt_issuer},
        settings.signing_key,
        algorithm=JWT_ALGORITHM,
    )


def verify_claims(settings: Settings, purpose: str, token: str) -> dict[str, str]:
    try:
        claims = jwt.decode(
            token, settings.signing_key, algorithms=[JWT_ALGORITHM], issuer=settings.jwt_issuer
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("typ") != purpose:
        raise InvalidToken(f"not a {purpose} token")
    return {k: str(v) for k, v in claims.items()}
