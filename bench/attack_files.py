"""Hostile import files against a real server: what each costs the process that reads it.

Each attack file (``tests/security/attack_files.py``) is sent to ``POST /api/v1/import/validate`` of a
fresh ``invite-service serve`` (SQLite, embedded), one server per file so the memory figure is that
file's. Printed per file: the answer, the server's CPU seconds over the request (``/proc/<pid>/stat``
utime+stime, every thread), its peak RSS (VmHWM) against its idle RSS, and the p99 and worst of a
concurrent client's ``/health`` latency while the request ran.

Run: ``python -m bench.attack_files`` (``ATTACKS=lying.xlsx,commas.csv`` picks files). Not in ``make bench``:
it prints absolute figures, not ratios to a baseline of the same run.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.security import attack_files as attack
from tests.security.server import HealthProbe, serve

from invite_service.migrations import runner

ATTACKS: list[tuple[str, str, Callable[[], bytes]]] = [
    ("xlsx, <dimension> A1:XFD100000, 3 real rows", "lying.xlsx", attack.lying_dimension_xlsx),
    ("xlsx, a cell in column XFD on 100,000 rows", "far.xlsx", lambda: attack.far_cells_xlsx(100_000)),
    (
        "xlsx, no <dimension>, 5,000,000 empty rows",
        "unsized.xlsx",
        lambda: attack.unsized_rows_xlsx(5_000_000),
    ),
    ("xlsx, 430 MB shared-strings part", "strings.xlsx", lambda: attack.shared_strings_xlsx(430 * 2**20)),
    ("csv, 5 MB header of commas", "commas.csv", attack.comma_header_csv),
    ("csv, 8,000 columns normalising to one name", "same.csv", attack.same_name_columns_csv),
    ("ndjson, one object with 10^6 keys", "keys.ndjson", attack.ndjson_many_keys),
    ("json, an array nested 100,000 deep", "deep.json", attack.deep_json_array),
    ("ndjson, a line nested 100,000 deep", "deep.ndjson", attack.deep_ndjson),
]
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def memory_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_one(work: Path, title: str, filename: str, content: bytes) -> None:
    url = f"sqlite+aiosqlite:///{work / filename}.db"
    runner.upgrade(url)
    with serve(url, work / f"srv-{filename}", log_level="WARNING") as srv, srv.client(timeout=600) as http:
        idle = memory_mib(srv.pid, "VmRSS")
        cpu_before = cpu_seconds(srv.pid)
        started = time.monotonic()
        with HealthProbe(srv.base_url) as probe:
            resp = http.post(
                "/api/v1/import/validate", headers=srv.headers(), files={"file": (filename, content)}
            )
            # The answer may come before the work stops (a thread still reading): wait for the CPU to settle.
            settle = cpu_seconds(srv.pid)
            while True:
                probe._stop.wait(0.5)
                now = cpu_seconds(srv.pid)
                if now - settle < 0.1:
                    break
                settle = now
        wall = time.monotonic() - started
        cpu = cpu_seconds(srv.pid) - cpu_before
        peak = memory_mib(srv.pid, "VmHWM")
        code = resp.json().get("code", "") if resp.headers.get("content-type", "").endswith("json") else ""
        print(
            f"  {title:<46} {len(content) / 2**20:7.2f} MiB -> {resp.status_code} {code or '':<18} "
            f"cpu {cpu:6.2f} s  wall {wall:6.2f} s  rss peak {peak:6.0f} MiB (idle {idle:4.0f})  "
            f"/health p99 {probe.p99():6.3f} s worst {probe.worst:6.3f} s  failures {probe.failures}"
        )


def main() -> None:
    only = set(filter(None, os.environ.get("ATTACKS", "").split(",")))
    print("\n[attack files] POST /api/v1/import/validate, one fresh server (SQLite) per file")
    with tempfile.TemporaryDirectory(prefix="files-bench-") as tmp:
        for title, filename, build in ATTACKS:
            if only and filename not in only:
                continue
            run_one(Path(tmp), title, filename, build())


if __name__ == "__main__":
    main()
