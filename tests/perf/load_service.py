"""Load benchmark of the real decision service (a script, not collected by pytest).

Starts `python -m policylang.cli serve DIR --port P [--workers N]` on loopback over a
copy of policies/retail.policy (with its schema and test file), waits for /readyz, then
for each worker count:

1. single decisions: C concurrent keep-alive connections post /v1/decide for T seconds
   after a 1 s warm-up; decisions/s, p50/p99 latency, errors (a non-2xx answer or a
   socket error). The load comes from `wrk` (a C load generator, Debian's package;
   `make bench-service` installs it) driven by a Lua script that cycles through
   pre-encoded request bodies; where wrk is missing, from C asyncio clients with one
   keep-alive httpx.AsyncClient each (`--generator python`), which holds a whole core
   of its own and so caps what it can show on a 2-core machine;
2. batches: one client posts /v1/decide/batch with 1,000 loans, B times in a row, each
   body encoded before its clock starts and the answer decoded after it stops;
   median/p99 latency per batch, errors (a failed item counts as an error).

It also reports the server's own CPU time per single decision (its processes' user and
system time from /proc, Linux only): when the load generator saturates a core first,
that says what the server would do with a core to itself.

The load generator runs on the same machine as the server and shares its cores: the
figures are what one box does as client and server at once, not the server alone.

    .venv/bin/python tests/perf/load_service.py                 # C=16, T=10, workers 1 and 2
    .venv/bin/python tests/perf/load_service.py --clients 8 --seconds 5 --workers 1
    .venv/bin/python tests/perf/load_service.py --generator python --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
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
MAX_CLIENTS, MAX_SECONDS, MAX_BATCHES, MAX_REPEATS = 64, 60, 200, 9
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
        shutil.copytree(ROOT / "policies" / "guards", Path(folder) / "guards")  # its guards line
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


async def python_single_load(url: str, pid: int, clients: int, seconds: float,
                             loans: list[dict[str, Any]]) -> dict[str, Any]:
    """C asyncio clients for T seconds after a 1 s warm-up; every request's latency."""
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


# wrk calls `request` for every request it sends and `done` once at the end; `done`
# prints one JSON line that wrk_single_load reads (latencies in microseconds).
WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("POLICYLANG_BODIES")) do bodies[#bodies + 1] = line end
local next_body = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, "/v1/decide", nil, bodies[next_body])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_single_load(url: str, pid: int, clients: int, seconds: float,
                    loans: list[dict[str, Any]]) -> dict[str, Any]:
    """`wrk` with one thread and C connections for T seconds after a 1 s warm-up."""
    with tempfile.TemporaryDirectory(prefix="policylang-wrk-") as folder:
        bodies, script = Path(folder) / "bodies.jsonl", Path(folder) / "decide.lua"
        bodies.write_text("".join(json.dumps({"policy": "retail", "facts": loan},
                                             separators=(",", ":")) + "\n"
                                  for loan in loans[:2000]))
        script.write_text(WRK_SCRIPT)
        env = {**os.environ, "POLICYLANG_BODIES": str(bodies)}

        def run(duration: float) -> dict[str, Any]:
            done = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{duration:g}s",
                                   "--timeout", "10s", "-s", str(script), url],
                                  capture_output=True, text=True, env=env, check=True)
            found = re.search(r"^RESULT (\{.*\})$", done.stdout, re.MULTILINE)
            if found is None:
                raise SystemExit(f"wrk printed no result:\n{done.stdout}{done.stderr}")
            return json.loads(found.group(1))  # type: ignore[no-any-return]

        run(1)
        cpu = server_cpu_seconds(pid)
        result = run(seconds)
        cpu = server_cpu_seconds(pid) - cpu
    requests = result["requests"]
    kinds = [kind for kind in ("connect", "read", "write", "status", "timeout")
             if result[kind]]
    return {"requests": requests, "per_s": requests / (result["duration_us"] / 1e6),
            "server_cpu_ms": cpu * 1000 / max(1, requests),
            "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "errors": sum(result[kind] for kind in kinds), "error_kinds": kinds}


def single_load(generator: str, url: str, pid: int, clients: int, seconds: float, *,
                loans: list[dict[str, Any]]) -> dict[str, Any]:
    if generator == "wrk":
        return wrk_single_load(url, pid, clients, seconds, loans)
    return asyncio.run(python_single_load(url, pid, clients, seconds, loans))


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over repeated runs (errors: their sum), with the range
    of decisions/s."""
    rates = [run["per_s"] for run in runs]
    return {"requests": sum(run["requests"] for run in runs),
            "per_s": statistics.median(rates), "per_s_range": (min(rates), max(rates)),
            "server_cpu_ms": statistics.median(run["server_cpu_ms"] for run in runs),
            "p50_ms": statistics.median(run["p50_ms"] for run in runs),
            "p99_ms": statistics.median(run["p99_ms"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
            "error_kinds": sorted({k for run in runs for k in run["error_kinds"]}),
            "repeats": len(runs)}


def batch_load(url: str, batches: int, size: int,
               loans: list[dict[str, Any]]) -> dict[str, Any]:
    """`batches` sequential batches of `size` loans (two warm-up batches first). Only the
    round trip is timed: each body is encoded before, and each answer decoded after."""
    latencies: list[float] = []
    errors = 0
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=url, timeout=30) as client:
        for number in range(batches + 2):
            first = (number * size) % len(loans)
            items = (loans + loans)[first:first + size]
            body = json.dumps({"policy": "retail", "items": items}).encode()
            began = time.perf_counter()
            response = client.post("/v1/decide/batch", content=body, headers=headers)
            response.read()
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
    low, high = single["per_s_range"]
    print(f"workers={workers}")
    print(f"  single: {single['per_s']:,.0f} decisions/s (median of {single['repeats']}, "
          f"{low:,.0f}-{high:,.0f}) over {single['requests']:,} requests, "
          f"p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms, "
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
    parser.add_argument("--repeats", type=int, default=3,
                        help=f"single-decision runs per worker count, at most {MAX_REPEATS}")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, default=30, help=f"at most {MAX_BATCHES}")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--generator", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="what sends the single decisions (default: wrk when installed)")
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, MAX_CLIENTS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    repeats = max(1, min(args.repeats, MAX_REPEATS))
    batches = max(1, min(args.batches, MAX_BATCHES))
    if args.generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `make bench-service` installs it, or use "
                         "--generator python")
    loans = generate_loans(max(5000, args.batch_size))
    print(f"{os.cpu_count()} CPU(s), shared by the load generator ({args.generator}) and "
          f"the server; C={clients} connections, T={seconds:g} s x {repeats}, policy "
          f"retail; load average before {os.getloadavg()[0]:.2f} (other processes "
          f"compete for the same cores)")
    rates = {}
    for workers in args.workers:
        with running_server(workers) as (url, pid):
            single = median_run([single_load(args.generator, url, pid, clients, seconds,
                                             loans=loans) for _ in range(repeats)])
            batch = batch_load(url, batches, args.batch_size, loans)
        _report(workers, single, batch)
        rates[workers] = single["per_s"]
    if len(rates) > 1:
        base = min(rates)
        print("single decisions/s relative to " f"{base} worker(s): " + ", ".join(
            f"{w} workers {rate / rates[base]:.2f}x" for w, rate in rates.items()))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
