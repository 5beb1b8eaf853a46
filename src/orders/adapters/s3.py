"""Attachments in S3: presigned POST for upload, presigned GET for download.

The POST policy pins the size range, the content type and SSE-KMS with the shared
key, so S3 itself refuses an upload that breaks any of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orders.adapters.errors import dependency
from orders.domain.model import Attachment, AttachmentUpload, new_id

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def attachment_prefix(order_id: str) -> str:
    return f"orders/{order_id}/"


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
        key = f"{attachment_prefix(order_id)}{attachment_id}/{filename}"
        fields = {
            "Content-Type": content_type,
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id,
        }
        conditions: list[object] = [
            {"Content-Type": content_type},
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
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    attachment_id, _, filename = obj["Key"][len(prefix) :].partition("/")
                    if not filename:
                        continue
                    url = self._client.generate_presigned_url(
                        "get_object",
                        Params={
                            "Bucket": self._bucket,
                            "Key": obj["Key"],
                            "ResponseContentDisposition": f'attachment; filename="{filename}"',
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

    def ping(self) -> None:
        with dependency("s3", "HeadBucket"):
            self._client.head_bucket(Bucket=self._bucket)
