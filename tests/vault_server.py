"""A small, real HTTP stand-in for HashiCorp Vault: the endpoints hvac calls for the overlay.

No Vault binary can be installed here, so this serves the AppRole login, a KV v2 read and
token self-renewal over a socket on 127.0.0.1, in the shapes Vault documents, and records
every call so tests can assert on what the service actually sent. hvac itself is untouched.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LOGIN = re.compile(r"^/v1/auth/(?P<mount>[^/]+)/login$")
_KV_READ = re.compile(r"^/v1/(?P<mount>[^/]+)/data/(?P<path>.+)$")
_RENEW_SELF = "/v1/auth/token/renew-self"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str | None
    body: dict[str, Any] | None


@dataclass
class VaultServer:
    """Vault with one AppRole and a KV v2 engine; ``secrets`` maps a KV path to its data."""

    role_id: str = "role-1234"
    secret_id: str = "s3cr3t-id-never-logged"
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    lease_seconds: int = 3600
    renewable: bool = True
    approle_mount: str = "approle"
    kv_mount: str = "secret"
    # KV paths the role's policy does not grant: a valid token still gets 403 there.
    denied_paths: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> VaultServer:
        # Port 0: the OS picks a free port at bind time, so there is no race with other tests.
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown() (once per test) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-vault", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> VaultServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- what tests read -------------------------------------------------------------------------

    def calls_to(self, path: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path == path]

    @property
    def renewals(self) -> list[Call]:
        return self.calls_to(_RENEW_SELF)

    # -- request handling (called from the server's threads) -------------------------------------

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def handle(
        self, method: str, path: str, token: str | None, body: dict[str, Any] | None
    ) -> tuple[int, Any]:
        if method == "POST" and (m := _LOGIN.match(path)) and m["mount"] == self.approle_mount:
            return self._login(body or {})
        if method == "POST" and path == _RENEW_SELF:
            if not self._valid(token):
                return 403, {"errors": ["permission denied"]}
            return 200, self._auth_response(token or "")
        if method == "GET" and (m := _KV_READ.match(path)) and m["mount"] == self.kv_mount:
            if not self._valid(token) or m["path"] in self.denied_paths:
                return 403, {"errors": ["permission denied"]}
            data = self.secrets.get(m["path"])
            if data is None:
                return 404, {"errors": []}  # what Vault answers for a KV v2 path with no secret
            return 200, _kv_response(data)
        return 404, {"errors": [f"no handler for route {path!r}"]}

    def _valid(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self.tokens

    def _login(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("role_id") != self.role_id or body.get("secret_id") != self.secret_id:
            # Vault's own wording; it never echoes the credentials back.
            return 400, {"errors": ["invalid role or secret ID"]}
        token = "hvs." + secrets.token_urlsafe(18)
        with self._lock:
            self.tokens.add(token)
        return 200, self._auth_response(token)

    def _auth_response(self, token: str) -> dict[str, Any]:
        return {
            "request_id": secrets.token_hex(8),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": None,
            "auth": {
                "client_token": token,
                "accessor": secrets.token_hex(8),
                "policies": ["default", "invite-service"],
                "token_policies": ["default", "invite-service"],
                "metadata": {"role_name": "invite-service"},
                "lease_duration": self.lease_seconds,
                "renewable": self.renewable,
                "token_type": "service",
                "orphan": True,
            },
        }


def _kv_response(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": secrets.token_hex(8),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": {
            "data": dict(data),
            "metadata": {
                "created_time": "2026-01-05T09:00:00.000000Z",
                "custom_metadata": None,
                "deletion_time": "",
                "destroyed": False,
                "version": 1,
            },
        },
    }


def _handler_for(vault: VaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?", 1)[0]
            token = self.headers.get("X-Vault-Token")
            vault.record(Call(method, path, token, body))
            status, payload = vault.handle(method, path, token, body)
            out = json.dumps(payload).encode()
            self.send_response(status)
            # hvac parses error bodies only when the type is exactly this.
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

    return Handler
