"""Mixed traffic for ``make load``: each simulated user is its own service user with its own tasks.

Run by ``python -m load`` (load/__main__.py), which sets the environment below and reads the results file;
``locust -f load/locustfile.py`` works too with the same variables.

- ``LOAD_HOSTS``: comma-separated base URLs (the API processes); user n talks to host n mod len.
- ``LOAD_JWT_SECRET`` (HS256; ``LOAD_JWT_AUDIENCE`` / ``LOAD_JWT_ISSUER`` when the deployment checks them):
  a token per simulated user, ``sub`` = ``load-<run>-<n>``. Or ``LOAD_TOKEN``: one token for every user
  (then they share one user's per-process event-stream cap, and the extra streams are 429s).
- ``LOAD_RESULTS``: where the per-request samples and status codes are written at the end (JSON).
- ``LOAD_PLATFORM`` (telegram), ``LOAD_TARGETS_PER_TASK`` (100): the task each user starts first.
- ``LOAD_CLEANUP=1``: when a user stops it cancels its tasks that have not ended (a deployment's; the
  local stack is thrown away whole). Those requests are their own row, after the measured window.

Every user starts one task of its own, then polls and changes things the way the web UI does. A 409/422
(a pause of a task that just completed, a start before its import landed) or a 429 (the event-stream cap)
is an expected refusal, counted by status code but not a failure; any other 4xx, a 5xx or a transport
error is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import gevent
import jwt
from locust import HttpUser, between, events, task
from locust.env import Environment

HOSTS = [h.rstrip("/") for h in os.environ.get("LOAD_HOSTS", "").split(",") if h.strip()]
RUN = os.environ.get("LOAD_RUN_ID") or uuid.uuid4().hex[:8]
PLATFORM = os.environ.get("LOAD_PLATFORM", "telegram")
TARGETS_PER_TASK = int(os.environ.get("LOAD_TARGETS_PER_TASK", "100"))
IMPORT_ROWS = 20
FIRST_EVENT_SECONDS = 15.0  # the snapshot must arrive within a heartbeat interval, or the stream failed
EVENTS_READ = 3  # events read from a stream before it is closed …
EVENTS_READ_SECONDS = 3.0  # … or this long after the snapshot, whichever comes first
EXPECTED_REFUSALS = frozenset({409, 422, 429})
API = "/api/v1"

_numbers = itertools.count()
# name -> response times (ms), and name -> status code (or "error") -> count, for load/__main__.py.
_samples: dict[str, list[float]] = defaultdict(list)
_codes: dict[str, Counter[str]] = defaultdict(Counter)


@events.request.add_listener
def _record(
    name: str, response_time: float, response: Any, exception: BaseException | None, **_: Any
) -> None:
    _samples[name].append(response_time)
    code = getattr(response, "status_code", None)
    # A streamed or custom record has no response object of its own; an exception without a status is
    # a transport error (refused, reset, timed out).
    _codes[name][str(code) if code else ("error" if exception else "ok")] += 1


@events.quitting.add_listener
def _write_results(environment: Environment, **_: Any) -> None:
    path = os.environ.get("LOAD_RESULTS")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"samples": _samples, "codes": _codes}, fh)


def _token(n: int) -> str:
    static = os.environ.get("LOAD_TOKEN")
    if static:
        return static
    now = int(time.time())
    claims: dict[str, Any] = {"sub": f"load-{RUN}-{n:04d}", "iat": now, "exp": now + 6 * 3600}
    if audience := os.environ.get("LOAD_JWT_AUDIENCE"):
        claims["aud"] = audience
    if issuer := os.environ.get("LOAD_JWT_ISSUER"):
        claims["iss"] = issuer
    return jwt.encode(claims, os.environ["LOAD_JWT_SECRET"], algorithm="HS256")


class ServiceUser(HttpUser):
    wait_time = between(0.5, 2.0)  # a person's UI: ~0.8 requests/s per user

    def on_start(self) -> None:
        self.n = next(_numbers)
        self.base = HOSTS[self.n % len(HOSTS)] if HOSTS else (self.host or "").rstrip("/")
        self.headers = {"Authorization": f"Bearer {_token(self.n)}"}
        self.tasks_seen: dict[str, str] = {}  # task id -> status as last seen
        self.imported: set[str] = set()  # drafts that were sent a file
        self.health()  # the floor has samples even in a short run
        accounts = self._json("GET", f"{API}/accounts", "GET /accounts", params={"platform": PLATFORM})
        self.account_ids = [a["id"] for a in (accounts or {}).get("items", [])]
        first = self._create()
        if first is None:
            return
        rows = [{"username": f"ld{RUN}u{self.n:04d}t{i:05d}"} for i in range(TARGETS_PER_TASK)]
        self._json(
            "POST",
            f"{API}/tasks/{first}/targets/bulk",
            "POST /tasks/{id}/targets/bulk",
            json={"targets": rows},
        )
        self._control(first, "start")

    def on_stop(self) -> None:
        if os.environ.get("LOAD_CLEANUP") != "1":
            return
        for task_id, status in list(self.tasks_seen.items()):
            if status not in {"completed", "cancelled", "failed"}:
                self._json("POST", f"{API}/tasks/{task_id}/cancel", "POST /tasks/{id}/cancel (cleanup)")

    # --- helpers ----------------------------------------------------------------------------------

    def _json(self, method: str, path: str, name: str, **kwargs: Any) -> Any:
        """The JSON of a 2xx answer, else None; records the request under ``name``."""
        with self.client.request(
            method,
            self.base + path,
            name=name,
            headers=self.headers,
            catch_response=True,
            timeout=60,
            **kwargs,
        ) as resp:
            if 200 <= resp.status_code < 300:
                resp.success()
                return resp.json() if resp.content else {}
            if resp.status_code in EXPECTED_REFUSALS:
                resp.success()
            elif resp.status_code == 0:  # no answer: the transport error is all there is
                resp.failure(f"no response: {resp.error!r}"[:300])
            else:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
            return None

    def _pick(self, *statuses: str) -> str | None:
        ids = [t for t, s in self.tasks_seen.items() if not statuses or s in statuses]
        return random.choice(ids) if ids else None

    def _create(self) -> str | None:
        body = {
            "name": f"load {self.n} {uuid.uuid4().hex[:6]}",
            "platform": PLATFORM,
            "action": "invite",
            "destination": "@load_test",
            "account_ids": self.account_ids,
        }
        created = self._json("POST", f"{API}/tasks", "POST /tasks", json=body)
        if created is None:
            return None
        self.tasks_seen[created["id"]] = created["status"]
        return str(created["id"])

    def _control(self, task_id: str, action: str) -> None:
        out = self._json("POST", f"{API}/tasks/{task_id}/{action}", f"POST /tasks/{{id}}/{action}")
        if out is not None:
            self.tasks_seen[task_id] = out["status"]

    # --- the mix (weights: reads dominate, as in the UI) --------------------------------------------

    @task(4)
    def health(self) -> None:
        self._json("GET", "/health", "GET /health")

    @task(8)
    def list_tasks(self) -> None:
        self._json("GET", f"{API}/tasks", "GET /tasks", params={"limit": 20})

    @task(8)
    def status(self) -> None:
        if (task_id := self._pick()) is not None:
            out = self._json("GET", f"{API}/tasks/{task_id}/status", "GET /tasks/{id}/status")
            if out is not None:
                self.tasks_seen[task_id] = out["status"]

    @task(4)
    def stats(self) -> None:
        if (task_id := self._pick()) is not None:
            self._json("GET", f"{API}/tasks/{task_id}/stats", "GET /tasks/{id}/stats")

    @task(2)
    def event_stream(self) -> None:
        """Open the stream, read a few events (the snapshot first), close it; the first event's arrival
        is recorded as its own row."""
        if (task_id := self._pick()) is None:
            return
        name = "GET /tasks/{id}/events"
        start = time.perf_counter()
        first: float | None = None
        with self.client.get(
            f"{self.base}{API}/tasks/{task_id}/events",
            name=f"{name} (headers)",
            headers=self.headers,
            stream=True,
            catch_response=True,
            timeout=60,
        ) as resp:
            if resp.status_code != 200:
                if resp.status_code in EXPECTED_REFUSALS:
                    resp.success()
                else:
                    resp.failure(f"{resp.status_code}")
                return
            resp.success()
            lines = resp.iter_lines()
            with gevent.Timeout(FIRST_EVENT_SECONDS, False):
                for line in lines:
                    if line.startswith(b"event:"):
                        first = (time.perf_counter() - start) * 1000
                        break
            if first is not None:
                seen = 1
                with gevent.Timeout(EVENTS_READ_SECONDS, False):
                    for line in lines:
                        seen += 1 if line.startswith(b"event:") else 0
                        if seen >= EVENTS_READ:
                            break
            resp.close()
        self.environment.events.request.fire(
            request_type="SSE",
            name=f"{name} (first event)",
            response_time=first if first is not None else FIRST_EVENT_SECONDS * 1000,
            response_length=0,
            response=None,
            context={},
            exception=None if first is not None else RuntimeError(f"no event in {FIRST_EVENT_SECONDS:g} s"),
        )

    @task(2)
    def create(self) -> None:
        self._create()

    @task(2)
    def import_file(self) -> None:
        """A small CSV into a draft that has had none yet (a new draft when there is none)."""
        drafts = [t for t, s in self.tasks_seen.items() if s == "draft" and t not in self.imported]
        task_id = random.choice(drafts) if drafts else self._create()
        if task_id is None:
            return
        tag = uuid.uuid4().hex[:6]
        csv = "username,first_name\n" + "".join(
            f"ld{RUN}u{self.n:04d}i{tag}r{i:03d},Row {i}\n" for i in range(IMPORT_ROWS)
        )
        self.imported.add(task_id)
        self._json(
            "POST",
            f"{API}/import/file",
            "POST /import/file",
            data={"task_id": task_id},
            files={"file": ("load.csv", csv.encode(), "text/csv")},
        )

    @task(2)
    def start_or_resume(self) -> None:
        """Start a draft that was sent a file (422 while its import is still running), else resume."""
        ready = [t for t in self.imported if self.tasks_seen.get(t) == "draft"]
        if ready:
            self._control(random.choice(ready), "start")
        elif (task_id := self._pick("paused")) is not None:
            self._control(task_id, "resume")

    @task(2)
    def pause_running(self) -> None:
        if (task_id := self._pick("running", "scheduled")) is not None:
            self._control(task_id, "pause")
