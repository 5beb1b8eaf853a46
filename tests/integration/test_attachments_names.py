"""Attachment names as users type them, through the API and S3 (moto): kept, refused, downloaded."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from orders.domain.filenames import content_disposition

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

# Quotes, a backslash-free but punctuation-heavy name, accents, CJK and an emoji.
NAMES = [
    "invoice 2026 #17.pdf",
    'Offer "final" (v2) \u2013 50% off; résumé 報告書 😀.pdf',
]


def _upload(client: TestClient, order_id: str, filename: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/orders/{order_id}/attachments",
        json={"filename": filename, "content_type": "application/pdf", **extra},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _post_file(upload: dict[str, Any], body: bytes) -> None:
    """The browser's part: POST the form fields and the file to the presigned URL."""
    response = requests.post(
        upload["upload"]["url"],
        data=upload["upload"]["fields"],
        files={"file": ("ignored-by-s3", body, "application/pdf")},
        timeout=10,
    )
    assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize("filename", NAMES)
def test_a_typed_name_round_trips_to_the_download(
    client: TestClient, new_order: Any, filename: str
) -> None:
    order = new_order()
    upload = _upload(client, order["id"], filename)
    assert upload["filename"] == filename
    assert upload["key"] == f"orders/{order['id']}/{upload['attachment_id']}"

    _post_file(upload, b"%PDF-1.7 hello")
    [listed] = client.get(f"/api/orders/{order['id']}/attachments").json()["items"]

    assert listed["filename"] == filename
    assert listed["attachment_id"] == upload["attachment_id"]
    query = parse_qs(urlsplit(listed["download_url"]).query)
    assert query["response-content-disposition"] == [content_disposition(filename)]
    downloaded = requests.get(listed["download_url"], timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content == b"%PDF-1.7 hello"
    assert downloaded.headers["Content-Disposition"] == content_disposition(filename)


def test_the_policy_binds_the_name_type_and_size(
    client: TestClient, new_order: Any, aws: dict[str, str]
) -> None:
    order = new_order()
    upload = _upload(client, order["id"], NAMES[1], size=10)
    policy = json.loads(base64.b64decode(upload["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]
    name_field = upload["upload"]["fields"]["x-amz-meta-filename"]

    assert {"x-amz-meta-filename": name_field} in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", 1, upload["max_bytes"]] in conditions
    assert name_field.isascii()


def test_an_object_from_the_old_layout_is_listed_by_its_key(
    client: TestClient, new_order: Any, app: FastAPI
) -> None:
    order = new_order()
    s3 = app.state.container.clients.s3
    bucket = app.state.container.settings.bucket_name
    s3.put_object(Bucket=bucket, Key=f"orders/{order['id']}/{'a' * 32}/old.pdf", Body=b"x")

    [listed] = client.get(f"/api/orders/{order['id']}/attachments").json()["items"]

    assert (listed["attachment_id"], listed["filename"]) == ("a" * 32, "old.pdf")


@pytest.mark.parametrize(
    ("filename", "rule"),
    [
        ("", "empty"),
        ("x" * 256, "too-long"),
        ("a\x00b.pdf", "control-character"),
        ("a\r\nb.pdf", "control-character"),
        ("../etc/passwd", "path-separator"),
        ("a\\b.pdf", "path-separator"),
        ("..", "dot-name"),
        ("   ", "whitespace-only"),
        ("name.pdf ", "edge-whitespace"),
        ("invoice\u202efdp.exe", "bidi-control"),
    ],
)
def test_an_unsafe_name_is_a_422_naming_the_rule(
    client: TestClient, new_order: Any, filename: str, rule: str
) -> None:
    order = new_order()
    response = client.post(
        f"/api/orders/{order['id']}/attachments",
        json={"filename": filename, "content_type": "application/pdf"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    [error] = problem["errors"]
    assert error["field"] == "filename"
    assert f"rule: {rule}" in error["message"]
    assert client.get(f"/api/orders/{order['id']}/attachments").json()["items"] == []
