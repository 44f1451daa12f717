"""Dev sign-in: a local RSA signing key, tokens signed with it, and their verification.

The key lives in the dev state folder (git-ignored) and is made on first use, so
``make token`` and a running ``make dev`` agree. Its public half is handed to the
authorizer function as ``JWKS_JSON``: the real verification code runs, against a local key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://tollgate.local/issuer"
AUDIENCE = "tollgate-local"
KEY_ID = "tollgate-local-1"


class LocalSigner:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "jwt-signing-key.pem"
        if self.path.exists():
            self.key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            state_dir.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            self.path.chmod(0o600)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def token(self, sub: str, roles: list[str], *, email: str | None = None, ttl_s: int = 12 * 3600,
              roles_claim: str = "roles", **claims: Any) -> str:
        now = int(time.time())
        payload = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl_s,
                   roles_claim: roles, "email": email or f"{sub}@example.com", **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def verify(self, token: str, *, issuer: str, audience: str) -> dict[str, Any]:
        """As API Gateway's JWT authorizer: signature, exp/nbf, iss, and aud or client_id."""
        claims = jwt.decode(token, self.key.public_key(), algorithms=["RS256"], issuer=issuer,
                            options={"require": ["exp", "iss"], "verify_aud": False})
        aud = claims.get("aud")
        if audience not in (aud if isinstance(aud, list) else [aud]) and claims.get("client_id") != audience:
            raise jwt.InvalidAudienceError("audience")
        return claims


def flatten_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as the HTTP API JWT authorizer hands them to Lambda: every value a string."""
    flat: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, list):
            flat[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif isinstance(value, dict):
            flat[key] = json.dumps(value, separators=(",", ":"))
        else:
            flat[key] = str(value)
    return flat
