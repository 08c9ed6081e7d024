"""Measure a built binary: size, start to a healthy server, memory when idle.

    python packaging/measure.py dist/lumilio/lumilio --runs 5

Each run starts `serve` on a fresh data folder and home, as the first start of a
new user does, and times it until `/api/v1/health` answers, in wall-clock seconds
and in CPU seconds used by then (the second hardly moves when other programs load
the machine). A cold run first drops the program's files from the page cache (as
after a reboot or a fresh download); a warm run follows at once. After the last
run the server is left idle and its memory (resident set of the process and its
children) is read. Linux only: it reads /proc and uses posix_fadvise. The figures
in the README come from here; tests never assert timings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# The server is on this machine: a proxy from the environment must not be asked.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=20.0,
                        help="seconds to leave the server idle before reading "
                             "its memory")
    args = parser.parse_args()

    program = args.program.resolve()
    files = program_files(program)
    print(f"files: {len(files)}, {sum(f.stat().st_size for f in files) / 2**20:.0f} "
          f"MiB on disk (symbolic links not counted)")

    cold, warm = [], []
    for _ in range(args.runs):
        drop_from_page_cache(files)
        cold.append(start_and_stop(program))
        warm.append(start_and_stop(program))
    for label, runs in (("cold", cold), ("warm", warm)):
        walls = [r.wall_s for r in runs]
        print(f"start to healthy, {label}: median {statistics.median(walls):.2f} s "
              f"wall (runs: {', '.join(f'{t:.2f}' for t in walls)}), "
              f"{statistics.median(r.cpu_s for r in runs):.2f} s CPU")
    idle = start_and_stop(program, idle=args.idle)
    print(f"idle memory after {args.idle:.0f} s: {idle.rss / 2**20:.0f} MiB resident")


def program_files(program: Path) -> list[Path]:
    """The program and, for a one-folder build, everything beside it."""
    internal = program.parent / "_internal"
    if not internal.is_dir():
        return [program]
    return [program] + [p for p in internal.rglob("*")
                        if p.is_file() and not p.is_symlink()]


def drop_from_page_cache(files: list[Path]) -> None:
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    rss: int = 0


def start_and_stop(program: Path, idle: float = 0.0) -> Run:
    """One start to healthy; with `idle`, also the memory after idling that long."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scratch = Path(tempfile.mkdtemp(prefix="lumilio-measure-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMILIO_")}
    env["HOME"] = str(scratch / "home")

    started = time.monotonic()
    proc = subprocess.Popen(
        [str(program), "serve", "--port", str(port), "--data-dir",
         str(scratch / "data"), "--no-browser"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run = Run(wait_healthy(port, proc) - started, tree_stats(proc.pid)[0])
        if idle:
            time.sleep(idle)
            run.rss = tree_stats(proc.pid)[1]
        return run
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(scratch, ignore_errors=True)


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 120) -> float:
    url = f"http://127.0.0.1:{port}/api/v1/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the program exited with {proc.returncode}")
        try:
            with _DIRECT.open(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic()
        except OSError:
            time.sleep(0.02)
    raise SystemExit("the server never became healthy")


def tree_stats(pid: int) -> tuple[float, int]:
    """CPU seconds and resident bytes of a process and all its descendants (a
    one-file build runs as a small unpacking parent and the program as its child)."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # Fields after the parenthesised name: state, ppid, ... (proc(5)).
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(
                    ")", 1)[1].split()
            except OSError:
                continue
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(child)

    ticks = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    cpu, rss, todo = 0.0, 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        fields = stats.get(current)
        if fields:
            # utime and stime are fields 14 and 15, rss 24 (counted from 1).
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            rss += int(fields[21]) * page
    return cpu, rss


if __name__ == "__main__":
    main()
