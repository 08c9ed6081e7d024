"""The check of the addresses the product connects to (`lumilio.outbound`): what a
form may name, and what a name resolves to just before a connection.

Refusals are checked in-process, before any connection is made: the spellings
below are numbers the system resolver reads without asking any server, standing
for host names whose answer is a link-local address. Nothing here connects
anywhere but to servers of the test's own on 127.0.0.1.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx
import pytest

from lumilio import outbound
from lumilio.cloud import providers
from lumilio.cloud.providers.base import InvalidInput, Unreachable

LINK_LOCAL_HOSTS = ["2852039166", "0xa9fea9fe", "169.254.43518",
                    "::ffff:169.254.169.254"]


@pytest.fixture
def loopback():
    """A plain HTTP server on 127.0.0.1 that answers every GET with "yes"."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"yes")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@pytest.mark.parametrize("url, expected", [
    ("http://a b/", "does not name a host"),
    ("http://nas%2elocal/", "does not name a host"),
    ("http://alice:secret@nas.local/", "user name or password"),
    ("http://@nas.local/", "user name or password"),
    ("ftp://nas.local/", "http:// or https://"),
    ("file:///etc/passwd", "http:// or https://"),
    ("http://nas.local:99999/", "not a valid address"),
    ("http://169.254.169.254/", "link-local"),
])
def test_an_address_that_is_not_a_server_to_use_is_refused(url, expected):
    with pytest.raises(outbound.Refused, match=expected):
        outbound.check_url(url, "Address")
    for name, field in (("webdav", "url"), ("s3", "endpoint")):
        with pytest.raises(InvalidInput, match=expected):
            providers.get(name).normalise({field: url, "bucket": "photos"})


def test_the_lan_and_this_machine_stay_allowed():
    for url in ("http://127.0.0.1:8080/dav/", "http://localhost/", "http://[::1]/",
                "http://192.168.1.20:5005/photos/", "http://10.0.0.2/",
                "http://0x7f000001/", "https://nas.local/remote.php/dav/",
                "http://my_nas/", "https://bücher.example/"):
        assert outbound.check_url(url, "Address") == url
        assert providers.get("webdav").normalise({"url": url})["url"] == url


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
def test_a_name_is_judged_by_what_it_resolves_to(host):
    with pytest.raises(outbound.Refused, match="169.254.169.254"):
        outbound.resolve(host, 80)


def test_this_machine_resolves_and_is_allowed():
    assert "127.0.0.1" in outbound.resolve("localhost", 80)
    assert outbound.resolve("127.0.0.1", 80) == ["127.0.0.1"]


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
def test_the_httpx_transports_check_before_they_connect(host):
    # The resolver refuses first (above); the transports never open a socket to
    # an address it refused.
    with pytest.raises(outbound.Refused):
        outbound.resolve(host, 9)

    url = f"http://{authority(host, 9)}/"
    with (httpx.Client(transport=outbound.Transport()) as client,
          pytest.raises(outbound.Refused)):
        client.get(url)

    async def fetch() -> None:
        async with httpx.AsyncClient(transport=outbound.AsyncTransport()) as client:
            await client.get(url)

    with pytest.raises(outbound.Refused):
        anyio.run(fetch)


def test_the_httpx_transports_reach_this_machine(loopback):
    for host in ("127.0.0.1", "localhost"):
        url = f"http://{host}:{loopback}/"
        with httpx.Client(transport=outbound.Transport()) as client:
            assert client.get(url).content == b"yes"

        async def fetch(url: str = url) -> bytes:
            async with httpx.AsyncClient(
                    transport=outbound.AsyncTransport()) as client:
                return (await client.get(url)).content

        assert anyio.run(fetch) == b"yes"


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
def test_boto3_checks_each_request_before_sending_it(host):
    with pytest.raises(outbound.Refused):
        outbound.resolve(host, 9)

    # An endpoint that did not go through the form: the request is still checked.
    library = providers.get("s3").open({
        "endpoint": f"http://{authority(host, 9)}", "region": "us-east-1",
        "bucket": "photos", "prefix": "", "access_key": "", "secret_key": ""},
        Path())

    # Runs after the check: fails the test, without sending, should the check
    # ever let a request through.
    def not_sent(**_) -> None:
        raise AssertionError("the request was let through")

    library.client.meta.events.register_last("before-send", not_sent)
    with pytest.raises(Unreachable, match="link-local"):
        library.check()
    library.close()
