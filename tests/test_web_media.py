"""Web versions of real videos and audio, made off the import path, served by range."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from serverkit import MEDIA, PASSWORD, Server, copy_media
from two_users import assert_error

VIDEOS = ["video/Sony_ILCE-7M3.mts", "video/quicktime-hvc1.mov",
          "video/small_video.mp4", "video/mp42-hvc1.mp4"]
AUDIO = ["audio/issue-337.m4a", "audio/silence-44-s.flac"]
PHOTO = "jpeg/Canon_40D.jpg"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    library = copy_media(root / "media", VIDEOS + AUDIO + [PHOTO])
    server = Server(root / "data", [library]).start()
    server.sign_up()
    server.wait_idle()
    server.library = library
    server.ids = {a["original_filename"]: a["asset_id"] for a in server.assets()}
    yield server
    server.stop()


def fetch(server: Server, name: str, kind: str, tmp_path: Path, **kw) -> Path:
    res = server.get(f"/assets/{server.ids[name]}/{kind}/web", **kw)
    assert res.status_code == 200, res.text
    target = tmp_path / f"{name}.web"
    target.write_bytes(res.content)
    return target


def video_facts(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frame = next(container.decode(video))
        return {"codec": video.codec_context.name, "size": (frame.width, frame.height),
                "rotation": frame.rotation, "pix_fmt": video.codec_context.pix_fmt,
                "audio": [a.codec_context.name for a in container.streams.audio],
                "format": container.format.name}


@pytest.mark.parametrize(("name", "size"), [
    ("Sony_ILCE-7M3.mts", (1920, 1080)),  # AVCHD, interlaced, AC-3 sound
    ("quicktime-hvc1.mov", (720, 1280)),  # HEVC from an iPad, turned 90 degrees
    ("small_video.mp4", (216, 384)),  # HEVC, portrait
])
def test_unplayable_videos_become_upright_h264_mp4(server, tmp_path, name, size):
    res = server.get(f"/assets/{server.ids[name]}/video/web")
    assert res.headers["content-type"] == "video/mp4"
    assert res.headers["accept-ranges"] == "bytes"
    target = fetch(server, name, "video", tmp_path)
    facts = video_facts(target)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert facts["size"] == size
    assert facts["rotation"] == 0
    assert facts["audio"] == ["aac"]
    assert "mp4" in facts["format"]


def test_a_browser_ready_mp4_is_served_as_it_is(server, tmp_path):
    target = fetch(server, "mp42-hvc1.mp4", "video", tmp_path)
    assert target.read_bytes() == (MEDIA / "video/mp42-hvc1.mp4").read_bytes()
    web_files = [p.name for p in (server.library / ".lumilio" / "web").iterdir()]
    assert len(web_files) == 4  # three videos and one audio file, no copy of this
    detail = server.get(f"/assets/{server.ids['mp42-hvc1.mp4']}").json()
    assert detail["processing"]["state"] == "complete"


def test_range_requests_answer_206(server):
    res = server.get(f"/assets/{server.ids['Sony_ILCE-7M3.mts']}/video/web",
                     headers={"Range": "bytes=0-1023"})
    assert res.status_code == 206
    assert len(res.content) == 1024
    assert res.content[4:8] == b"ftyp"
    assert res.headers["content-range"].startswith("bytes 0-1023/")
    assert res.headers["content-type"] == "video/mp4"


def test_audio_browsers_cannot_play_becomes_mp3(server, tmp_path):
    res = server.get(f"/assets/{server.ids['issue-337.m4a']}/audio/web")
    assert res.headers["content-type"] == "audio/mpeg"
    target = fetch(server, "issue-337.m4a", "audio", tmp_path)
    with av.open(str(target)) as container:
        sound = container.streams.audio[0]
        assert sound.codec_context.codec.canonical_name == "mp3"
        assert sound.codec_context.sample_rate == 44_100
        assert sound.codec_context.channels == 2
        assert container.duration / av.time_base == pytest.approx(11.29, abs=0.2)


def test_flac_plays_as_it_is(server, tmp_path):
    res = server.get(f"/assets/{server.ids['silence-44-s.flac']}/audio/web")
    assert res.status_code == 200
    assert res.headers["content-type"] == "audio/flac"
    assert res.content == (MEDIA / "audio/silence-44-s.flac").read_bytes()


def test_original_stands_in_while_the_web_version_is_missing(server):
    asset = server.get(f"/assets/{server.ids['quicktime-hvc1.mov']}").json()
    web = server.library / ".lumilio" / "web" / f"{asset['hash']}_web.mp4"
    kept = web.read_bytes()
    web.unlink()
    try:
        res = server.get(f"/assets/{asset['asset_id']}/video/web")
        assert res.status_code == 200
        assert res.content == (MEDIA / "video/quicktime-hvc1.mov").read_bytes()
        # What the reference promises, and no caching of the stand-in.
        assert res.headers["content-type"] == "video/mp4"
        assert res.headers["cache-control"] == "no-cache"
    finally:
        web.write_bytes(kept)


def test_media_token_in_the_url_is_enough(server):
    token = server.get("/auth/media-token").json()["token"]
    asset = server.ids["Sony_ILCE-7M3.mts"]
    res = server.get(f"/assets/{asset}/video/web?mt={token}", token=None,
                     headers={"Range": "bytes=0-99"})
    assert res.status_code == 206
    assert_error(server.get(f"/assets/{asset}/video/web?mt=forged", token=None), 401)


def test_wrong_kinds_and_strangers_get_clean_errors(server):
    ids = server.ids
    assert_error(server.get(f"/assets/{ids['Canon_40D.jpg']}/video/web"), 404)
    assert_error(server.get(f"/assets/{ids['Sony_ILCE-7M3.mts']}/audio/web"), 404)
    assert_error(server.get(f"/assets/{ids['issue-337.m4a']}/video/web"), 404)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(server.get(f"/assets/{unknown}/video/web"), 404)
    assert_error(server.get("/assets/12345/video/web"), 400)
    assert_error(server.get(f"/assets/{ids['Sony_ILCE-7M3.mts']}/video/web",
                            token=None), 401)

    res = server.post("/auth/register/start",
                      {"username": "mallory", "password": PASSWORD}, token=None)
    stranger = res.json()["token"]
    assert_error(server.get(f"/assets/{ids['Sony_ILCE-7M3.mts']}/video/web",
                            token=stranger), 404)
