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
