"""System settings, runtime info and capabilities."""

from __future__ import annotations

import pytest

from serverkit import PASSWORD, Server

API_KEY = "sk-test-0123456789abcdef"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("settings") / "data").start()
    server.sign_up()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def user_token(srv):
    res = srv.post("/auth/register/start", {"username": "plain", "password": PASSWORD},
                   token=None)
    return res.json()["token"]


def test_capabilities_are_public_and_honest(srv):
    res = srv.get("/capabilities", token=None)
    assert res.status_code == 200
    caps = res.json()
    tasks = caps["ml"]["tasks"]
    assert {"semantic_image_embed", "semantic_text_embed", "bioclip_classify", "ocr",
            "face_recognition"} <= set(tasks)
    assert all(isinstance(t["available"], bool) for t in tasks.values())
    # The toggles start as the server's settings say: the test servers turn them off.
    assert all(t["enabled"] is False for t in tasks.values())
    nodes = int(any(t["available"] for t in tasks.values()))
    assert caps["ml"]["active_node_count"] == nodes
    assert caps["llm"] == {"agent_enabled": False, "configured": False}
    # A bad token is ignored here, not refused.
    assert srv.get("/capabilities", token="not-a-token").status_code == 200


def test_runtime_info(srv, user_token):
    res = srv.get("/settings/runtime-info")
    assert res.status_code == 200
    info = res.json()
    assert info["server_port"] == str(srv.port)
    assert info["log_level"] == "info"
    assert info["storage_root"].endswith("library")
    # The test server runs with periodic scans off.
    assert info["repository_scan_enabled"] is False
    assert info["repository_scan_interval_seconds"] == 0
    assert isinstance(info["hardware_accel"], str)
    assert srv.get("/settings/runtime-info", token=user_token).status_code == 403
    assert srv.get("/settings/runtime-info", token=None).status_code == 401


def cpu_only_onnxruntime() -> bool:
    import onnxruntime

    gpus = {"CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider"}
    return not gpus & set(onnxruntime.get_available_providers())


def test_capabilities_name_the_provider_onnxruntime_runs_on(srv):
    provider = srv.get("/capabilities", token=None).json()["ml"]["execution_provider"]

    # Learnt from a model onnxruntime really loaded, and logged as it did.
    runtime = srv.get("/ml/models").json()["runtime"]
    assert runtime["provider_confirmed"] is True and runtime["provider"] == provider
    log = srv.log_path.read_text()
    assert "model face_detect loaded in" in log and f"s on {provider}" in log
    accel = srv.get("/settings/runtime-info").json()["hardware_accel"]
    if cpu_only_onnxruntime():
        assert provider == "CPUExecutionProvider" and accel == "none"


def test_a_gpu_provider_that_is_missing_leaves_recognition_on_the_cpu(tmp_path):
    if not cpu_only_onnxruntime():
        pytest.skip("this onnxruntime has a GPU provider: the fallback is not reached")
    server = Server(tmp_path / "data", env={"LUMILIO_ML_PROVIDER": "cuda"}).start()
    try:
        caps = server.get("/capabilities", token=None).json()
        assert caps["ml"]["execution_provider"] == "CPUExecutionProvider"
        assert "execution provider cuda is not in this onnxruntime build" \
            in server.log_path.read_text()
    finally:
        server.stop()


def test_system_settings_keep_the_api_key_write_only(srv, user_token):
    before = srv.get("/settings/system").json()
    assert before["llm"]["api_key_configured"] is False
    assert before["ml"] == {"semantic_enabled": False, "bioclip_enabled": False,
                            "ocr_enabled": False, "face_enabled": False}

    res = srv.request("PATCH", "/settings/system", json={
        "llm": {"provider": "openai", "model_name": "gpt-4.1-mini",
                "api_key": API_KEY, "agent_enabled": True},
        "ml": {"ocr_enabled": True}})
    assert res.status_code == 200, res.text
    after = res.json()
    assert API_KEY not in res.text
    assert after["llm"] == {"agent_enabled": True, "provider": "openai",
                            "model_name": "gpt-4.1-mini", "api_key_configured": True}
    assert after["ml"]["ocr_enabled"] is True and after["ml"]["face_enabled"] is False
    me = srv.get("/auth/me").json()["user_id"]
    assert after["updated_by"] == me and after["updated_at"]

    again = srv.get("/settings/system")
    assert API_KEY not in again.text and again.json() == after
    stored = (srv.data_dir / "catalog.db").read_bytes()
    wal = srv.data_dir / "catalog.db-wal"
    stored += wal.read_bytes() if wal.exists() else b""
    assert API_KEY.encode() not in stored

    # No base URL: the assistant has no address to send anything to (there is no
    # default one), so the model is not configured yet.
    caps = srv.get("/capabilities", token=None).json()
    assert caps["llm"] == {"agent_enabled": True, "configured": False,
                           "provider": "openai", "model_name": "gpt-4.1-mini"}
    assert caps["ml"]["tasks"]["ocr"]["enabled"] is True
    assert caps["ml"]["tasks"]["face_recognition"]["enabled"] is False

    # A partial change leaves the rest; an empty key removes it.
    res = srv.request("PATCH", "/settings/system", json={"llm": {"api_key": ""}})
    assert res.json()["llm"]["api_key_configured"] is False
    assert res.json()["llm"]["model_name"] == "gpt-4.1-mini"
    assert srv.request("PATCH", "/settings/system", json={"ml": {}},
                       token=user_token).status_code == 403


@pytest.mark.parametrize("body", [
    {"llm": {"provider": "skynet"}},
    {"llm": {"base_url": "file:///etc/passwd"}},
    {"llm": {"base_url": "localhost:11434"}},
    {"llm": {"agent_enabled": "yes"}},
    {"llm": {"model_name": 42}},
    {"llm": "openai"},
    {"ml": {"face_enabled": 1}},
    {"ml": [True]},
])
def test_bad_system_settings_are_refused(srv, body):
    res = srv.request("PATCH", "/settings/system", json=body)
    assert res.status_code == 400, res.text
    assert res.json()["code"] == 400


def test_validate_llm_says_what_is_missing(srv):
    srv.request("PATCH", "/settings/system", json={
        "llm": {"provider": "", "model_name": "", "api_key": ""}})
    res = srv.post("/settings/system/validate-llm", {})
    assert res.status_code == 400
    assert res.json()["message"] == "LLM is not configured"
    assert "provider" in res.json()["error"] and "model_name" in res.json()["error"]

    res = srv.post("/settings/system/validate-llm",
                   {"provider": "ollama", "model_name": "llama3"})
    assert res.status_code == 400 and "base_url" in res.json()["error"]

    # Complete settings are tried for real: here nothing listens at the address.
    # (tests/test_agent_llm.py checks answers of a model server on loopback.)
    res = srv.post("/settings/system/validate-llm", {
        "provider": "ollama", "model_name": "llama3",
        "base_url": "http://127.0.0.1:9/v1"})
    assert res.status_code == 400
    assert "Could not connect" in res.json()["message"]
