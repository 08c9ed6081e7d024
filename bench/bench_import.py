"""Import benchmark: a fresh server imports at least 1,000 photos from a folder.

The photos are the JPEG, HEIC and PNG/WebP files of the shared media corpus, copied
under distinct names until the count is reached (each copy gets one changed byte in
a trailing comment so that every file has its own content hash). Reports photos per
second, MB per second and the server's peak resident memory.

    python bench/bench_import.py [--count 1000] [--workers 0] [--only-jpeg]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import MEDIA, Server  # noqa: E402


def build_corpus(target: Path, count: int, only_jpeg: bool) -> int:
    patterns = ["jpeg/*.jpg", "jpeg/*.JPG", "jpeg/*.jpeg"]
    if not only_jpeg:
        patterns += ["heic/*.heic", "heic/*.HEIC", "png-webp-gif/*.png",
                     "png-webp-gif/*.webp"]
    sources = sorted({p for pat in patterns for p in MEDIA.glob(pat)})
    total = 0
    for i in range(count):
        src = sources[i % len(sources)]
        dst = target / f"set{i // len(sources):03d}" / f"{i:05d}_{src.name}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        data = src.read_bytes()
        if i >= len(sources):
            # A unique tail keeps hashes distinct; decoders ignore bytes after EOF.
            data += f"lumilio-bench-{i}".encode()
        dst.write_bytes(data)
        total += len(data)
    return total


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--only-jpeg", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lumilio-bench-"))
    try:
        library = work / "library"
        size = build_corpus(library, args.count, args.only_jpeg)
        env = {"LUMILIO_WATCH": "false"}
        if args.workers:
            env["LUMILIO_WORKERS"] = str(args.workers)
        server = Server(work / "data", [library], env)

        started = time.monotonic()
        server.start()
        server.sign_up()
        count = server.wait_idle(timeout=3600, settle=2)
        elapsed = time.monotonic() - started - 1.0  # wait_idle's settling checks
        rss = peak_rss_mb(server.proc.pid)
        failed = sum(1 for a in server.assets() if a["processing"]["state"] == "failed")
        server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"imported {count} files ({failed} failed), {size / 1e6:.0f} MB "
          f"in {elapsed:.1f} s")
    print(f"{count / elapsed:.1f} photos/s, {size / 1e6 / elapsed:.1f} MB/s, "
          f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
