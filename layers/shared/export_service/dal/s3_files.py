"""S3 access for export files: streaming multipart uploads (bounded memory), reading in chunks, presigned links."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from export_service.observability import phase

PART_SIZE = 8 * 1024 * 1024  # S3 needs >= 5 MiB for every part but the last
MIN_PART = 5 * 1024 * 1024
PRESIGN_SECONDS = 300  # links expire five minutes after they are made


class S3Upload:
    """Write text or bytes to one S3 object. Hashes and counts what it writes.

    Memory stays flat whatever the object's size: what is written is spooled to a temporary file (Lambda's /tmp,
    ephemeral storage) and each multipart part (>= 5 MiB, S3's minimum) is streamed from that file, so a worker holds
    a formatted page, never a part; the file is emptied after each part, so the disk holds at most one part too.

    Writing the same bytes to the same key again (a retried worker) replaces the object: never a duplicate row."""

    def __init__(self, client: Any, bucket: str, key: str, content_type: str, part_size: int = PART_SIZE) -> None:
        self._client, self._bucket, self.key = client, bucket, key
        self._content_type = content_type
        self._part_size = max(part_size, 5 * 1024 * 1024)
        self._spool: BinaryIO = tempfile.TemporaryFile(prefix="export-part-")  # noqa: SIM115 - closed by close/abort
        self._spooled = 0  # bytes in the spool file: the part being gathered
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._sha = hashlib.sha256()
        self.bytes = 0
        self.copied = 0  # bytes copied inside S3 (append_object), not sent

    def write(self, data: str | bytes) -> None:
        chunk = data.encode("utf-8") if isinstance(data, str) else data
        self._sha.update(chunk)
        self.bytes += len(chunk)
        self._spool.write(chunk)
        self._spooled += len(chunk)
        if self._spooled >= self._part_size:
            self._flush_part()

    def append_object(self, key: str, chunks: Iterable[bytes]) -> None:
        """Append the bytes of the object ``key`` (in this bucket), read as ``chunks``, hashed and counted. Where S3
        allows it, the object becomes a part of its own, copied inside S3 (UploadPartCopy) instead of sent again:
        when nothing is spooled (what is, if 5 MiB or more, is sent as a part first) and the object holds at least
        5 MiB. Its bytes are still read once, for the SHA-256 of the whole file; they are never uploaded again."""
        if self._spooled >= MIN_PART:
            self._flush_part()
        # with bytes spooled (a header, a separator) the object is written after them: its size is not needed
        size = 0 if self._spooled else int(self._client.head_object(Bucket=self._bucket, Key=key)["ContentLength"])
        if self._spooled or size < MIN_PART:
            for chunk in chunks:
                self.write(chunk)
            return
        self._start_multipart()
        number = len(self._parts) + 1
        with phase("upload"):
            response = self._client.upload_part_copy(
                Bucket=self._bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                CopySource={"Bucket": self._bucket, "Key": key},
            )
        self._parts.append({"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number})
        read = 0
        for chunk in chunks:
            self._sha.update(chunk)
            read += len(chunk)
        if read != size:
            raise RuntimeError(f"{key} changed while it was copied ({read:,} bytes read, {size:,} copied)")
        self.bytes += size
        self.copied += size

    def _start_multipart(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self.key, ContentType=self._content_type, ServerSideEncryption="AES256"
            )["UploadId"]

    def _spooled_body(self) -> BinaryIO:
        """The spool file from its start: botocore streams (and checksums) a file body in chunks."""
        self._spool.flush()
        self._spool.seek(0)
        return self._spool

    def _empty_spool(self) -> None:
        self._spool.seek(0)
        self._spool.truncate()
        self._spooled = 0

    def _flush_part(self) -> None:
        self._start_multipart()
        number = len(self._parts) + 1
        with phase("upload"):
            response = self._client.upload_part(
                Bucket=self._bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=self._spooled_body(),
                ContentLength=self._spooled,
            )
        self._parts.append({"ETag": response["ETag"], "PartNumber": number})
        self._empty_spool()

    def close(self) -> str:
        """Finish the object; returns its SHA-256 (hex)."""
        try:
            with phase("upload"):
                return self._close()
        finally:
            self._spool.close()

    def _close(self) -> str:
        if self._upload_id is None:
            self._client.put_object(
                Bucket=self._bucket,
                Key=self.key,
                Body=self._spooled_body(),
                ContentLength=self._spooled,
                ContentType=self._content_type,
                ServerSideEncryption="AES256",
            )
        else:
            if self._spooled:
                self._flush_part()
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        self._empty_spool()
        return self._sha.hexdigest()

    def abort(self) -> None:
        self._spool.close()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self.key, UploadId=self._upload_id)


class ExportFiles:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def upload(self, key: str, content_type: str) -> S3Upload:
        return S3Upload(self._client, self.bucket, key, content_type)

    def put_json(self, key: str, document: Any) -> None:
        self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(document, separators=(",", ":")).encode(),
            ContentType="application/json",
            ServerSideEncryption="AES256",
        )

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
        )

    def get_json(self, key: str) -> Any:
        return json.loads(self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def chunks(self, key: str, size: int = 1024 * 1024) -> Iterator[bytes]:
        body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        while chunk := body.read(size):
            yield chunk

    def presign(self, key: str, filename: str | None = None, expires: int = PRESIGN_SECONDS) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return str(self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires))
