"""JWT bearer tokens (PyJWT) and the roles of SPEC §5."""

import functools
import hashlib
import math
import time
from dataclasses import dataclass

import jwt
from flask import current_app, g, request

from shared.errors import Forbidden, Unauthorized

ROLES = ("resident", "org", "staff", "admin", "system")
ALGORITHM = "HS256"
# admin may do all that staff may (SPEC §5).
IMPLIED_ROLES = {"admin": {"admin", "staff"}}
# A subject is stored as created_by / actor / decided_by, columns of String(100).
MAX_SUBJECT_LENGTH = 100
# The longest lifetime `yizhan token` issues: a forgotten token should not outlive a year.
MAX_TOKEN_TTL_SECONDS = 365 * 24 * 3600
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")
# Hosts' clocks differ a little: a token issued that much "in the future" is still taken.
CLOCK_LEEWAY_SECONDS = 30
# How many verified tokens each process remembers (decode_token): the station's callers are few.
VERIFIED_TOKENS_KEPT = 1024
# The width of every owner and idempotency-scope column.
OWNER_MAX_CHARS = 120


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    org_id: int | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(IMPLIED_ROLES.get(self.role, {self.role}) & set(roles))

    def acts_for(self, org_id: int) -> bool:
        """True unless this is an org token for some other organisation."""
        return self.role != "org" or self.org_id == org_id

    @property
    def identity(self) -> str:
        """Who this is, whole: a subject is unique only within its role (resident "li" is not staff "li").

        Fits the services' 120-character owner columns: a verified token's `sub` is at most 100
        printable characters; anything else (a Principal built in code) is named by its SHA-256."""
        identity = f"{self.role}:{self.sub}"
        if len(identity) <= OWNER_MAX_CHARS and identity.isprintable():
            return identity
        return f"{self.role}:sha256:{hashlib.sha256(str(self.sub).encode('utf-8', 'surrogatepass')).hexdigest()}"

    @property
    def key_owner(self) -> str:
        """Whose idempotency keys a caller's are (SPEC §5: a key never reaches another caller's data):
        an organisation as a whole, so any of its tokens may retry; anyone else by identity."""
        return f"org:{self.org_id}" if self.role == "org" else self.identity


def issue_token(secret: str, role: str, sub: str, org_id: int | None = None, ttl_seconds: int = 8 * 3600) -> str:
    """A signed token; ValueError when the services would refuse its claims. A negative ttl gives an expired one."""
    now = int(time.time())
    claims = {"sub": sub, "role": role, "iat": now, "exp": now + ttl_seconds}
    if org_id is not None:
        claims["org_id"] = org_id
    problem = claims_problem(claims)
    if problem:
        raise ValueError(problem)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    """The principal of a token signed with `secret`; Unauthorized (401) for anything else, never a 500."""
    claims = _verified_claims(secret, token)
    now = time.time()
    if claims["exp"] <= now:
        raise Unauthorized("登录已过期 The token has expired.", code="token_expired")
    if max(claims.get("iat", 0), claims.get("nbf", 0)) > now + CLOCK_LEEWAY_SECONDS:
        raise Unauthorized("令牌尚未生效 The token is not valid yet.", code="invalid_token")
    return Principal(sub=claims["sub"], role=claims["role"], org_id=claims.get("org_id"))


@functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified_claims(secret: str, token: str) -> dict:
    """A token's claims once its signature and their types are checked; Unauthorized otherwise (never
    kept: lru_cache keeps no exception). The same token string always checks the same way, so a
    service's callers, who send one token many times, pay for the signature once (issue 14: a tenth
    of a read's time); times are checked at every use, by decode_token. The caller must not change
    the dict."""
    try:
        # Times are checked by the caller, after the claims' types: PyJWT reads exp with int(), so "123"
        # or true would pass as a time (jwt/api_jwt.py _validate_exp).
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={
            "require": ["exp", "sub", "role"], "verify_exp": False, "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidTokenError:
        raise Unauthorized("无效的令牌 The token is not valid.", code="invalid_token") from None
    problem = claims_problem(claims)
    if problem:
        raise Unauthorized(problem, code="invalid_token")
    return claims


def claims_problem(claims: dict) -> str | None:
    """What is wrong with a token's claims, as the bilingual message of a 401; None when nothing is."""
    for name in NUMERIC_DATE_CLAIMS:
        if name in claims and not is_number(claims[name]):
            return f"无效的令牌:{name} 须为数字 The token's {name} claim must be a number (seconds since 1970)."
    sub = claims.get("sub")
    if not (isinstance(sub, str) and sub.strip() and len(sub) <= MAX_SUBJECT_LENGTH and sub.isprintable()):
        return (f"无效的令牌:sub 须为 1 至 {MAX_SUBJECT_LENGTH} 个可打印字符 "
                f"The token's sub claim must be 1 to {MAX_SUBJECT_LENGTH} printable characters.")
    role = claims.get("role")
    if not (isinstance(role, str) and role in ROLES):
        return f"无效的令牌:role 须为 {'、'.join(ROLES)} 之一 The token's role claim must be one of {', '.join(ROLES)}."
    org_id = claims.get("org_id")
    if (org_id is not None or role == "org") and not is_positive_integer(org_id):
        return ("无效的令牌:org_id 须为正整数的机构编号(机构令牌必须有)"
                "The token's org_id claim must be a positive organisation id (an org token needs one).")
    return None


def is_number(value) -> bool:
    """A JSON number that is a time: not a boolean (Python's bool is an int), finite. RFC 7519 NumericDate."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_positive_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def current_principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要登录 Send 'Authorization: Bearer <token>'.")
    return decode_token(current_app.config["SECRET_KEY"], token.strip())


def requires(*roles: str):
    """Allow the view to the given roles (any authenticated role when none given)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if roles and not principal.has_role(*roles):
                raise Forbidden(f"无权执行此操作 This needs the role: {' or '.join(roles)}.")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorator
