"""Measure recognition: per-photo time of each task, k-NN search at 100,000 vectors,
and resident memory with every model loaded and after they unload.

Usage: python bench/bench_recognition.py [--repeat N] [--vectors N] [--media FOLDER]
       [--arena]

Photos are those of shared/media/ml, scaled to the large thumbnail size (longest side
1920) as the pipeline sees them. Memory is the process's resident set (VmRSS), read
in a fresh process so that nothing else inflates it; `--arena` turns onnxruntime's
CPU memory arena on, to compare. The machine and its load are printed first:
timings on a shared machine under load are upper bounds.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lumilio.catalog import vectors  # noqa: E402
from lumilio.catalog.db import Catalog  # noqa: E402
from lumilio.ml import manifest  # noqa: E402
from lumilio.ml.registry import Models  # noqa: E402
from lumilio.ml.runtime import Runtime  # noqa: E402

LARGE = 1920


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def release_heap() -> None:
    """Give freed memory back to the system, as a long-running server would."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def photos(media: Path) -> list[tuple[str, Image.Image]]:
    out = []
    for path in sorted((media / "ml").glob("*.*")):
        if path.suffix.lower() not in (".png", ".jpg"):
            continue
        image = Image.open(path).convert("RGB")
        scale = LARGE / max(image.size)
        if scale < 1:
            image = image.resize((round(image.width * scale),
                                  round(image.height * scale)))
        out.append((path.name, image))
    return out


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench_tasks(models: Models, images, repeat: int) -> None:
    faces, reader, tagger = models.faces(), models.reader(), models.tagger()
    embedder = models.embedder()
    # First use loads every model; it is timed apart.
    started = time.perf_counter()
    for _, image in images[:1]:
        found = faces.detect(image)
        faces.embed(image, found)
        reader.read(image)
        embedder.embed_asset(image, tagger.classify([image])[0], "")
    print(f"first use (loads all models): {time.perf_counter() - started:.2f} s")

    print(f"\nper photo, median of {repeat} (ms)")
    print(f"{'photo':20} {'size':>9} {'faces':>7} {'ocr':>7} {'labels':>7}"
          f" {'embed':>7}")
    columns: dict[str, list[float]] = {"faces": [], "ocr": [], "labels": [],
                                       "embed": []}
    for name, image in images:
        labels = tagger.classify([image])[0]
        row = {
            "faces": median_ms(lambda: faces.embed(image, faces.detect(image)),
                               repeat),
            "ocr": median_ms(lambda: reader.read(image), repeat),
            "labels": median_ms(lambda: tagger.classify([image]), repeat),
            "embed": median_ms(lambda: embedder.embed_asset(image, labels, ""),
                               repeat),
        }
        for key, value in row.items():
            columns[key].append(value)
        size = f"{image.width}x{image.height}"
        print(f"{name:20} {size:>9} {row['faces']:7.1f} {row['ocr']:7.1f}"
              f" {row['labels']:7.1f} {row['embed']:7.1f}")
    print(f"{'median':20} {'':>9} " + " ".join(
        f"{statistics.median(v):7.1f}" for v in columns.values()))
    query = median_ms(lambda: embedder.embed_text(["a cup of coffee"]), repeat)
    print(f"text query embedding: {query:.1f} ms")
    batch = [image for _, image in images]
    per = median_ms(lambda: tagger.classify(batch), repeat) / len(batch)
    print(f"labels in one batch of {len(batch)}: {per:.1f} ms per photo")


def bench_knn(count: int, dim: int, queries: int) -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((200, dim))
    data = centres[rng.integers(0, 200, count)] + 0.8 * rng.standard_normal(
        (count, dim))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    probes = data[rng.integers(0, count, queries)] + 0.05 * rng.standard_normal(
        (queries, dim)).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp) / "catalog.db")

        def fill(conn) -> None:
            vectors.create_table(conn, 1, dim)
            for i, v in enumerate(data, start=1):
                conn.execute("INSERT INTO vec_space_1 (rowid, embedding) VALUES (?,?)",
                             (i, v.tobytes()))

        started = time.perf_counter()
        catalog.write(fill)
        print(f"\n{count} vectors of {dim}-d written to sqlite-vec in "
              f"{time.perf_counter() - started:.1f} s")
        space = vectors.VectorSpace(catalog, 1, dim)
        started = time.perf_counter()
        space.index()
        print(f"in-memory index built in {time.perf_counter() - started:.2f} s")

        def brute(q):
            return catalog.all("SELECT rowid, distance FROM vec_space_1 WHERE"
                               " embedding MATCH ? AND k = 10", (q.tobytes(),))

        flat, quant, recall = [], [], []
        for q in probes:
            started = time.perf_counter()
            exact = {r["rowid"] for r in brute(q)}
            flat.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = space.search(q, 10)
            quant.append(time.perf_counter() - started)
            recall.append(len(exact & {r for r, _ in found}) / 10)
        catalog.close()
    print(f"k=10 over {count}: sqlite-vec float brute force median "
          f"{statistics.median(flat) * 1000:.1f} ms; quantised + re-rank median "
          f"{statistics.median(quant) * 1000:.1f} ms (p90 "
          f"{np.percentile(quant, 90) * 1000:.1f}), recall@10 {np.mean(recall):.2f}")


def bench_memory(arena: bool) -> None:
    """In this process: every model loaded and used once, then unloaded."""
    images = [image for _, image in photos(Path(os.environ["BENCH_MEDIA"]))]
    release_heap()
    base = rss_mb()
    runtime = Runtime(idle_seconds=0, memory_arena=arena)
    models = Models(manifest.bundled_dir(), Path(tempfile.gettempdir()), runtime)
    for image in images:
        faces = models.faces()
        faces.embed(image, faces.detect(image))
        models.reader().read(image)
        models.embedder().embed_asset(image, models.tagger().classify([image])[0],
                                      "")
    loaded = rss_mb()
    runtime.unload_all()
    release_heap()
    after = rss_mb()
    print(f"resident memory (arena {'on' if arena else 'off'}): before models "
          f"{base:.0f} MB, all {len(runtime.loaded()) or 6} models loaded "
          f"{loaded:.0f} MB, after unloading {after:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--media", type=Path, default=Path(os.environ.get(
        "LUMILIO_SHARED", ROOT.parent / "shared")) / "media")
    parser.add_argument("--arena", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_only:
        bench_memory(args.arena)
        return

    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    runtime = Runtime(idle_seconds=0, memory_arena=args.arena)
    print(f"onnxruntime on {runtime.providers[0]}, {runtime.threads} thread(s)")
    models = Models(manifest.bundled_dir(), Path(tempfile.gettempdir()), runtime)
    bench_tasks(models, photos(args.media), args.repeat)
    for dim in (384, 512):
        bench_knn(args.vectors, dim, queries=30)

    env = {**os.environ, "BENCH_MEDIA": str(args.media)}
    for arena in (False, True):
        cmd = [sys.executable, __file__, "--memory-only"] + (["--arena"] if arena
                                                             else [])
        print(subprocess.run(cmd, env=env, capture_output=True, text=True,
                             check=True).stdout.strip())


if __name__ == "__main__":
    main()
