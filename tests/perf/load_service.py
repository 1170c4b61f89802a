"""Load benchmark of the real decision service (a script, not collected by pytest).

Starts `python -m policylang.cli serve DIR --port P [--workers N]` on loopback over a
copy of policies/retail.policy (with its schema and test file), waits for /readyz, then
for each worker count:

1. single decisions: C concurrent clients (asyncio + one keep-alive httpx.AsyncClient
   each) post /v1/decide for T seconds; decisions/s, p50/p99 latency, errors;
2. batches: one client posts /v1/decide/batch with 1,000 loans, B times in a row;
   median/p99 latency per batch, errors (a failed item counts as an error).

It also reports the server's own CPU time per single decision (its processes' user and
system time from /proc, Linux only): when the load generator saturates a core first,
that says what the server would do with a core to itself.

The load generator runs on the same machine as the server and shares its cores: the
figures are what one box does as client and server at once, not the server alone.

    .venv/bin/python tests/perf/load_service.py                 # C=16, T=10, workers 1 and 2
    .venv/bin/python tests/perf/load_service.py --clients 8 --seconds 5 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loans import generate_loans

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILES = ("retail.policy", "collection.schema.yaml", "retail.test.yaml")
MAX_CLIENTS, MAX_SECONDS, MAX_BATCHES = 64, 60, 200
TARGETS = {"single_per_s": 2000, "single_p99_ms": 20, "batch_ms": 50}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


@contextmanager
def running_server(workers: int) -> Iterator[tuple[str, int]]:
    """The service on a free loopback port over a temp copy of retail.policy; its URL
    and process id."""
    with tempfile.TemporaryDirectory(prefix="policylang-load-") as folder:
        for name in POLICY_FILES:
            shutil.copy(ROOT / "policies" / name, Path(folder) / name)
        port = _free_port()
        command = [sys.executable, "-m", "policylang.cli", "serve", folder,
                   "--port", str(port), "--workers", str(workers)]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, process)
            yield url, process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}) before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server was not ready within 30 s")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its children (uvicorn's workers),
    from /proc; 0.0 where /proc is missing."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _client(url: str, loans: list[dict[str, Any]], start: int, until: float,
                  *, latencies: list[float], errors: list[str]) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
        index = start
        while time.perf_counter() < until:
            body = {"policy": "retail", "facts": loans[index % len(loans)]}
            index += 1
            began = time.perf_counter()
            try:
                response = await client.post("/v1/decide", json=body)
                ok = response.status_code == 200
            except httpx.HTTPError as error:
                ok, response = False, error
            latencies.append(time.perf_counter() - began)
            if not ok:
                errors.append(str(getattr(response, "status_code", response)))


async def single_load(url: str, pid: int, clients: int, seconds: float,
                      loans: list[dict[str, Any]]) -> dict[str, Any]:
    """C clients for T seconds after a 1 s warm-up; every request's latency."""
    warm: list[float] = []
    await asyncio.gather(*(_client(url, loans, i * 997, time.perf_counter() + 1,
                                   latencies=warm, errors=[])
                           for i in range(clients)))
    cpu = server_cpu_seconds(pid)
    latencies: list[float] = []
    errors: list[str] = []
    began = time.perf_counter()
    until = began + seconds
    await asyncio.gather(*(_client(url, loans, i * 997, until, latencies=latencies,
                                   errors=errors)
                           for i in range(clients)))
    elapsed = time.perf_counter() - began
    cpu = server_cpu_seconds(pid) - cpu
    return {"requests": len(latencies), "per_s": len(latencies) / elapsed,
            "server_cpu_ms": cpu * 1000 / max(1, len(latencies)),
            "p50_ms": _percentile(latencies, 0.50) * 1000,
            "p99_ms": _percentile(latencies, 0.99) * 1000, "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5]}


def batch_load(url: str, batches: int, size: int,
               loans: list[dict[str, Any]]) -> dict[str, Any]:
    """`batches` sequential batches of `size` loans (two warm-up batches first)."""
    latencies: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        for number in range(batches + 2):
            first = (number * size) % len(loans)
            items = (loans + loans)[first:first + size]
            began = time.perf_counter()
            response = client.post("/v1/decide/batch", json={"policy": "retail",
                                                             "items": items})
            seconds = time.perf_counter() - began
            if number < 2:
                continue
            latencies.append(seconds)
            if response.status_code != 200:
                errors += 1
            else:
                errors += sum(1 for r in response.json()["results"] if "error" in r)
    return {"batches": batches, "size": size,
            "median_ms": statistics.median(latencies) * 1000,
            "p99_ms": _percentile(latencies, 0.99) * 1000, "errors": errors}


def _report(workers: int, single: dict[str, Any], batch: dict[str, Any]) -> None:
    single_ok = (single["per_s"] >= TARGETS["single_per_s"] and single["errors"] == 0
                 and single["p99_ms"] < TARGETS["single_p99_ms"])
    batch_ok = batch["median_ms"] < TARGETS["batch_ms"] and batch["errors"] == 0
    print(f"workers={workers}")
    print(f"  single: {single['per_s']:,.0f} decisions/s over {single['requests']:,} "
          f"requests, p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms, "
          f"errors {single['errors']} {single['error_kinds'] or ''}"
          f" -> target {'met' if single_ok else 'MISSED'}")
    if single["server_cpu_ms"]:
        print(f"  server CPU per single decision: {single['server_cpu_ms']:.2f} ms "
              f"(about {1000 / single['server_cpu_ms']:,.0f}/s per fully busy core)")
    print(f"  batch of {batch['size']:,}: median {batch['median_ms']:.1f} ms, "
          f"p99 {batch['p99_ms']:.1f} ms over {batch['batches']} batches, "
          f"errors {batch['errors']} -> target {'met' if batch_ok else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help=f"at most {MAX_CLIENTS}")
    parser.add_argument("--seconds", type=float, default=10, help=f"at most {MAX_SECONDS}")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, default=30, help=f"at most {MAX_BATCHES}")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, MAX_CLIENTS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    batches = max(1, min(args.batches, MAX_BATCHES))
    loans = generate_loans(max(5000, args.batch_size))
    print(f"{os.cpu_count()} CPU(s), shared by the load generator and the server; "
          f"C={clients} clients, T={seconds:g} s, policy retail; load average before "
          f"{os.getloadavg()[0]:.2f} (other processes compete for the same cores)")
    for workers in args.workers:
        with running_server(workers) as (url, pid):
            single = asyncio.run(single_load(url, pid, clients, seconds, loans))
            batch = batch_load(url, batches, args.batch_size, loans)
        _report(workers, single, batch)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
