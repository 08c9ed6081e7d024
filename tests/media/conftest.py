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


MEDIA = shared_root() / "media"


def manifest_rows() -> list[dict[str, str]]:
    with open(MEDIA / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = manifest_rows() if (MEDIA / "MANIFEST.tsv").exists() else []


def row_id(row: dict[str, str]) -> str:
    return row["path"]


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
def copy_of(tmp_path: Path, media: Path):  # noqa: ANN201
    """Copy a corpus file into the test's folder, optionally under a new name."""

    def copy(relative: str, name: str | None = None) -> Path:
        target = tmp_path / (name or Path(relative).name)
        shutil.copyfile(media / relative, target)
        return target

    return copy
