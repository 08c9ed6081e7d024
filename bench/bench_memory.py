"""Measure the idle memory of a server: after start, and after a person's first
requests, with the heavy libraries it has loaded by then.

    python bench/bench_memory.py dist/lumilio/lumilio      the built binary
    python bench/bench_memory.py                           this checkout, from source

The program is started as `serve` on a fresh data folder and home, left idle, and its
resident memory read (the process and its children: a one-file build unpacks itself
in a parent). Then come the requests a browser makes on a first visit (the page, the
setup status, the first account, who am I, the timeline), and after the same idle
time the memory is read again. The libraries are those the process has mapped from
disk, by name: the ones the product loads only when some work needs them must not be
there yet. Linux only (it reads /proc). The README's figures come from here.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

from measure import tree_stats, wait_healthy  # noqa: E402

# Shared libraries by which the heavy Python packages show in a process's map.
HEAVY = {
    "onnxruntime": "onnxruntime_pybind11_state",
    "scipy": "scipy/",
    "scikit-learn": "sklearn/",
    "hdbscan": "hdbscan/",
    "tokenizers": "tokenizers",
    "PyAV (FFmpeg)": "libavcodec",
    "rawpy (LibRaw)": "libraw",
    "pydantic-core": "pydantic_core",
}
PASSWORD = "Correct-Horse-9"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", nargs="?", type=Path,
                        help="the built binary (default: python -m lumilio)")
    parser.add_argument("--idle", type=float, default=20.0,
                        help="seconds to leave the server idle before each reading")
    args = parser.parse_args()

    command = ([str(args.program.resolve())] if args.program
               else [sys.executable, "-m", "lumilio"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{memory_total_gib():.0f} GiB, {platform.platform()}, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"program: {' '.join(command)}")

    scratch = Path(tempfile.mkdtemp(prefix="lumilio-memory-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMILIO_")}
    env["HOME"] = str(scratch / "home")
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--data-dir", str(scratch / "data"),
         "--no-browser"],
        cwd=scratch if args.program else ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port, proc)
        report("after start", proc.pid, args.idle)
        first_visit(f"http://127.0.0.1:{port}")
        report("after the first requests", proc.pid, args.idle)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(scratch, ignore_errors=True)


def first_visit(base: str) -> None:
    """What the browser asks on a person's first visit, ending on the timeline."""
    # The server is on this machine: a proxy from the environment must not be asked.
    with httpx.Client(base_url=base, timeout=60, trust_env=False) as client:
        client.get("/").raise_for_status()
        client.get("/api/v1/setup/status").raise_for_status()
        client.post("/api/v1/setup", json={})
        account = client.post("/api/v1/auth/register/start",
                              json={"username": "alice", "password": PASSWORD})
        account.raise_for_status()
        client.headers["Authorization"] = f"Bearer {account.json()['token']}"
        client.get("/api/v1/auth/me").raise_for_status()
        client.post("/api/v1/assets/list", json={
            "pagination": {"limit": 100, "offset": 0}}).raise_for_status()


def report(label: str, pid: int, idle: float) -> None:
    time.sleep(idle)
    rss = tree_stats(pid)[1]
    loaded = [name for name, mark in HEAVY.items() if mapped(pid, mark)]
    print(f"idle memory {label} (+{idle:.0f} s idle): {rss / 2**20:.0f} MiB resident; "
          f"heavy libraries loaded: {', '.join(loaded) or 'none'}")


def mapped(pid: int, mark: str) -> bool:
    """Whether the process or one of its children maps a file whose path has
    `mark`; a one-file build runs the server as a child of its unpacker."""
    for task in [pid, *children(pid)]:
        try:
            if mark in Path(f"/proc/{task}/maps").read_text():
                return True
        except OSError:
            continue
    return False


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def memory_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
