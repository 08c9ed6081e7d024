"""The test kit: real servers on loopback, fresh data folders, the shared media.

Imported by name (`from serverkit import ...`): a module named `conftest` cannot be
imported reliably when several folders of the suite have one.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUMILIO_SHARED") or REPO.parent / "shared")
MEDIA = SHARED / "media"
PASSWORD = "Correct-Horse-9"
# Recognition is off in test servers unless a test turns it on: the models would
# analyse every imported photo. The species look-up points at a closed local port.
ML_OFF = {"LUMILIO_ML_SEMANTIC": "false", "LUMILIO_ML_OCR": "false",
          "LUMILIO_ML_FACES": "false", "LUMILIO_ML_SPECIES": "false",
          "LUMILIO_INATURALIST_URL": "http://127.0.0.1:9"}


def manifest() -> list[dict]:
    with open(MEDIA / "MANIFEST.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def manifest_time(text: str) -> tuple[datetime | None, int | None]:
    """A manifest time as (naive wall clock, offset in minutes or None)."""
    match = re.match(r"(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)?"
                     r"\s*(Z|[+-]\d\d:?\d\d)?", text.strip())
    if not match:
        return None, None
    wall = datetime(*(int(x) for x in match.groups()[:6]))
    zone = match.group(7)
    if zone is None:
        return wall, None
    if zone == "Z":
        return wall, 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return wall, minutes if zone[0] == "+" else -minutes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`lumilio serve` in a child process, driven through its HTTP API."""

    def __init__(self, data_dir: Path, libraries: list[Path] = (), env=None):
        self.data_dir = data_dir
        self.libraries = list(libraries)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.token: str | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 60) -> Server:
        cmd = [sys.executable, "-m", "lumilio", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--data-dir", str(self.data_dir),
               "--no-browser"]
        for lib in self.libraries:
            cmd += ["--library", str(lib)]
        env = {**os.environ, "LUMILIO_SCAN_INTERVAL": "0", **ML_OFF, **self.env}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server never became healthy: {self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    # -- HTTP ---------------------------------------------------------------------

    def request(self, method: str, path: str, token: str | None = "default",
                **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        token = self.token if token == "default" else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, self.base + "/api/v1" + path, headers=headers,
                             timeout=60, **kwargs)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json=None, **kw) -> httpx.Response:
        return self.request("POST", path, json=json, **kw)

    def sign_up(self, username: str = "alice", password: str = PASSWORD) -> dict:
        self.post("/setup", {}, token=None)
        res = self.post("/auth/register/start",
                        {"username": username, "password": password}, token=None)
        assert res.status_code == 200, res.text
        body = res.json()
        if self.token is None:
            self.token = body["token"]
        return body

    def register(self, username: str, password: str = PASSWORD) -> str:
        """A further account (a plain user); returns its access token."""
        res = self.post("/auth/register/start",
                        {"username": username, "password": password}, token=None)
        assert res.status_code == 200, res.text
        return res.json()["token"]

    def assets(self, token: str | None = "default", **filters) -> list[dict]:
        out, offset = [], 0
        while True:
            res = self.post("/assets/list", {
                "pagination": {"limit": 100, "offset": offset},
                "stack_mode": "expanded", "filter": filters}, token=token)
            assert res.status_code == 200, res.text
            items = res.json()["items"]
            out += [item["asset"] for item in items]
            if len(items) < 100:
                return out
            offset += 100

    def wait_idle(self, timeout: float = 300, settle: int = 3) -> int:
        """Until no job is waiting or running and the asset count is stable."""
        deadline = time.monotonic() + timeout
        last, stable = None, 0
        while time.monotonic() < deadline:
            stats = self.get("/admin/river/stats").json()
            busy = sum(stats[k] for k in ("available", "running", "retryable",
                                          "scheduled"))
            count = self.post("/assets/list", {
                "pagination": {"limit": 1}, "stack_mode": "expanded"}).json()[
                "total_assets"]
            stable = stable + 1 if busy == 0 and count == last else 0
            if stable >= settle:
                return count
            last = count
            time.sleep(0.5)
        raise AssertionError(f"queue never became idle: {stats}")


def copy_media(dest: Path, paths: list[str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for rel in paths:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(MEDIA / rel, target)
    return dest
