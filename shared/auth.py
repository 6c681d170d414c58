"""JWT bearer tokens (PyJWT) and the roles of SPEC §5."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from flask import current_app, g, request

from shared.errors import Forbidden, Unauthorized

ROLES = ("resident", "org", "staff", "admin", "system")
ALGORITHM = "HS256"
# admin may do all that staff may (SPEC §5).
IMPLIED_ROLES = {"admin": {"admin", "staff"}}


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


def issue_token(secret: str, role: str, sub: str, org_id: int | None = None, ttl_seconds: int = 8 * 3600) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "org" and org_id is None:
        raise ValueError("an org token needs the organisation id")
    now = datetime.now(timezone.utc)
    claims = {"sub": sub, "role": role, "iat": now, "exp": now + timedelta(seconds=ttl_seconds)}
    if org_id is not None:
        claims["org_id"] = org_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("登录已过期 The token has expired.", code="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("无效的令牌 The token is not valid.", code="invalid_token") from None
    role, org_id = claims.get("role"), claims.get("org_id")
    if role not in ROLES or (role == "org" and not isinstance(org_id, int)):
        raise Unauthorized("无效的令牌 The token's role is not valid.", code="invalid_token")
    return Principal(sub=str(claims["sub"]), role=role, org_id=org_id)


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
