"""WebDAV: Nextcloud, ownCloud and many NAS boxes, over httpx, with webdav4 reading
the properties in the listings.

The folder address is the only place the import goes, with the password:

- Redirects are not followed, not even on the same server: a folder that moved is
  reported with its new address, for a person to check and type in. Following one
  would let the server choose where the password goes next.
- Each connection goes through the address check of `lumilio.outbound`.
- Each entry of a listing is placed by its own path, decoded and with its `.` and
  `..` resolved, and used only when it lies inside the folder on the same server.
  An entry anywhere else (a `..` in its href, another host) is reported as a
  failed item and never downloaded.

webdav4 is imported on first use: a server that imports nothing over WebDAV never
loads it.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx

from lumilio import outbound
from lumilio.cloud.providers.base import (
    CloudError,
    Field,
    InvalidInput,
    ItemGone,
    Library,
    Provider,
    RemoteGone,
    RemoteItem,
    SignIn,
    SignInRefused,
    Sink,
    Unreachable,
    check_url,
)

log = logging.getLogger(__name__)

TIMEOUT_S = 30
CHUNK_BYTES = 1 << 20
# Folders nested deeper than this are not followed: a server that nests folders
# without end would otherwise be walked for ever.
MAX_DEPTH = 32
SHOWN_MAX = 200


class WebDAV(Provider):
    id = "webdav"
    title = "WebDAV"
    description = ("Import from a WebDAV folder: Nextcloud, ownCloud, or the file "
                   "sharing of a NAS.")
    security_note = ("Where the server offers app passwords, use one that can only "
                     "read files. The password is stored encrypted in the data "
                     "folder and never shown again.")
    form_fields = (
        Field("url", "Folder address", "url", placeholder=(
            "https://cloud.example.org/remote.php/dav/files/you/Photos/"),
            help_text="The WebDAV address of the folder to import, with its "
                      "sub-folders.", autocomplete="off"),
        Field("username", "User name", required=False, autocomplete="username",
              help_text="Leave empty for a share open to anyone."),
        Field("password", "Password", "password", required=False,
              autocomplete="current-password"),
    )
    secret_fields = frozenset({"password"})
    shown_fields = ("url",)

    def normalise(self, inputs: dict[str, str]) -> dict[str, str]:
        values = super().normalise(inputs)
        url = check_url(values["url"], "Folder address")
        # A folder address ends with a slash, or relative names would resolve
        # beside the folder instead of inside it.
        values["url"] = url if url.endswith("/") else url + "/"
        if values["password"] and not values["username"]:
            raise InvalidInput("A password needs a user name")
        return values

    def masked_identity(self, inputs: dict[str, str]) -> str:
        host = urlsplit(inputs["url"]).netloc
        return f"{inputs['username'] or 'anonymous'}@{host}"

    def sign_in(self, inputs: dict[str, str], state: Path) -> SignIn:
        library = self.open(inputs, state)
        try:
            library.check()
        except RemoteGone:
            raise InvalidInput("No folder at this address. Check the URL, including "
                               "the path to the shared folder") from None
        finally:
            library.close()
        return SignIn("connected")

    def open(self, inputs: dict[str, str], state: Path) -> WebDAVLibrary:
        auth = (inputs["username"], inputs["password"]) if inputs["username"] else None
        # No proxy and no .netrc from the environment: the password goes to the
        # address typed in, checked, and nowhere else.
        http = httpx.Client(auth=auth, timeout=TIMEOUT_S, follow_redirects=False,
                            trust_env=False, transport=outbound.Transport())
        return WebDAVLibrary(http, inputs["url"])


class _Outside(Exception):
    """A listed entry that lies outside the imported folder; `str()` says where."""


class WebDAVLibrary(Library):
    def __init__(self, http: httpx.Client, url: str):
        self.http = http
        self.url = url  # ends with a slash
        parts = urlsplit(url)
        self.origin = _origin(parts)
        self.root = _normal_path(parts.path)

    def items(self) -> Iterator[RemoteItem]:
        pending: list[tuple[str, int]] = [("", 0)]
        listed: set[str] = set()
        while pending:
            folder, depth = pending.pop()
            if folder in listed:
                continue  # a listing that names a folder twice, or loops back
            listed.add(folder)
            try:
                entries = self._list(folder)
            except ItemGone:
                log.warning("WebDAV folder %s vanished while it was listed", folder)
                continue

            folders = []
            for path, entry in self._placed(folder, entries):
                if isinstance(entry, RemoteItem):
                    yield entry
                elif depth < MAX_DEPTH:
                    folders.append((path, depth + 1))
            # Depth first, in name order: a listing comes out the same every time.
            pending.extend(reversed(folders))

    def _placed(self, folder: str, entries: list[tuple[str, Any]],
                ) -> list[tuple[str, RemoteItem | str]]:
        """The entries of a folder's listing by their path inside the imported
        folder, in name order: a RemoteItem for a file or for an entry outside,
        the word "directory" for a folder to list."""
        placed: list[tuple[str, RemoteItem | str]] = []
        for href, props in entries:
            try:
                path = self._place(href, self._url(folder, directory=True))
            except _Outside as where:
                shown = _shown(href)
                placed.append((shown, _refused(shown, f"the server listed it {where}; "
                                                      "it is not imported")))
                continue
            if not path or path == folder or PurePosixPath(path).name.startswith("."):
                continue
            if props is None:
                placed.append((path, _refused(path, "the server's listing of it "
                                                    "cannot be read")))
            elif props.resource_type == "directory":
                placed.append((path, "directory"))
            else:
                placed.append((path, _item(path, props)))
        return sorted(placed, key=lambda pair: pair[0])

    def _place(self, href: str, listed_at: str) -> str:
        """The path of a listed entry inside the imported folder ("" for the folder
        itself); _Outside when it lies anywhere else."""
        try:
            target = urlsplit(urljoin(listed_at, href))
            origin = _origin(target)
        except ValueError:
            raise _Outside("at an address that cannot be read") from None
        if origin != self.origin:
            raise _Outside("on another server")

        path = _normal_path(target.path)
        if path == self.root:
            return ""
        inside = self.root.rstrip("/") + "/"
        if not path.startswith(inside):
            raise _Outside("outside the imported folder")
        return path[len(inside):]

    def download(self, item: RemoteItem, sink: Sink) -> None:
        with (_translated(self.url, item.remote_id, gone=ItemGone),
              self.http.stream("GET", self._url(item.remote_id)) as response):
            response.raise_for_status()
            for chunk in response.iter_bytes(CHUNK_BYTES):
                sink.write(chunk)

    def check(self) -> None:
        self._propfind("", "0", gone=RemoteGone)

    def close(self) -> None:
        self.http.close()

    def _list(self, folder: str) -> list[tuple[str, Any]]:
        text = self._propfind(folder, "1", gone=ItemGone if folder else RemoteGone)
        return list(read_listing(text, folder or "the folder"))

    def _propfind(self, folder: str, depth: str, gone: type[CloudError]) -> str:
        with _translated(self.url, folder, gone=gone):
            response = self.http.request("PROPFIND", self._url(folder, directory=True),
                                         headers={"Depth": depth})
            response.raise_for_status()
        if response.status_code != 207:
            raise CloudError(f"{self._url(folder)} does not answer as a WebDAV "
                             f"folder ({response.status_code})")
        return response.text

    def _url(self, path: str, directory: bool = False) -> str:
        # Every character of the path is encoded, "%" too: the server decodes the
        # name once and finds exactly the path that was checked.
        tail = "/" if directory and path else ""
        return self.url + quote(path) + tail


def _normal_path(raw: str) -> str:
    """A URL's path as the server finds its file: decoded once, "." and ".."
    resolved, and a backslash taken as a separator, as on a server that keeps its
    files on Windows."""
    return posixpath.normpath(unquote(raw).replace("\\", "/") or "/")


def _origin(parts: Any) -> tuple[str, str, int]:
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname or "", parts.port or default


def read_listing(text: str, where: str) -> Iterator[tuple[str, Any]]:
    """The (href, properties) of each entry of a PROPFIND answer; properties are
    None for an entry whose values cannot be read."""
    from xml.etree.ElementTree import ParseError, fromstring

    from webdav4.multistatus import DAVProperties

    try:
        tree = fromstring(text)  # expat refuses entity expansion bombs
    except ParseError:
        raise CloudError(f"The server's listing of {where} cannot be read") from None
    for node in tree.iter("{DAV:}response"):
        href = (node.findtext("{DAV:}href") or "").strip()
        if not href:
            continue
        try:
            props = DAVProperties(node)
        except (ValueError, TypeError, OverflowError):
            props = None
        yield href, props


def _item(path: str, props: Any) -> RemoteItem:
    size, modified = props.content_length, props.modified
    # Most servers give an ETag; without one, size and time tell a change.
    version = props.etag or f"{size}:{modified.isoformat() if modified else ''}"
    return RemoteItem(remote_id=path, name=PurePosixPath(path).name, size=size,
                      version=str(version).strip('"'), modified=modified)


def _refused(remote_id: str, reason: str) -> RemoteItem:
    try:
        path = urlsplit(remote_id).path
    except ValueError:
        path = remote_id
    name = PurePosixPath(_normal_path(path)).name
    return RemoteItem(remote_id=remote_id, name=name or remote_id, size=None,
                      version="", refused=reason)


def _shown(text: str) -> str:
    """A text from the server as it may go into a message and the log: one line,
    of a bounded length."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"


@contextmanager
def _translated(url: str, path: str, gone: type[CloudError]) -> Iterator[None]:
    """Turns httpx failures and refused addresses into the provider errors, in
    words."""
    try:
        yield
    except outbound.Refused as exc:
        raise Unreachable(f"Cannot connect to {url}: {exc}") from None
    except httpx.HTTPError as exc:
        raise _translate(exc, url, path, gone) from None


def _translate(exc: httpx.HTTPError, url: str, path: str,
               gone: type[CloudError]) -> CloudError:
    where = path or "the folder"
    response = exc.response if isinstance(exc, httpx.HTTPStatusError) else None
    status = response.status_code if response is not None else None
    if status == 404:
        if gone is RemoteGone:
            return RemoteGone(f"The folder {url} no longer exists on the server")
        return ItemGone(f"{where} is no longer on the server")
    if status == 401:
        return SignInRefused("The server did not accept this user name and "
                             "password. Check them and try again")
    if status == 403:
        return SignInRefused(f"The server does not allow reading {where}")
    if status is not None and 300 <= status < 400:
        moved = _shown(response.headers.get("location", "another address"))
        return CloudError(f"The server sends {where} to {moved}; redirects are not "
                          "followed: if that is the right place, give its address "
                          "as the folder address")
    if isinstance(exc, httpx.TransportError):
        return Unreachable(f"Cannot reach {url}: {exc}")
    if status is not None:
        return CloudError(f"The server answered {status} for {where}")
    return CloudError(f"WebDAV error on {where}: {exc}")
