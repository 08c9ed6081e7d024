"""The exiftool process: restart after death, no hang, fallback when missing.

A stand-in exiftool (a small script speaking exiftool's -stay_open protocol) plays
the misbehaving program; it is the only fake, at the edge of the world.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from lumilio.media import metadata
from lumilio.media.errors import MediaError
from lumilio.media.kinds import sniff
from lumilio.media.metadata import MetadataReader

STAND_IN = """\
import os, sys, time
mode = os.environ["STAND_IN_MODE"]
block = []
for line in sys.stdin:
    line = line.rstrip("\\n")
    if not line.startswith("-execute"):
        block.append(line)
        continue
    number = line[len("-execute"):]
    echo = block[block.index("-echo4") + 1] if "-echo4" in block else ""
    if "-ver" in block:
        sys.stdout.write("12.57\\n")
    elif mode == "die":
        sys.exit(3)
    elif mode == "hang":
        time.sleep(600)
    sys.stdout.write("{ready%s}\\n" % number)
    sys.stdout.flush()
    sys.stderr.write(echo.replace("${status}", "0") + "\\n")
    sys.stderr.flush()
    block = []
"""


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    script = tmp_path / "exiftool"
    script.write_text(f"#!{sys.executable}\n{STAND_IN}")
    script.chmod(0o755)
    return script


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["die", "hang"])
def test_exiftool_that_dies_or_hangs_is_restarted_once_then_reported(
    stand_in: Path, media: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("STAND_IN_MODE", mode)
    path = media / "jpeg/Canon_40D.jpg"

    with MetadataReader(exiftool_path=str(stand_in), timeout_s=1.0) as reader:
        started = time.monotonic()
        with pytest.raises(MediaError, match="exiftool failed on this file twice"):
            reader.read(path, sniff(path))
        elapsed = time.monotonic() - started
        starts = reader.exiftool.starts if reader.exiftool else 0

    assert starts == 2
    assert elapsed < 10


def test_reader_recovers_after_exiftool_was_killed(media: Path) -> None:
    path = media / "jpeg/Canon_40D.jpg"

    with MetadataReader() as reader:
        first = reader.read(path, sniff(path))
        assert reader.exiftool is not None and reader.exiftool.pid is not None
        os.kill(reader.exiftool.pid, signal.SIGKILL)  # the process this test started
        time.sleep(0.2)
        second = reader.read(path, sniff(path))
        starts = reader.exiftool.starts

    assert second.taken_time == first.taken_time
    assert starts == 2


def test_missing_exiftool_falls_back_and_says_so_once(
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(metadata.EXIFTOOL_ENV, str(tmp_path / "no-such-exiftool"))
    monkeypatch.setattr(metadata, "_fallback_announced", threading.Event())
    path = media / "livephoto/train.jpg"

    with caplog.at_level(logging.WARNING, logger=metadata.__name__):
        first, second = MetadataReader(), MetadataReader()
        info = first.read(path, sniff(path))
        second.read(path, sniff(path))

    assert not first.uses_exiftool
    assert info.capture_offset_minutes == 60
    assert info.gps == pytest.approx((52.2096778, -0.8955306), abs=1e-6)
    announcements = [r for r in caplog.records if "falls back" in r.getMessage()]
    assert len(announcements) == 1


def test_exiftool_named_by_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, stand_in: Path
) -> None:
    monkeypatch.setenv(metadata.EXIFTOOL_ENV, str(stand_in))

    assert metadata.find_exiftool() == str(stand_in)
