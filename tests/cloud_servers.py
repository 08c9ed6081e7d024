"""Cloud services on loopback for the tests: S3 (moto) and WebDAV (wsgidav).

Each runs in the test process, on 127.0.0.1 with a port of its own, and serves
copies of files from the shared media. A `Gate` in front of each counts the
requests and can hold one until the test lets it go, so that a test can act at an
exact point of an import (stop the server, delete the folder) without timing:

    with WebDAVServer(tmp_path / "dav", {"photos/a.jpg": "jpeg/Canon_40D.jpg"},
                      username="alice", password="secret") as dav:
        dav.inputs("photos/")        # the `inputs` of POST /cloud/credentials
        held = dav.gate.hold("GET", "photos/a.jpg")
        held.reached.wait(60); ...; held.release()

Imported by name (`from cloud_servers import ...`), like serverkit.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Self
from urllib.parse import unquote

import boto3
import httpx
from botocore.config import Config
from cheroot import wsgi
from werkzeug.serving import make_server
from wsgidav.wsgidav_app import WsgiDAVApp

from serverkit import copy_media

REGION = "us-east-1"
HOLD_LIMIT_S = 300  # a held request never outlives a test that forgot to release it


class Hold:
    """A request held at the gate: `reached` is set when it arrives, and it goes on
    when released."""

    def __init__(self, method: str, path: str):
        self.method = method
        self.path = path.strip("/")
        self.reached = threading.Event()
        self._released = threading.Event()

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.strip("/") == self.path

    def release(self) -> None:
        self._released.set()

    def wait_release(self) -> None:
        self._released.wait(HOLD_LIMIT_S)


class Gate:
    """WSGI middleware: counts requests by method and path, holds the chosen ones."""

    def __init__(self, app: Callable):
        self.app = app
        self.counts: Counter[tuple[str, str]] = Counter()
        self._holds: list[Hold] = []
        self._lock = threading.Lock()

    def hold(self, method: str, path: str) -> Hold:
        """Hold the next `method` request for `path` (relative to the server)."""
        held = Hold(method, path)
        with self._lock:
            self._holds.append(held)
        return held

    def count(self, method: str, path: str) -> int:
        return self.counts[(method, path.strip("/"))]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = unquote(environ.get("PATH_INFO", "")).strip("/")
        with self._lock:
            self.counts[(method, path)] += 1
            held = next((h for h in self._holds if h.matches(method, path)), None)
            if held is not None:
                self._holds.remove(held)
        if held is not None:
            held.reached.set()
            held.wait_release()
        return self.app(environ, start_response)


class WebDAVServer:
    """wsgidav serving a folder of copied media, anonymously or for one user."""

    def __init__(self, root: Path, files: dict[str, str], username: str = "",
                 password: str = ""):
        self.root = root
        self.username = username
        self.password = password
        root.mkdir(parents=True, exist_ok=True)
        _fill_folder(root, files)
        users = {username: {"password": password}} if username else True
        self.gate = Gate(WsgiDAVApp({
            "provider_mapping": {"/": str(root)},
            "simple_dc": {"user_mapping": {"*": users}},
            "http_authenticator": {"accept_basic": True, "accept_digest": False,
                                   "default_to_digest": False},
            "verbose": 0,
            "logging": {"enable": False, "enable_loggers": []},
        }))
        self._server = wsgi.Server(("127.0.0.1", 0), self.gate)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.bind_addr[1]}/"

    def inputs(self, folder: str = "", password: str | None = None) -> dict:
        return {"url": self.url + folder, "username": self.username,
                "password": self.password if password is None else password}

    def start(self) -> WebDAVServer:
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class S3Server:
    """moto's S3 in server mode, with signed requests checked against one user's
    keys (so a wrong secret key is refused as AWS would) and a bucket of media."""

    def __init__(self, root: Path, files: dict[str, str], prefix: str = ""):
        self.bucket = f"photos-{uuid.uuid4().hex[:12]}"
        self.prefix = prefix
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args) -> None:
                pass

        self.gate = Gate(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, self.gate, threaded=True,
                                   request_handler=QuietHandler)
        self._files = root
        root.mkdir(parents=True, exist_ok=True)
        _fill_folder(root, files)
        self.keys: dict[str, str] = {}
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def inputs(self, secret_key: str | None = None) -> dict:
        return {"endpoint": self.endpoint, "region": REGION, "bucket": self.bucket,
                "prefix": self.prefix, "access_key": self.keys["AccessKeyId"],
                "secret_key": self.keys["SecretAccessKey"] if secret_key is None
                else secret_key}

    def client(self, service: str = "s3", signed: bool = True):
        keys = (self.keys["AccessKeyId"], self.keys["SecretAccessKey"]) if signed \
            else ("setup", "setup")
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                            config=Config(s3={"addressing_style": "path"}))

    def start(self) -> S3Server:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()
        # moto's authentication switch is process-wide: off while the user, its
        # policy and the bucket are made, then on for everything that follows.
        self._authentication(False)
        iam = self.client("iam", signed=False)
        user = f"lumilio-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="read-photos",
                            PolicyDocument=json.dumps({"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                               "Resource": "*"}]}))
        self.keys = iam.create_access_key(UserName=user)["AccessKey"]
        s3 = self.client("s3", signed=False)
        s3.create_bucket(Bucket=self.bucket)
        for path in sorted(p for p in self._files.rglob("*") if p.is_file()):
            key = path.relative_to(self._files).as_posix()
            s3.upload_file(str(path), self.bucket, key)
        self._authentication(True)
        return self

    def delete_bucket(self) -> None:
        s3 = self.client()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for entry in page.get("Contents", []):
                s3.delete_object(Bucket=self.bucket, Key=entry["Key"])
        s3.delete_bucket(Bucket=self.bucket)

    def stop(self) -> None:
        self._server.shutdown()

    def _authentication(self, on: bool) -> None:
        res = httpx.post(self.endpoint + "/moto-api/reset-auth",
                         content=b"0" if on else b"inf")
        res.raise_for_status()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _fill_folder(root: Path, files: dict[str, str]) -> None:
    """Copies of shared media (or of text, for values starting with "text:"),
    at the names given relative to `root`."""
    for name, source in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.startswith("text:"):
            target.write_text(source.removeprefix("text:"))
            continue
        copied = copy_media(root / ".media", [source]) / source
        copied.replace(target)
    shutil.rmtree(root / ".media", ignore_errors=True)


logging.getLogger("werkzeug").setLevel(logging.WARNING)
