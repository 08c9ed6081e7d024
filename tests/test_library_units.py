"""Pieces of the library core on their own: placement, repository files, settings,
credential policy, and the list query against a real catalog."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from lumilio import config
from lumilio.auth import passwords
from lumilio.auth.principal import Principal
from lumilio.catalog.db import Catalog, dumps
from lumilio.errors import BadRequest
from lumilio.library import placement, repofile
from lumilio.services import browse


@pytest.mark.parametrize("given,expected", [
    ("IMG_0001.JPG", "IMG_0001.JPG"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
    ("/absolute/path.png", "path.png"),
    ("..", "upload"),
    ("", "upload"),
    ("CON.jpg", "_CON.jpg"),
    ("a\x00b<c>.jpg", "a_b_c_.jpg"),
    ("fin de journée.jpg", "fin de journée.jpg"),
])
def test_safe_filename(given, expected):
    assert placement.safe_filename(given) == expected


def test_placement_strategies(tmp_path):
    h = "abcdef0123456789"
    assert placement.target_rel("flat", "a.jpg", h) == "inbox/a.jpg"
    assert placement.target_rel("cas", "a.JPG", h) == "inbox/ab/cd/ef/abcdef0123456789.jpg"
    assert placement.target_rel("date", "a.jpg", h).startswith("inbox/20")

    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox/a.jpg").write_bytes(b"x")
    assert placement.resolve_collision(tmp_path, "inbox/a.jpg", "rename", "flat") == \
        "inbox/a (1).jpg"
    uuid_name = placement.resolve_collision(tmp_path, "inbox/a.jpg", "uuid", "flat")
    assert uuid_name.startswith("inbox/a_") and len(uuid_name) == len("inbox/a_") + 12
    assert placement.resolve_collision(tmp_path, "inbox/a.jpg", "overwrite",
                                       "flat") == "inbox/a.jpg"


def test_repofile_round_trip_and_validation(tmp_path):
    repo = repofile.RepoFile(name="Family", storage_strategy="cas",
                             handle_duplicate_filenames="uuid")
    repofile.write(tmp_path, repo)
    text = (tmp_path / ".lumiliorepo").read_text()
    assert text.startswith("# This folder is a Lumilio repository")
    again = repofile.read(tmp_path)
    assert (again.id, again.name, again.storage_strategy,
            again.handle_duplicate_filenames) == (repo.id, "Family", "cas", "uuid")

    (tmp_path / ".lumiliorepo").write_text("id: 1\nstorage_strategy: random\n")
    with pytest.raises(BadRequest):
        repofile.read(tmp_path)


def test_settings_precedence(tmp_path):
    (tmp_path / "lumilio.toml").write_text('port = 7000\nworkers = 3\nbogus = 1\n')
    env = {"LUMILIO_WORKERS": "5"}
    cfg = config.load({"data_dir": tmp_path, "host": "0.0.0.0"}, environ=env)
    assert (cfg.host, cfg.sources["host"]) == ("0.0.0.0", "command line")
    assert (cfg.workers, cfg.sources["workers"]) == (5, "environment")
    assert (cfg.port, cfg.sources["port"]) == (7000, "lumilio.toml")
    assert cfg.storage_root == tmp_path.resolve() / "library"
    assert {s["name"] for s in cfg.describe()} == {s.name for s in config.SETTINGS}


def test_every_setting_is_documented_in_the_readme():
    from serverkit import REPO

    readme = (REPO / "README.md").read_text()
    missing = [s.env for s in config.SETTINGS if s.env not in readme]
    assert missing == []


@pytest.mark.parametrize("name,ok", [
    ("alice", True), ("al", False), ("Alice", True), ("1alice", False),
    ("a.b-c_d", True), ("a..b", False), ("alice.", False), ("al ice", False),
])
def test_username_policy(name, ok):
    if ok:
        assert passwords.check_username(name) == name.lower()
    else:
        with pytest.raises(BadRequest):
            passwords.check_username(name)


@pytest.mark.parametrize("password,ok", [
    ("Correct-Horse-9", True), ("short1A", False), ("alllowercase1", False),
    ("NoDigitsHere", False), ("A1" + "a" * 71, False),
])
def test_password_policy(password, ok):
    if ok:
        passwords.check_password(password)
    else:
        with pytest.raises(BadRequest):
            passwords.check_password(password)


def test_password_hash_verifies_only_the_password():
    stored = passwords.hash_password("Correct-Horse-9")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "Correct-Horse-9")
    assert not passwords.verify_password(stored, "Correct-Horse-8")
    assert not passwords.verify_password(None, "Correct-Horse-9")


# -- the list query ---------------------------------------------------------------


@pytest.fixture
def catalog(tmp_path):
    cat = Catalog(tmp_path / "catalog.db")
    yield cat
    cat.close()


def _add_assets(catalog: Catalog, rows: list[dict]) -> None:
    def insert(conn):
        conn.execute("INSERT INTO users (user_id, username, password_hash, role,"
                     " created_at, updated_at) VALUES (1, 'a', 'x', 'admin', 'n', 'n'),"
                     " (2, 'b', 'x', 'user', 'n', 'n')")
        conn.execute("INSERT INTO repositories (repository_id, name, path, created_at,"
                     " updated_at) VALUES ('r', 'r', '/r', 'n', 'n')")
        for row in rows:
            row = {"owner_id": 2, "type": "PHOTO", "rating": 0, "liked": 0,
                   "taken_time": None, "camera_model": None, **row}
            conn.execute(
                "INSERT INTO assets (asset_id, repository_id, owner_id, type,"
                " original_filename, storage_path, mime_type, upload_time,"
                " taken_time, rating, liked, camera_model, specific_metadata, state,"
                " updated_at) VALUES (?, 'r', ?, ?, ?, ?, 'image/jpeg',"
                " '2024-01-01T00:00:00.000000Z', ?, ?, ?, ?, ?, 'complete', 'n')",
                (row["asset_id"], row["owner_id"], row["type"], row["name"],
                 row["name"], row["taken_time"], row["rating"], row["liked"],
                 row["camera_model"], dumps({})))

    catalog.write(insert)


def test_list_query_filters_sort_and_scope(catalog):
    ids = [str(uuid.uuid4()) for _ in range(4)]
    _add_assets(catalog, [
        {"asset_id": ids[0], "name": "beach.jpg", "taken_time":
         "2023-07-01T22:30:00.000000Z", "rating": 5, "liked": 1},
        {"asset_id": ids[1], "name": "Beach_2.JPG", "taken_time":
         "2023-07-02T08:00:00.000000Z", "camera_model": "X100"},
        {"asset_id": ids[2], "name": "song.mp3", "type": "AUDIO"},
        {"asset_id": ids[3], "name": "admin.jpg", "owner_id": 1},
    ])
    ctx = SimpleNamespace(catalog=catalog)
    user = Principal(2, "b", "user")
    admin = Principal(1, "a", "admin")

    def names(who, body):
        out = browse.query(ctx, who, {"stack_mode": "expanded", **body})
        return [i["asset"]["original_filename"] for i in out["items"]]

    assert names(user, {}) == ["song.mp3", "Beach_2.JPG", "beach.jpg"]
    assert len(names(admin, {})) == 4
    assert names(user, {"query": "BEACH"}) == ["Beach_2.JPG", "beach.jpg"]
    assert names(user, {"filter": {"filename": {"value": "b",
                                                "operator": "starts_with"}}}) == \
        ["Beach_2.JPG", "beach.jpg"]
    assert names(user, {"filter": {"rating": 0}}) == ["song.mp3", "Beach_2.JPG"]
    assert names(user, {"filter": {"liked": True}}) == ["beach.jpg"]
    assert names(user, {"filter": {"type": "AUDIO"}}) == ["song.mp3"]
    assert names(user, {"filter": {"camera_model": "X100"}}) == ["Beach_2.JPG"]
    # A date-only bound is a whole day in the viewer's zone: 22:30 UTC on 1 July is
    # already 2 July in Tokyo.
    tokyo = {"filter": {"date": {"from": "2023-07-02"}},
             "viewer_timezone": "Asia/Tokyo"}
    assert names(user, tokyo) == ["Beach_2.JPG", "beach.jpg"]
    utc = {"filter": {"date": {"from": "2023-07-02"}}, "viewer_timezone": "UTC"}
    assert names(user, utc) == ["Beach_2.JPG"]
    with pytest.raises(BadRequest):
        names(user, {"filter": {"type": "IMAGE"}})
    with pytest.raises(BadRequest):
        names(user, {"stack_mode": "folded"})


def test_collapsed_list_folds_a_stack_into_its_cover(catalog):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    _add_assets(catalog, [
        {"asset_id": ids[0], "name": "IMG_1.CR2", "taken_time":
         "2023-01-01T10:00:00.000000Z"},
        {"asset_id": ids[1], "name": "IMG_1.JPG", "taken_time":
         "2023-01-01T10:00:01.000000Z"},
        {"asset_id": ids[2], "name": "other.jpg", "taken_time":
         "2022-01-01T10:00:00.000000Z"},
    ])
    catalog.write(lambda conn: conn.execute(
        "INSERT INTO stacks (stack_id, stack_kind, repository_id, owner_id,"
        " created_at) VALUES ('s', 'raw_jpeg', 'r', 2, 'n');"
        f"INSERT INTO stack_members VALUES ('s', '{ids[0]}', 'raw_original', 0),"
        f" ('s', '{ids[1]}', 'jpeg_original', 1);"))
    ctx = SimpleNamespace(catalog=catalog)
    out = browse.query(ctx, Principal(2, "b", "user"),
                       {"filter": {"filename": {"value": ".JPG",
                                                "operator": "ends_with"}}})
    assert (out["total_assets"], out["total_visible"]) == (2, 2)
    stack = out["items"][0]
    assert stack["type"] == "stack" and stack["id"] == "stack:s"
    assert stack["asset"]["asset_id"] == ids[0]  # the cover, though it did not match
    assert stack["stack"]["member_asset_ids"] == [ids[0], ids[1]]
    assert stack["stack"]["matched_member_ids"] == [ids[1]]
    assert out["items"][1]["asset"]["original_filename"] == "other.jpg"


# -- the job history ----------------------------------------------------------------


def test_finished_jobs_are_forgotten_after_their_keeping_time(catalog, tmp_path):
    from datetime import timedelta

    from lumilio.jobs.queue import JobQueue
    from lumilio.timeutil import iso, now

    jobs = JobQueue(catalog, tmp_path / "queue.db", workers=1)
    at = now()
    rows = [("completed", at - timedelta(hours=30)), ("completed", at),
            ("discarded", at - timedelta(days=2)), ("discarded", at - timedelta(days=9)),
            ("cancelled", at - timedelta(days=3)), ("running", None),
            ("available", None)]

    def insert(conn):
        for state, finished in rows:
            conn.execute(
                "INSERT INTO jobs (kind, queue, state, created_at, finalized_at)"
                " VALUES ('scan_repository', 'scan_repository', ?, ?, ?)",
                (state, iso(at), iso(finished)))

    catalog.write(insert)

    assert jobs.prune(at) == 3
    left = [r["state"] for r in catalog.all("SELECT state FROM jobs ORDER BY job_id")]
    assert left == ["completed", "discarded", "running", "available"]
    assert jobs.prune(at) == 0
