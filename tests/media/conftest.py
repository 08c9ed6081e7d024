"""Fixtures for the media tests: the shared corpus, its manifest, and both readers."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lumilio.media import metadata
from lumilio.media.metadata import MetadataReader


def shared_root() -> Path:
    configured = os.environ.get("LUMILIO_SHARED")
    if configured:
        return Path(configured)
    # tests/media/ -> repository root -> the folder beside it
    return Path(__file__).resolve().parents[2].parent / "shared"


SHARED = shared_root()
MEDIA = SHARED / "media"


def manifest_rows() -> list[dict[str, str]]:
    if not (MEDIA / "MANIFEST.tsv").exists():
        return []
    with open(MEDIA / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`manifest_row`: each corpus file with a MIME; `edge_file`: each edge/ file."""
    rows = manifest_rows()
    if "manifest_row" in metafunc.fixturenames:
        readable = [row for row in rows if row["mime"]]
        metafunc.parametrize(
            "manifest_row", readable, ids=[r["path"] for r in readable]
        )
    if "edge_file" in metafunc.fixturenames:
        edges = sorted(row["path"] for row in rows if row["path"].startswith("edge/"))
        metafunc.parametrize("edge_file", edges)


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.fail(f"the shared media corpus is missing at {MEDIA}")
    return MEDIA


@pytest.fixture(scope="session")
def exiftool_reader() -> Iterator[MetadataReader]:
    if metadata.find_exiftool() is None:
        pytest.fail("exiftool is not installed; the exiftool reader cannot be tested")
    reader = MetadataReader()
    yield reader
    reader.close()


@pytest.fixture(scope="session")
def fallback_reader() -> Iterator[MetadataReader]:
    reader = MetadataReader(use_exiftool=False)
    yield reader


@pytest.fixture(scope="session", params=["exiftool", "fallback"])
def any_reader(
    request: pytest.FixtureRequest,
) -> MetadataReader:
    return request.getfixturevalue(f"{request.param}_reader")


@pytest.fixture
def copy_of(tmp_path: Path, media: Path):
    """Copy a corpus file into the test's folder, optionally under a new name."""

    def copy(relative: str, name: str | None = None) -> Path:
        target = tmp_path / (name or Path(relative).name)
        shutil.copyfile(media / relative, target)
        return target

    return copy
