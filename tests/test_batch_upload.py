"""Batch and chunked uploads through a running server: resume, verify, clean up."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import blake3
import httpx
import pytest
from serverkit import MEDIA, PASSWORD, Server
from two_users import assert_error

HEIC = MEDIA / "heic/IMG_2682.heic"
JPEG = MEDIA / "jpeg/Canon_40D.jpg"
TWO_DAYS = 2 * 24 * 3600
MEMORY_SLACK = 64 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("batch") / "data").start()
    server.sign_up()
    yield server
    server.stop()


def send(server: Server, fields: list[tuple[str, str, bytes]], token="default",
         content_hash: str | None = None, **kw) -> httpx.Response:
    files = [(field, (name, data)) for field, name, data in fields]
    headers = {"X-Content-Hash": content_hash} if content_hash else {}
    return server.request("POST", "/assets/batch", files=files, headers=headers,
                          token=token, **kw)


def pieces(data: bytes, count: int) -> list[bytes]:
    size = -(-len(data) // count)
    return [data[i * size:(i + 1) * size] for i in range(count)]


def staging(server: Server) -> Path:
    return server.data_dir / "library" / "primary" / ".lumilio" / "staging" / "incoming"


def assets_named(server: Server, name: str) -> list[dict]:
    return [a for a in server.assets() if a["original_filename"] == name]


def test_single_files_in_one_request(server):
    a, b = uuid.uuid4(), uuid.uuid4()
    res = send(server, [(f"single_{a}", "Canon_40D.jpg", JPEG.read_bytes()),
                        (f"single_{b}", "IMG_2682.heic", HEIC.read_bytes())])
    assert res.status_code == 200, res.text
    results = res.json()["results"]
    assert [r["file_name"] for r in results] == ["Canon_40D.jpg", "IMG_2682.heic"]
    assert all(r["success"] and r["status"] == "processing" for r in results)
    assert results[0]["content_hash"] == blake3.blake3(JPEG.read_bytes()).hexdigest()
    assert results[0]["size"] == JPEG.stat().st_size
    assert isinstance(results[0]["task_id"], int)
    server.wait_idle()
    assert len(assets_named(server, "IMG_2682.heic")) == 1


def test_chunks_over_several_requests_are_joined_and_verified(server):
    data = (MEDIA / "heic/IMG_3578.heic").read_bytes()
    digest = blake3.blake3(data).hexdigest()
    sid = str(uuid.uuid4())
    parts = pieces(data, 3)

    first = send(server, [(f"chunk_{sid}_0_3", "IMG_3578.heic", parts[0]),
                          (f"chunk_{sid}_2_3", "IMG_3578.heic", parts[2])])
    assert first.status_code == 200, first.text
    [result] = first.json()["results"]
    assert result["status"] == "uploading"
    assert result["message"] == "Upload in progress: 66.7% complete"

    progress = server.get(f"/assets/batch/progress?session_ids={sid}").json()
    [session] = progress["sessions"]
    assert (session["status"], session["received_chunks"], session["total_chunks"]) \
        == ("uploading", 2, 3)
    assert session["bytes_done"] == len(parts[0]) + len(parts[2])
    assert progress["summary"]["active_sessions"] == 1

    last = send(server, [(f"chunk_{sid}_1_3", "IMG_3578.heic", parts[1])],
                content_hash=digest)
    [result] = last.json()["results"]
    assert result["success"] and result["status"] == "processing"
    assert result["content_hash"] == digest and result["size"] == len(data)
    assert not list((staging(server) / f"batch-{sid}").glob("chunk_*"))

    progress = server.get(f"/assets/batch/progress?session_ids={sid}").json()
    assert progress["sessions"][0]["status"] == "completed"
    assert progress["sessions"][0]["progress"] == 1
    server.wait_idle()
    [asset] = assets_named(server, "IMG_3578.heic")
    assert asset["hash"] == digest


def test_a_chunk_sent_twice_is_harmless(server):
    data = (MEDIA / "jpeg/ladybug.jpg").read_bytes()
    sid = str(uuid.uuid4())
    one, two = pieces(data, 2)
    for _ in range(2):
        res = send(server, [(f"chunk_{sid}_0_2", "ladybug.jpg", one)])
        assert res.json()["results"][0]["status"] == "uploading"
    res = send(server, [(f"chunk_{sid}_1_2", "ladybug.jpg", two)])
    assert res.json()["results"][0]["success"]
    # The answer to a retried last chunk is the upload's result, not a new asset.
    again = send(server, [(f"chunk_{sid}_1_2", "ladybug.jpg", two)])
    assert again.json()["results"][0]["status"] == "processing"
    server.wait_idle()
    assert len(assets_named(server, "ladybug.jpg")) == 1


def test_a_wrong_hash_is_refused(server):
    data = (MEDIA / "jpeg/snow.jpg").read_bytes()
    sid = str(uuid.uuid4())
    res = send(server, [(f"chunk_{sid}_0_1", "snow.jpg", data)],
               content_hash="0" * 64)
    [result] = res.json()["results"]
    assert result["success"] is False and "hash" in result["error"].lower()
    assert not assets_named(server, "snow.jpg")


def test_same_content_under_another_name_is_refused(server):
    data = JPEG.read_bytes()
    res = send(server, [(f"single_{uuid.uuid4()}", "renamed.jpg", data)])
    [result] = res.json()["results"]
    assert result["success"] is False
    assert result["error"] == "File with same content already exists in repository"
    again = send(server, [(f"single_{uuid.uuid4()}", "Canon_40D.jpg", data)])
    assert again.json()["results"][0]["success"] is True
    assert again.json()["results"][0]["status"] == "duplicate"


def test_bad_requests(server):
    data = b"\xff\xd8\xff"
    assert_error(send(server, [("file", "a.jpg", data)]), 400)
    assert_error(send(server, [("chunk_abc_3_3", "a.jpg", data)]), 400)
    assert_error(send(server, [("chunk_abc_0_0", "a.jpg", data)]), 400)
    assert_error(send(server, [("single_a_b", "a.jpg", data)]), 400)
    assert_error(server.request("POST", "/assets/batch", data={"x": "1"}), 400)
    assert_error(server.request("POST", "/assets/batch", content=b"{}",
                                headers={"Content-Type": "application/json"}), 400)
    assert_error(send(server, [(f"single_{uuid.uuid4()}", "a.jpg", data)],
                      token=None), 401)
    unknown = str(uuid.uuid4())
    assert_error(server.request("POST", f"/assets/batch?repository_id={unknown}",
                                files={f"single_{uuid.uuid4()}": ("a.jpg", data)}),
                 404)


def test_sessions_are_private(server):
    sid = str(uuid.uuid4())
    send(server, [(f"chunk_{sid}_0_2", "x.jpg", b"\xff\xd8")])
    res = server.post("/auth/register/start",
                      {"username": "bob", "password": PASSWORD}, token=None)
    bob = res.json()["token"]
    assert_error(send(server, [(f"chunk_{sid}_1_2", "x.jpg", b"\xff\xd9")],
                      token=bob), 409)
    assert server.get("/assets/batch/progress", token=bob).json()["sessions"] == []


def test_config_scales_with_memory(server):
    config = server.get("/assets/batch/config").json()
    assert set(config) == {"chunk_size", "max_concurrent", "memory_buffer",
                           "merge_concurrency", "max_in_flight_requests"}
    assert config["chunk_size"] >= 1 << 20
    assert 1 <= config["max_concurrent"] <= 8


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) << 10
    raise AssertionError("no VmRSS")


def test_a_large_file_streams_to_disk(server, tmp_path):
    big = tmp_path / "big.jpg"
    with open(big, "wb") as f:
        f.write(JPEG.read_bytes())
        f.writelines(os.urandom(1 << 20) for _ in range(150))
    pid = server.proc.pid
    before = rss(pid)
    peak = [before]

    def upload() -> httpx.Response:
        with open(big, "rb") as f:
            return send(server, [(f"single_{uuid.uuid4()}", "big.jpg", f)])

    result: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: result.append(upload()))
    worker.start()
    while worker.is_alive():
        peak.append(rss(pid))
        worker.join(0.05)
    assert result[0].json()["results"][0]["success"], result[0].text
    assert max(peak) - before < MEMORY_SLACK, (before, max(peak))


def test_an_interrupted_upload_resumes_after_a_restart(server):
    data = (MEDIA / "jpeg/notebook.jpg").read_bytes()
    sid, abandoned = str(uuid.uuid4()), str(uuid.uuid4())
    first, second = pieces(data, 2)
    send(server, [(f"chunk_{sid}_0_2", "notebook.jpg", first)])
    send(server, [(f"chunk_{abandoned}_0_2", "old.jpg", first)])
    stray = staging(server) / "upload-old.part"
    stray.write_bytes(b"half a file")

    # Nobody touched these for two days: the next start's clean-up removes them.
    old = time.time() - TWO_DAYS
    for path in [*(staging(server) / f"batch-{abandoned}").iterdir(), stray]:
        os.utime(path, (old, old))
    server.stop()
    server.start()

    res = send(server, [(f"chunk_{sid}_1_2", "notebook.jpg", second)])
    [result] = res.json()["results"]
    assert result["success"] and result["size"] == len(data)
    assert not (staging(server) / f"batch-{abandoned}").exists()
    assert not stray.exists()
    server.wait_idle()
    assert len(assets_named(server, "notebook.jpg")) == 1
