"""S3Upload spools to a temporary file and streams each multipart part from it: the object is exactly what was
written (bytes and SHA-256), across part boundaries, small or large."""

from __future__ import annotations

import hashlib
import os

import boto3
import pytest
from moto import mock_aws

from export_service.dal.s3_files import PART_SIZE, S3Upload

pytestmark = pytest.mark.integration
BUCKET = "upload-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.mark.parametrize("size", [0, 1_000, PART_SIZE - 1, PART_SIZE, 2 * PART_SIZE + 12_345])
def test_the_object_is_what_was_written(s3, size: int) -> None:
    data = os.urandom(size)
    upload = S3Upload(s3, BUCKET, "k", "application/octet-stream")
    for start in range(0, size, 300_001):  # writes that straddle the part boundaries
        upload.write(data[start : start + 300_001])
    digest = upload.close()
    body = s3.get_object(Bucket=BUCKET, Key="k")["Body"].read()
    assert body == data and upload.bytes == size and digest == hashlib.sha256(data).hexdigest()


def test_text_is_written_as_utf8_and_an_abort_leaves_no_upload(s3) -> None:
    upload = S3Upload(s3, BUCKET, "t", "text/csv")
    upload.write("zoë,ü\r\n" * (PART_SIZE // 4))  # over one part: a multipart upload is open
    upload.abort()
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert not s3.list_objects_v2(Bucket=BUCKET, Prefix="t").get("Contents")


@pytest.mark.parametrize(
    ("head", "sizes", "copied"),
    [
        # the head is sent with the first object; the spool (>= 5 MiB) becomes a part, the next object is copied;
        # a small one is spooled, so the next large one is sent with it (a part under 5 MiB is only allowed last)
        ("id,name\r\n", [6, 7, 1, 6, 3], [1]),
        ("", [6, 6, 6], [0, 1, 2]),  # nothing spooled: every object of 5 MiB or more is copied
        ("", [1, 2, 3], []),  # small objects are sent
        ("", [6, 1, 6, 6], [0, 3]),
    ],
)
def test_appended_objects_are_copied_inside_s3_where_large_and_the_file_is_exact(
    s3, head: str, sizes: list[int], copied: list[int]
) -> None:
    objects = []
    for number, mib in enumerate(sizes):
        body = os.urandom(mib * 1024 * 1024 + number)
        s3.put_object(Bucket=BUCKET, Key=f"part-{number}", Body=body)
        objects.append(body)
    upload = S3Upload(s3, BUCKET, "stitched", "text/csv")
    upload.write(head)
    for number in range(len(sizes)):
        chunks = s3.get_object(Bucket=BUCKET, Key=f"part-{number}")["Body"].iter_chunks(1024 * 1024)
        upload.append_object(f"part-{number}", chunks)
    upload.write("\n")
    digest = upload.close()
    want = head.encode() + b"".join(objects) + b"\n"
    assert s3.get_object(Bucket=BUCKET, Key="stitched")["Body"].read() == want
    assert digest == hashlib.sha256(want).hexdigest() and upload.bytes == len(want)
    assert upload.copied == sum(len(objects[number]) for number in copied)
