"""The local Vault stand-in (tests/vault_server.py) with the operator's side of the API that
deploy/vault/setup.sh calls: policies, auth and secrets mounts, an AppRole role, its role id and secret ids,
and a KV v2 write. No Vault binary can be installed here (not in Debian, no release downloads), so this
serves those endpoints in the shapes Vault documents, behind a root token; what the script wrote then
drives the stand-in's login and KV read, which the service's overlay uses unchanged.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.vault_server import VaultServer

_POLICY = re.compile(r"^/v1/sys/policies/acl/(?P<name>[^/]+)$")
_ENABLE_AUTH = re.compile(r"^/v1/sys/auth/(?P<path>[^/]+)$")
_MOUNT = re.compile(r"^/v1/sys/mounts/(?P<path>[^/]+)$")
_ROLE = re.compile(r"^/v1/auth/(?P<mount>[^/]+)/role/(?P<role>[^/]+)$")
_ROLE_ID = re.compile(r"^/v1/auth/(?P<mount>[^/]+)/role/(?P<role>[^/]+)/role-id$")
_SECRET_ID = re.compile(r"^/v1/auth/(?P<mount>[^/]+)/role/(?P<role>[^/]+)/secret-id$")
_KV_WRITE = re.compile(r"^/v1/(?P<mount>[^/]+)/data/(?P<path>.+)$")


def _is_admin(method: str, path: str) -> bool:
    """Operator endpoints: what the root token does in setup.sh (not the service's login and read)."""
    if path.startswith("/v1/sys/"):
        return True
    if _ROLE.match(path) or _ROLE_ID.match(path) or _SECRET_ID.match(path):
        return True
    return method == "POST" and _KV_WRITE.match(path) is not None


@dataclass
class AdminVaultServer(VaultServer):
    """A Vault with nothing configured yet (like ``vault server -dev`` minus its KV mount, by default)."""

    root_token: str = "root-" + "t" * 20
    policies: dict[str, str] = field(default_factory=dict)
    auth_mounts: dict[str, str] = field(default_factory=lambda: {"token/": "token"})
    mounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    # No credentials until the script creates them: a login before that fails.
    role_id: str = ""
    secret_id: str = ""

    def handle(
        self, method: str, path: str, token: str | None, body: dict[str, Any] | None
    ) -> tuple[int, Any]:
        if _is_admin(method, path):
            if token != self.root_token:
                return 403, {"errors": ["permission denied"]}  # Vault's answer to a token without the policy
            admin = self._admin(method, path, body or {})
            if admin is not None:
                return admin
        return super().handle(method, path, token, body)

    def _admin(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        if method == "POST" and (m := _POLICY.match(path)):
            self.policies[m["name"]] = body["policy"]
            return 204, None
        if method == "GET" and path == "/v1/sys/auth":
            return 200, {"data": {p: {"type": t} for p, t in self.auth_mounts.items()}}
        if method == "POST" and (m := _ENABLE_AUTH.match(path)):
            if f"{m['path']}/" in self.auth_mounts:
                return 400, {"errors": [f"path is already in use at {m['path']}/"]}
            self.auth_mounts[f"{m['path']}/"] = body["type"]
            return 204, None
        if method == "GET" and path == "/v1/sys/mounts":
            return 200, {"data": {p: {"type": m["type"]} for p, m in self.mounts.items()}}
        if method == "POST" and (m := _MOUNT.match(path)):
            if f"{m['path']}/" in self.mounts:
                return 400, {"errors": [f"path is already in use at {m['path']}/"]}
            self.mounts[f"{m['path']}/"] = body
            return 204, None
        if (m := _ROLE_ID.match(path)) and method == "GET":
            if m["role"] not in self.roles:
                return 404, {"errors": []}
            return 200, {"data": {"role_id": self.role_id}}
        if (m := _SECRET_ID.match(path)) and method == "POST":
            if m["role"] not in self.roles:
                return 404, {"errors": []}
            # One secret id at a time is enough for these tests; Vault keeps every one until its TTL.
            self.secret_id = secrets.token_hex(18)
            return 200, {"data": {"secret_id": self.secret_id, "secret_id_accessor": secrets.token_hex(8)}}
        if (m := _ROLE.match(path)) and method == "POST":
            if f"{m['mount']}/" not in self.auth_mounts:
                return 404, {"errors": [f"no handler for route {path!r}"]}
            self.roles[m["role"]] = body
            self.role_id = self.role_id or secrets.token_hex(18)
            return 204, None
        if method == "POST" and (m := _KV_WRITE.match(path)):
            mount = self.mounts.get(f"{m['mount']}/")
            if mount is None or mount.get("options", {}).get("version") != "2":
                return 404, {"errors": [f"no handler for route {path!r}"]}
            self.secrets[m["path"]] = dict(body["data"])
            return 200, {"data": {"version": 1}}
        return None
