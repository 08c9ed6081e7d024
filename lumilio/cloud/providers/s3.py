"""S3-compatible object storage: Amazon S3, MinIO, Backblaze B2, Wasabi, NAS boxes.

Talks through boto3 with only what the form gives: the keys typed in (or none, for a
public bucket, with unsigned requests), never the machine's own AWS credentials,
which boto3 would otherwise look for in the environment and the network. Each
request's host is checked by `lumilio.outbound` just before it is sent. boto3 is
imported on first use: a server that imports nothing from S3 never loads it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

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

CHUNK_BYTES = 1 << 20
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")
_REFUSED = {"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken",
            "ExpiredToken", "InvalidSecurity", "AuthorizationHeaderMalformed"}


class S3(Provider):
    id = "s3"
    title = "S3-compatible storage"
    description = ("Import from a bucket on Amazon S3 or a compatible service: "
                   "MinIO, Backblaze B2, Wasabi, or the object storage of a NAS.")
    security_note = ("Use a key that can only list and read this bucket. The "
                     "secret key is stored encrypted in the data folder and never "
                     "shown again.")
    form_fields = (
        Field("endpoint", "Endpoint", "url", required=False,
              placeholder="http://nas.local:9000", autocomplete="off",
              help_text="The service's address. Leave empty for Amazon S3 itself."),
        Field("region", "Region", required=False, placeholder="us-east-1",
              help_text="Required for Amazon S3; other services mostly accept "
                        "any value."),
        Field("bucket", "Bucket", autocomplete="off"),
        Field("prefix", "Prefix", required=False, placeholder="photos/",
              help_text="Only objects whose names start with this are imported."),
        Field("access_key", "Access key ID", required=False,
              autocomplete="username",
              help_text="Leave both keys empty for a public bucket."),
        Field("secret_key", "Secret access key", "password", required=False,
              autocomplete="current-password"),
    )
    secret_fields = frozenset({"secret_key"})
    shown_fields = ("endpoint", "region", "bucket", "prefix")

    def normalise(self, inputs: dict[str, str]) -> dict[str, str]:
        values = super().normalise(inputs)
        if values["endpoint"]:
            values["endpoint"] = check_url(values["endpoint"], "Endpoint").rstrip("/")
        elif not values["region"]:
            # Without an endpoint the bucket is on Amazon S3, which needs a region.
            raise InvalidInput("Region is required for Amazon S3 (or give the "
                               "endpoint of another service)")
        if not _BUCKET.match(values["bucket"]):
            raise InvalidInput("Bucket must be a bucket name: letters, digits, "
                               "dots, dashes and underscores")
        if bool(values["access_key"]) != bool(values["secret_key"]):
            raise InvalidInput("Give both the access key ID and the secret access "
                               "key, or neither for a public bucket")
        return values

    def masked_identity(self, inputs: dict[str, str]) -> str:
        key = inputs["access_key"]
        if not key:
            return f"anonymous@{inputs['bucket']}"
        shown = f"{key[:4]}…{key[-4:]}" if len(key) > 8 else f"{key[:2]}…"
        return f"{shown}@{inputs['bucket']}"

    def sign_in(self, inputs: dict[str, str], state: Path) -> SignIn:
        library = self.open(inputs, state)
        try:
            library.check()
        except RemoteGone:
            raise InvalidInput(f"There is no bucket {inputs['bucket']!r} at this "
                               "service") from None
        return SignIn("connected")

    def open(self, inputs: dict[str, str], state: Path) -> S3Library:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        anonymous = not inputs["access_key"]
        config = Config(
            signature_version=UNSIGNED if anonymous else None,
            # Services other than AWS mostly serve buckets by path, not by host name.
            s3={"addressing_style": "path" if inputs["endpoint"] else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10, read_timeout=60,
        )
        try:
            client = boto3.session.Session().client(
                "s3", endpoint_url=inputs["endpoint"] or None,
                region_name=inputs["region"] or "us-east-1",
                aws_access_key_id=inputs["access_key"] or None,
                aws_secret_access_key=inputs["secret_key"] or None,
                config=config)
        except (ValueError, BotoCoreError) as exc:
            raise InvalidInput(f"The endpoint or region cannot be used: {exc}") \
                from None
        outbound.guard_boto3(client)
        return S3Library(client, inputs["bucket"], inputs["prefix"])


class S3Library(Library):
    def __init__(self, client, bucket: str, prefix: str):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def items(self) -> Iterator[RemoteItem]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        with _translated(self.bucket, ""):
            for page in pages:
                for entry in page.get("Contents", []):
                    key = entry["Key"]
                    name = PurePosixPath(key).name
                    if key.endswith("/") or not name or name.startswith("."):
                        continue
                    yield RemoteItem(remote_id=key, name=name, size=entry["Size"],
                                     version=entry["ETag"].strip('"'),
                                     modified=entry.get("LastModified"))

    def download(self, item: RemoteItem, sink: Sink) -> None:
        with _translated(self.bucket, item.remote_id):
            answer = self.client.get_object(Bucket=self.bucket, Key=item.remote_id)
            etag = answer.get("ETag", "").strip('"')
            # An ETag is the MD5 of the bytes only for a plain single-part upload
            # stored without KMS or customer keys; otherwise it is opaque.
            plain = _PLAIN_MD5.match(etag) and answer.get(
                "ServerSideEncryption") in (None, "AES256") and not answer.get(
                "SSECustomerAlgorithm")
            digest = hashlib.md5(usedforsecurity=False)
            for chunk in answer["Body"].iter_chunks(CHUNK_BYTES):
                digest.update(chunk)
                sink.write(chunk)
        if plain and digest.hexdigest() != etag:
            raise CloudError(f"{item.remote_id}: the bytes received do not match "
                             "the checksum the service gave")

    def check(self) -> None:
        # A listing rather than a HEAD request: its error answer has a body that
        # tells a wrong key from a missing bucket.
        with _translated(self.bucket, ""):
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix,
                                        MaxKeys=1)


@contextmanager
def _translated(bucket: str, key: str) -> Iterator[None]:
    """Turns botocore failures into the provider errors, in words."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except outbound.Refused as exc:
        raise Unreachable(f"Cannot connect to the storage service: {exc}") from None
    except (ClientError, BotoCoreError) as exc:
        raise _translate(exc, bucket, key) from None


def _translate(exc: Exception, bucket: str, key: str) -> CloudError:
    from botocore.exceptions import ClientError
    from botocore.exceptions import ConnectionError as ConnectionFailure

    if isinstance(exc, ConnectionFailure):
        return Unreachable(f"Cannot reach the storage service: {exc}")
    if not isinstance(exc, ClientError):
        return CloudError(f"Storage service error: {exc}")
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket" or (not key and code in ("404", "NotFound")):
        return RemoteGone(f"The bucket {bucket!r} no longer exists")
    if code in ("NoSuchKey", "404", "NotFound"):
        return ItemGone(f"{key} is no longer in the bucket")
    if code in _REFUSED:
        return SignInRefused("The service did not accept this access key and "
                             "secret key. Check them and try again")
    if code == "AccessDenied" or status == 403:
        return SignInRefused(f"The key may not read the bucket {bucket!r}")
    return CloudError(f"The storage service answered {code or status}"
                      + (f" for {key}" if key else ""))
