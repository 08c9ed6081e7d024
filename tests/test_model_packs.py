"""Model packs end to end, and models that cannot be used.

The CLIP-shaped pack is built here with the `onnx` package: random weights, the
shapes and interfaces of a real pair (an image encoder on pixels, a text encoder on
token ids, a tokenizer), so the whole path runs: install, index, search, switch.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers

from serverkit import MEDIA, REPO, Server

DIM = 16
SIDE = 32
TOKENS = 8
WORDS = ["[PAD]", "[UNK]", "a", "cat", "cup", "of", "coffee", "rocket", "launch"]
PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg"]
SEMANTIC_ONLY = {"LUMILIO_ML_SEMANTIC": "true"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def image_encoder(path: Path, dim: int) -> None:
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((3 * SIDE * SIDE, dim)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["pixels"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["embeds"])],
        "image_encoder",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT,
                                       ["batch", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", dim])],
        [numpy_helper.from_array(weights, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), str(path))


def text_encoder(path: Path, dim: int) -> None:
    rng = np.random.default_rng(2)
    table = rng.standard_normal((len(WORDS), dim)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["tokens"], axis=0),
         helper.make_node("ReduceMean", ["tokens"], ["embeds"], axes=[1],
                          keepdims=0)],
        "text_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                       ["batch", TOKENS])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", dim])],
        [numpy_helper.from_array(table, "table")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), str(path))


def make_pack(folder: Path, name: str = "tiny-clip", dim: int = DIM,
              declared_dim: int | None = None, corrupt: bool = False) -> Path:
    """A pack folder zipped; returns the zip."""
    root = folder / name
    root.mkdir(parents=True)
    image_encoder(root / "image.onnx", dim)
    text_encoder(root / "text.onnx", dim)
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)},
                                           unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(root / "tokenizer.json"))

    def entry(file: str) -> dict:
        return {"path": file, "sha256": sha256(root / file),
                "size": (root / file).stat().st_size}

    manifest = {
        "format": 1,
        "pack": {"name": name, "kind": "clip", "dim": declared_dim or dim,
                 "image_size": SIDE, "context_length": TOKENS, "pad_id": 0,
                 # Random weights give random similarities: let every photo in.
                 "threshold": -1.0},
        "models": [
            {"name": "image_encoder", "task": "image_embedding",
             "files": {"model": entry("image.onnx")}},
            {"name": "text_encoder", "task": "text_embedding",
             "files": {"model": entry("text.onnx"),
                       "tokenizer": entry("tokenizer.json")}},
        ],
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    if corrupt:
        data = bytearray((root / "image.onnx").read_bytes())
        data[-10] ^= 0xFF
        (root / "image.onnx").write_bytes(bytes(data))
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in root.iterdir():
            zf.write(file, f"{name}/{file.name}")
    return archive


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("packs")
    library = root / "photos"
    library.mkdir()
    for name in PHOTOS:
        shutil.copy2(MEDIA / "ml" / name, library / name)
    server = Server(root / "data", [library], SEMANTIC_ONLY).start()
    server.sign_up()
    server.wait_idle()
    server.root = root
    yield server
    server.stop()


def ok(res) -> dict:
    assert res.status_code == 200, res.text
    return res.json()


def top(lib, query: str) -> tuple[str | None, dict]:
    found = ok(lib.post("/assets/search", {"query": query, "enhancement_mode": "off",
                                           "debug": True}))
    items = found["result_items"]
    return (items[0]["asset"]["original_filename"] if items else None), found


def sources(lib, query: str) -> dict:
    found = ok(lib.post("/assets/search", {"query": query, "debug": True,
                                           "top_results_limit": 1}))
    return {s["type"]: s for s in found["top_results_meta"]["sources"]}


def test_a_pack_installs_indexes_searches_and_switches_back(lib):
    archive = make_pack(lib.root / "good")
    installed = ok(lib.post("/ml/models", {"source": str(archive)}))
    assert installed["name"] == "tiny-clip" and installed["dim"] == DIM
    assert installed["active"] is False

    listed = ok(lib.get("/ml/models"))
    assert [m["name"] for m in listed["models"]] == ["default", "tiny-clip"]
    assert listed["active"] == "default"
    assert listed["runtime"]["provider"] == "CPUExecutionProvider"

    switched = ok(lib.post("/ml/models/tiny-clip/activate"))
    assert switched["active"] is True and switched["reindex_job_id"] > 0
    lib.wait_idle()
    stats = ok(lib.get("/assets/indexing/stats"))["tasks"]["semantic"]
    assert stats["indexed_count"] == stats["total_count"] == len(PHOTOS)
    embedding = sources(lib, "a cat")["embedding"]
    assert embedding["candidate_count"] == len(PHOTOS) and "error" not in embedding

    ok(lib.post("/ml/models/default/activate"))
    lib.wait_idle()
    assert top(lib, "a cat")[0] == "chelsea.png"
    assert ok(lib.get("/ml/models"))["active"] == "default"


def test_a_pack_installs_from_a_url(lib):
    archive = make_pack(lib.root / "served", name="served-clip")
    handler = partial(SimpleHTTPRequestHandler, directory=str(archive.parent))
    handler.log_message = lambda *args: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/{archive.name}"
        assert ok(lib.post("/ml/models", {"source": url}))["name"] == "served-clip"
        missing = lib.post("/ml/models", {"source": url + ".nothing"})
        assert missing.status_code == 400 and "cannot download" in missing.text
    finally:
        httpd.shutdown()
        httpd.server_close()
    ok(lib.request("DELETE", "/ml/models/served-clip"))
    assert "served-clip" not in str(ok(lib.get("/ml/models")))


@pytest.mark.parametrize("kind, message", [
    ("wrong_dim", "gives 16-d vectors, the manifest says 32"),
    ("corrupt", "corrupt"),
    ("missing", "no such file"),
    ("not_a_pack", "neither a pack folder nor a zip"),
])
def test_bad_packs_are_refused_clearly(lib, kind, message):
    folder = lib.root / f"bad-{kind}"
    folder.mkdir()
    if kind == "wrong_dim":
        source = make_pack(folder, name="wrong-dim", declared_dim=32)
    elif kind == "corrupt":
        source = make_pack(folder, name="corrupt", corrupt=True)
    elif kind == "missing":
        source = folder / "nowhere.zip"
    else:
        source = folder / "notes.txt"
        source.write_text("not a model")
    res = lib.post("/ml/models", {"source": str(source)})
    assert res.status_code == 400
    assert message in res.json()["error"]
    assert top(lib, "a cat")[0] == "chelsea.png"


def test_a_missing_pack_cannot_be_activated_or_removed(lib):
    assert lib.post("/ml/models/nope/activate").status_code == 404
    assert lib.request("DELETE", "/ml/models/nope").status_code == 404
    assert lib.request("DELETE", "/ml/models/default").status_code == 400
    assert ok(lib.get("/ml/models"))["active"] == "default"
    assert top(lib, "a cup of coffee")[0] == "coffee.png"


def test_a_corrupt_bundled_model_fails_only_its_task(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for path in (REPO / "models").iterdir():
        if path.is_file() and path.name != "face_embed.onnx":
            (models / path.name).symlink_to(path)
    data = bytearray((REPO / "models" / "face_embed.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    (models / "face_embed.onnx").write_bytes(bytes(data))

    library = tmp_path / "photos"
    library.mkdir()
    for name in ("astronaut.png", "chelsea.png"):
        shutil.copy2(MEDIA / "ml" / name, library / name)
    server = Server(tmp_path / "data", [library],
                    {**SEMANTIC_ONLY, "LUMILIO_ML_FACES": "true",
                     "LUMILIO_ML_MODELS_DIR": str(models)}).start()
    try:
        server.sign_up()
        server.wait_idle()
        ids = {a["original_filename"]: a["asset_id"] for a in server.assets()}
        found = ok(server.get(f"/assets/{ids['astronaut.png']}"))
        status = json.loads(bytes(found["status"]).decode())
        face = status["tasks"]["process_face"]
        assert face["state"] == "failed" and "face_embed.onnx is corrupt" in \
            face["message"]
        assert status["tasks"]["process_semantic"]["state"] == "complete"
        assert status["state"] == "warning"
        assert top(server, "a cat")[0] == "chelsea.png"
    finally:
        server.stop()
