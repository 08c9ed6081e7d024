"""Fixtures shared by the whole suite; the helpers themselves live in serverkit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules in sub-folders import the kit by name too.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serverkit import MEDIA, Server  # noqa: E402

if not (MEDIA / "MANIFEST.tsv").is_file():
    pytest.exit(f"the shared media corpus is not at {MEDIA}: put it there or set "
                "LUMILIO_SHARED to the folder that holds media/", returncode=4)


@pytest.fixture
def make_server(tmp_path):
    servers: list[Server] = []

    def make(libraries=(), data_dir: Path | None = None, **env) -> Server:
        server = Server(data_dir or tmp_path / f"data{len(servers)}", libraries, env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server) -> Server:
    """A started server with a signed-in first user (an admin)."""
    srv = make_server().start()
    srv.sign_up()
    return srv
