"""The recognition layer's parts that need no server: vectors, geometry, models."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from lumilio.catalog.vectors import QuantisedIndex
from lumilio.ml.faces import similarity_transform
from lumilio.ml.manifest import ModelError, read, sha256_of
from lumilio.ml.ocr import _ctc_decode
from lumilio.ml.runtime import Runtime, choose_providers


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 centres, like embeddings of a real library."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim))
    points = centres[rng.integers(0, 50, n)] + 0.6 * rng.standard_normal((n, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_quantised_search_agrees_with_exact_search():
    vectors = clustered(20_000, 128)
    index = QuantisedIndex(128)
    index.load(np.arange(1, len(vectors) + 1), vectors)
    queries = clustered(20, 128, seed=1)

    recall = []
    for q in queries:
        exact = set(np.argsort(-(vectors @ q))[:10] + 1)
        found = index.search(q, 10)
        recall.append(len(exact & {rowid for rowid, _ in found}) / 10)
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
        assert abs(scores[0] - float(vectors[found[0][0] - 1] @ q)) < 0.02
    # Sign bits pick 2,048 candidates of 20,000: near-ties inside a cluster can
    # fall out (0.815 measured with these seeds; exact re-ranking would give 1.0).
    assert np.mean(recall) >= 0.8


def test_quantised_index_follows_writes_and_thresholds():
    vectors = clustered(100, 32)
    index = QuantisedIndex(32)
    index.load(np.arange(1, 101), vectors)
    index.remove(5)
    assert 5 not in {r for r, _ in index.search(vectors[4], 3)}
    index.put(500, vectors[4])
    assert index.search(vectors[4], 1)[0][0] == 500
    assert len(index) == 100
    assert all(s >= 0.9 for _, s in index.search(vectors[4], 100, min_score=0.9))


def test_similarity_transform_recovers_a_known_one():
    src = np.array([[10, 20], [50, 22], [30, 40], [15, 60], [45, 61]], float)
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -8.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = (scale * rot @ src.T).T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], scale * rot, atol=1e-6)
    assert np.allclose(matrix[:, 2], shift, atol=1e-6)


def test_ctc_decoding_drops_blanks_and_repeats():
    alphabet = ["", "a", "b", " "]
    best = [1, 1, 0, 1, 2, 2, 0, 3, 2]
    probs = np.full((len(best), 4), 0.01)
    probs[np.arange(len(best)), best] = 0.9
    text, confidence = _ctc_decode(probs, alphabet)
    assert text == "aab b" and confidence == pytest.approx(0.9)


def tiny_model(path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), str(path))


def write_manifest(folder, path) -> None:
    entry = {"path": path.name, "sha256": sha256_of(path),
             "size": path.stat().st_size}
    (folder / "manifest.json").write_text(json.dumps(
        {"format": 1, "models": [{"name": "tiny", "task": "test",
                                  "files": {"model": entry}}]}))


def test_a_model_file_is_checked_before_use(tmp_path):
    model = tmp_path / "tiny.onnx"
    tiny_model(model)
    write_manifest(tmp_path, model)
    spec = read(tmp_path)["tiny"]
    assert spec.present() and spec.path() == model

    data = bytearray(model.read_bytes())
    data[-3] ^= 0xFF
    model.write_bytes(bytes(data))
    fresh = read(tmp_path)["tiny"]
    with pytest.raises(ModelError, match="tiny.onnx is corrupt"):
        fresh.path()
    model.unlink()
    with pytest.raises(ModelError, match="tiny.onnx is missing"):
        read(tmp_path)["tiny"].path()
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a valid model manifest"):
        read(tmp_path)


def test_sessions_load_on_use_and_unload_when_idle(tmp_path):
    model = tmp_path / "tiny.onnx"
    tiny_model(model)
    write_manifest(tmp_path, model)
    spec = read(tmp_path)["tiny"]
    runtime = Runtime(threads=1, idle_seconds=0)
    assert runtime.providers[-1] == "CPUExecutionProvider"
    assert choose_providers("no-such-provider")[-1] == "CPUExecutionProvider"

    with runtime.use(spec) as session:
        out = session.run(None, {"x": np.array([[-1, 2, -3, 4]], np.float32)})[0]
        assert runtime.unload_idle(now=1e12) == 0  # in use: kept
    assert out.tolist() == [[0, 2, 0, 4]]
    assert runtime.loaded() == ["tiny.onnx"]
    assert runtime.unload_idle(now=1e12) == 1
    assert runtime.loaded() == []


def test_a_provider_the_build_lacks_gives_way_to_the_cpu(tmp_path, caplog):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA: the fallback is not reached")
    model = tmp_path / "tiny.onnx"
    tiny_model(model)
    write_manifest(tmp_path, model)
    runtime = Runtime(threads=1, provider="cuda")
    assert runtime.describe()["provider_confirmed"] is False

    with runtime.use(read(tmp_path)["tiny"]) as session:
        assert session.get_providers() == ["CPUExecutionProvider"]
    assert runtime.in_use == "CPUExecutionProvider"
    described = runtime.describe()
    assert described["provider"] == "CPUExecutionProvider"
    assert described["provider_confirmed"] is True
    assert "execution provider cuda is not in this onnxruntime build" in caplog.text
    runtime.close()


def test_quantised_index_grows_one_vector_at_a_time():
    vectors = clustered(5000, 64, seed=3)
    index = QuantisedIndex(64)
    for rowid, vector in enumerate(vectors, start=1):
        index.put(rowid, vector)
    for rowid in range(1, 2001):
        index.remove(rowid)
    assert len(index) == 3000
    for rowid in (2001, 3500, 5000):
        assert index.search(vectors[rowid - 1], 1)[0][0] == rowid
    rowids, scores = index.score_all(vectors[2999])
    assert len(rowids) == 3000 and rowids[scores.argmax()] == 3000
