"""`make bench`: every benchmark in turn, each printing ratios to a baseline from the same run."""

from __future__ import annotations

import importlib

BENCHES = [
    "bench.api_list",
    "bench.limiter",
    "bench.engine",
    "bench.send_cpu",
    "bench.imports",
    "bench.materialise",
    "bench.stats",
    "bench.integration_overhead",
    "bench.retention_size",
    "bench.webhook_throughput",
    "bench.ticks",
]

if __name__ == "__main__":
    for name in BENCHES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            print(f"\n[{name}] not present")
            continue
        module.main()
