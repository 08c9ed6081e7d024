"""Addresses the product may connect to: the servers a person names in a form (a
WebDAV folder, an S3 endpoint, a model server), checked when they are typed and
again just before each connection.

Loopback and private LAN addresses are allowed: a NAS at home and a model server on
this machine are the normal case. Link-local addresses (169.254.0.0/16, fe80::/10)
and the few metadata addresses clouds keep elsewhere are refused: that is where a
cloud machine hands its own credentials to whoever asks, and no photo service or
model server lives there.

An address is refused in every spelling: a numeric host is read the way the C
resolver reads it (`2852039166`, `0xa9fea9fe` and `169.254.43518` are all
169.254.169.254), and an IPv4 address inside an IPv6 one (`::ffff:169.254.169.254`)
counts as that IPv4 address. A host name is judged by what it resolves to when the
connection is made: `Transport` and `AsyncTransport` (httpx) connect only to the
addresses they checked, and `guard_boto3` checks each request of a boto3 client.

    Refused               an address the product does not connect to; str() says why
    └── CredentialsInURL  an address with a user name or password written into it
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
import socket
import typing
from ipaddress import IPv4Address, IPv6Address
from urllib.parse import urlsplit

import httpx

Address = IPv4Address | IPv6Address

WHY = ("a link-local or metadata address, where cloud machines answer with their "
       "own credentials; Lumilio does not connect there")
# Metadata services outside the link-local ranges: Amazon's over IPv6, and Alibaba
# Cloud's.
METADATA = frozenset({ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
# httpx's own defaults, which a transport made by hand has to restate.
_POOL = {"max_connections": 100, "max_keepalive_connections": 20,
         "keepalive_expiry": 5.0}


class Refused(Exception):
    """An address the product does not connect to; `str()` is the sentence."""


class CredentialsInURL(Refused):
    """A user name or password written into an address, where it would be shown
    and logged with it; the caller says which field to put it in instead."""


# -- what a form may name -------------------------------------------------------------


def check_url(value: str, label: str) -> str:
    """An http(s) address typed into a form, refused (`Refused`, naming `label`)
    when it cannot be right or points where the product does not connect."""
    try:
        url = httpx.URL(value)
        parts = urlsplit(value)
        _ = parts.port  # a port out of range raises here
    except (ValueError, httpx.InvalidURL):
        raise Refused(f"{label} is not a valid address") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise Refused(f"{label} must be an http:// or https:// address")
    if "@" in parts.netloc or url.userinfo:
        raise CredentialsInURL(f"{label} must not contain a user name or password")

    host = url.raw_host.decode("ascii")
    # httpx (which connects) and urlsplit (which botocore uses) must see the same
    # host, or the one checked would not be the one reached.
    if not _is_host(host) or parts.hostname not in (host.lower(), url.host):
        raise Refused(f"{label} does not name a host")
    address = numeric_host(host)
    if address is not None and forbidden(address):
        raise Refused(f"{label} points at {address}, {WHY}")
    return value


def _is_host(host: str) -> bool:
    if ":" in host:
        return _ipv6(host) is not None
    name = host.removesuffix(".")
    return 0 < len(name) <= 253 and all(_LABEL.match(p) for p in name.split("."))


# -- what an address is ---------------------------------------------------------------


def numeric_host(host: str) -> Address | None:
    """The address a host written as a number stands for, in any spelling the C
    resolver accepts; None for a host name."""
    if ":" in host:
        return _ipv6(host)
    return _inet_aton(host)


def forbidden(address: Address) -> bool:
    """Whether the product refuses to connect to `address`."""
    inner = _embedded_ipv4(address) if isinstance(address, IPv6Address) else None
    if inner is not None and forbidden(inner):
        return True
    return address.is_link_local or address in METADATA


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries to its destination: mapped
    (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or int(address) >> 32 == 0:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _ipv6(host: str) -> IPv6Address | None:
    try:
        # A zone ("%eth0", "%25eth0" in a URL) says which interface, not where.
        return IPv6Address(host.split("%")[0])
    except ValueError:
        return None


def _inet_aton(text: str) -> IPv4Address | None:
    """`text` read as glibc's inet_aton reads it: one to four parts, each decimal,
    octal (a leading 0) or hexadecimal (0x), the last filling the bytes left."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_c_number(part) for part in parts]
    if None in numbers:
        return None

    *leading, last = typing.cast(list[int], numbers)
    if any(n > 255 for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for place, number in enumerate(leading):
        value |= number << (8 * (3 - place))
    return IPv4Address(value)


def _c_number(part: str) -> int | None:
    if re.fullmatch(r"0[xX][0-9A-Fa-f]*", part):
        return int(part[2:] or "0", 16)
    if re.fullmatch(r"0[0-7]*", part):
        return int(part, 8)
    if re.fullmatch(r"[1-9][0-9]*", part):
        return int(part)
    return None


# -- at connection time ---------------------------------------------------------------


def resolve(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, as the system resolver gives them;
    Refused when any of them is one the product does not connect to. A name whose
    answers include a metadata address is refused whole: it is hostile or broken.
    A name that does not resolve raises OSError, as a connection would."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))

    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if forbidden(address):
            shown = host if host == text else f"{host} resolves to {address}, which"
            raise Refused(f"{shown} is {WHY}")
    return addresses


def _checked(client: str) -> tuple[type, type]:
    """A sync and an async transport for the HTTP client library `client` that
    connect only to the addresses `resolve` accepted, without resolving again: the
    address checked is the address reached, whatever the name answers next.

    Two libraries of the same design are in use: httpx (WebDAV) and its fork
    httpx2 (the model server's client, through openai); each transport must be one
    of its own library, with a connection pool of its own core (httpcore,
    httpcore2), so the classes are made per library.
    """
    http = importlib.import_module(client)
    core = importlib.import_module(client.replace("httpx", "httpcore"))

    def addresses(host: str, port: int) -> list[str]:
        # httpcore reports a name it cannot resolve as a failed connection.
        try:
            return resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise core.ConnectError(f"cannot resolve {host}: {exc}") from None

    class Backend(core.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None,
                        socket_options=None):
            failure: Exception | None = None
            for address in addresses(host, port):
                try:
                    return super().connect_tcp(address, port, timeout,
                                               local_address, socket_options)
                except (core.ConnectError, core.ConnectTimeout) as exc:
                    failure = exc
            raise failure or core.ConnectError(f"{host} has no address")

    class AsyncBackend(core.AnyIOBackend):
        async def connect_tcp(self, host, port, timeout=None, local_address=None,
                              socket_options=None):
            from anyio import to_thread

            failure: Exception | None = None
            for address in await to_thread.run_sync(addresses, host, port):
                try:
                    return await super().connect_tcp(address, port, timeout,
                                                     local_address, socket_options)
                except (core.ConnectError, core.ConnectTimeout) as exc:
                    failure = exc
            raise failure or core.ConnectError(f"{host} has no address")

    class Transport(http.HTTPTransport):
        """A client given this transport uses no proxy from the environment, so
        the address checked is the server's own."""

        def __init__(self, verify: bool = True) -> None:
            # HTTPTransport offers no way to choose the core's network backend, so
            # its pool is built here instead and its __init__ is not called: should
            # the library rename the pool, requests fail rather than go unchecked.
            self._pool = core.ConnectionPool(
                ssl_context=http.create_ssl_context(verify=verify),
                network_backend=Backend(), **_POOL)

    class AsyncTransport(http.AsyncHTTPTransport):
        def __init__(self, verify: bool = True) -> None:
            self._pool = core.AsyncConnectionPool(
                ssl_context=http.create_ssl_context(verify=verify),
                network_backend=AsyncBackend(), **_POOL)

    return Transport, AsyncTransport


# For httpx clients (WebDAV).
Transport, AsyncTransport = _checked("httpx")


@functools.cache
def httpx2_transports() -> tuple[type, type]:
    """`Transport` and `AsyncTransport` for httpx2 clients (the model server's),
    made on first use: httpx2 comes with the assistant's client library."""
    return _checked("httpx2")


def guard_boto3(client: typing.Any) -> None:
    """Check the host of each request of a boto3 client just before it is sent
    (a bucket's own host name included, on Amazon S3)."""
    client.meta.events.register("before-send", _check_request)


def _check_request(request: typing.Any, **_: typing.Any) -> None:
    # TODO: urllib3 resolves the name again when it connects, and botocore gives
    # no hook at the socket; a name whose answer changes between the two lookups
    # (DNS rebinding) is not caught here as it is by `Transport`.
    parts = urlsplit(request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        resolve(parts.hostname or "", port)
    except (OSError, UnicodeError):
        pass  # botocore's own attempt fails the same way, in its own words
