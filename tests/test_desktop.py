"""The double-click start's parts that need no build: port choice, the remembered
library folder, the one-server-per-data-folder lock, the exiftool choice."""

from __future__ import annotations

import json
import socket

from lumilio import config, desktop, frozen, instance


def test_a_taken_port_is_replaced_by_the_next_free_one():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        chosen = desktop.choose_port("127.0.0.1", port)
    assert chosen != port
    with socket.create_server(("127.0.0.1", chosen)):
        pass


def test_the_first_start_remembers_the_pictures_folder(tmp_path, monkeypatch):
    # A name with what TOML must escape: quotes, a backslash, accents.
    pictures = tmp_path / 'Bilder "mine" \\ été'
    monkeypatch.setattr(desktop.platformdirs, "user_pictures_dir",
                        lambda: str(pictures))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / config.CONFIG_FILE).write_text("workers = 2")
    cfg = config.load({"data_dir": data_dir}, environ={})

    desktop._keep_library_in_pictures(cfg)

    again = config.load({"data_dir": data_dir}, environ={})
    assert again.storage_root == pictures / desktop.PICTURES_SUBFOLDER
    assert again.sources["storage_root"] == config.CONFIG_FILE
    assert again.workers == 2


def test_a_chosen_library_folder_is_left_alone(tmp_path):
    cfg = config.load({"data_dir": tmp_path}, environ={
        "LUMILIO_STORAGE_ROOT": str(tmp_path / "mine")})
    desktop._keep_library_in_pictures(cfg)
    assert cfg.storage_root == tmp_path / "mine"
    assert not (tmp_path / config.CONFIG_FILE).exists()


def test_one_server_per_data_folder(tmp_path):
    first = instance.InstanceLock(tmp_path)
    assert first.acquire()
    first.publish("http://localhost:1")
    assert not instance.InstanceLock(tmp_path).acquire()
    assert json.loads((tmp_path / instance.NOTE_FILE).read_text())["url"] == \
        "http://localhost:1"
    # Nothing answers there, so the running server is reported as not answering.
    assert instance.running_url(tmp_path, wait_s=0) is None

    first.release()
    assert not (tmp_path / instance.NOTE_FILE).exists()
    assert instance.InstanceLock(tmp_path).acquire()


def test_outside_the_build_exiftool_comes_from_the_path_or_the_setting(tmp_path):
    assert not frozen.is_frozen()
    missing = frozen.choose_exiftool(str(tmp_path / "no-exiftool"))
    assert missing.path is None
    assert missing.summary.startswith("built-in fallback (")
