"""Attachments in S3: presigned POST for upload, presigned GET for download.

The POST policy pins the size range, the content type, SSE-KMS with the shared key
and the name's metadata, so S3 itself refuses an upload that breaks any of them.

Object layout: `orders/<order id>/<attachment id>`, a key made of ids only; the name
the user chose travels with the object as user metadata (`x-amz-meta-filename`,
base64url of its UTF-8, since metadata must be ASCII and percent-encoding 255
characters could pass S3's 2 KB metadata limit). Objects written before this layout,
`orders/<order id>/<attachment id>/<filename>`, are still listed, by the key's name.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from orders.adapters.errors import dependency
from orders.domain.filenames import content_disposition
from orders.domain.model import Attachment, AttachmentUpload, new_id

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


# User metadata S3 keeps with the object (the POST form field and HeadObject's key).
FILENAME_META = "filename"
FILENAME_FIELD = f"x-amz-meta-{FILENAME_META}"


def attachment_prefix(order_id: str) -> str:
    return f"orders/{order_id}/"


def encode_filename(filename: str) -> str:
    """The name as ASCII metadata: base64url of its UTF-8, unpadded."""
    return base64.urlsafe_b64encode(filename.encode()).decode().rstrip("=")


def decode_filename(value: str) -> str | None:
    """Inverse of encode_filename; None for a value it did not write."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeError):
        return None


class S3AttachmentStore:
    def __init__(
        self, *, bucket: str, kms_key_id: str, client: S3Client, expiry_seconds: int
    ) -> None:
        self._bucket = bucket
        self._kms_key_id = kms_key_id
        self._client = client
        self._expiry = expiry_seconds

    def presign_upload(
        self, *, order_id: str, filename: str, content_type: str, max_bytes: int
    ) -> AttachmentUpload:
        attachment_id = new_id()
        key = f"{attachment_prefix(order_id)}{attachment_id}"
        fields = {
            "Content-Type": content_type,
            FILENAME_FIELD: encode_filename(filename),
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id,
        }
        conditions: list[object] = [
            {"Content-Type": content_type},
            {FILENAME_FIELD: fields[FILENAME_FIELD]},
            ["content-length-range", 1, max_bytes],
            {"x-amz-server-side-encryption": "aws:kms"},
            {"x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id},
        ]
        with dependency("s3", "GeneratePresignedPost", order_id=order_id):
            post = self._client.generate_presigned_post(
                Bucket=self._bucket,
                Key=key,
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=self._expiry,
            )
        return AttachmentUpload(
            attachment_id=attachment_id,
            key=key,
            filename=filename,
            url=post["url"],
            fields={k: str(v) for k, v in post["fields"].items()},
            expires_in=self._expiry,
            max_bytes=max_bytes,
        )

    def list_attachments(self, order_id: str) -> list[Attachment]:
        prefix = attachment_prefix(order_id)
        paginator = self._client.get_paginator("list_objects_v2")
        attachments = []
        with dependency("s3", "ListObjectsV2", order_id=order_id):
            objects = [
                obj
                for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
                for obj in page.get("Contents", [])
            ]
        for obj in objects:
            attachment_id, _, legacy_name = obj["Key"][len(prefix) :].partition("/")
            # An object put some other way than our POST has no name: show its id.
            filename = (
                legacy_name or self._stored_filename(obj["Key"], order_id=order_id) or attachment_id
            )
            with dependency("s3", "GeneratePresignedUrl", order_id=order_id):
                url = self._client.generate_presigned_url(
                    "get_object",
                    Params={
                        "Bucket": self._bucket,
                        "Key": obj["Key"],
                        "ResponseContentDisposition": content_disposition(filename),
                    },
                    ExpiresIn=self._expiry,
                )
            attachments.append(
                Attachment(
                    attachment_id=attachment_id,
                    filename=filename,
                    size=obj["Size"],
                    last_modified=obj["LastModified"].isoformat(),
                    download_url=url,
                    expires_in=self._expiry,
                )
            )
        return sorted(attachments, key=lambda a: a.last_modified)

    def _stored_filename(self, key: str, *, order_id: str) -> str | None:
        """The chosen name kept in the object's metadata (None: not put by our POST)."""
        with dependency("s3", "HeadObject", order_id=order_id, key=key):
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        value = head.get("Metadata", {}).get(FILENAME_META)
        return decode_filename(value) if value else None

    def ping(self) -> None:
        with dependency("s3", "HeadBucket"):
            self._client.head_bucket(Bucket=self._bucket)
