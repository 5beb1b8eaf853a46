"""The attachment policy: allowed types, the size limit, only for existing orders."""

from __future__ import annotations

import pytest

from orders.domain.errors import AttachmentRejected, OrderNotFound
from orders.domain.filenames import UnsafeFilename
from orders.service import NewOrder, OrderService
from tests.fakes import Fakes, fake_settings

MAX_BYTES = 1000
ALLOWED = frozenset({"application/pdf", "text/plain"})


@pytest.fixture
def service(fakes: Fakes) -> OrderService:
    settings = fake_settings(max_attachment_bytes=MAX_BYTES, allowed_content_types=ALLOWED)
    return fakes.container(settings).service


@pytest.fixture
def order_id(service: OrderService) -> str:
    return service.create(NewOrder(customer="acme", product="widget", quantity=1)).order.id


@pytest.mark.parametrize("size", [None, 1, MAX_BYTES])
def test_an_allowed_upload_is_presigned_with_the_policy_limit(
    service: OrderService, fakes: Fakes, order_id: str, size: int | None
) -> None:
    upload = service.create_attachment(
        order_id, filename="invoice.pdf", content_type="application/pdf", size=size
    )

    assert upload.max_bytes == MAX_BYTES
    assert upload.key.startswith(f"orders/{order_id}/")
    assert fakes.attachments.presigned == [upload]


@pytest.mark.parametrize("content_type", ["image/png", "application/x-msdownload", ""])
def test_a_type_outside_the_policy_is_rejected_naming_the_allowed_ones(
    service: OrderService, fakes: Fakes, order_id: str, content_type: str
) -> None:
    with pytest.raises(AttachmentRejected, match="application/pdf, text/plain"):
        service.create_attachment(order_id, filename="x", content_type=content_type, size=1)
    assert fakes.attachments.presigned == []


def test_a_size_over_the_limit_is_rejected(
    service: OrderService, fakes: Fakes, order_id: str
) -> None:
    with pytest.raises(AttachmentRejected, match=f"over the limit of {MAX_BYTES} bytes"):
        service.create_attachment(
            order_id, filename="big.pdf", content_type="application/pdf", size=MAX_BYTES + 1
        )
    assert fakes.attachments.presigned == []


def test_an_unknown_order_has_no_uploads_and_no_attachments(
    service: OrderService, fakes: Fakes
) -> None:
    with pytest.raises(OrderNotFound):
        service.create_attachment(
            "0" * 32, filename="a.pdf", content_type="application/pdf", size=1
        )
    with pytest.raises(OrderNotFound):
        service.list_attachments("0" * 32)
    assert fakes.attachments.presigned == []


def test_uploaded_files_are_listed_for_their_order_only(
    service: OrderService, fakes: Fakes, order_id: str
) -> None:
    other = service.create(NewOrder(customer="acme", product="gadget", quantity=1)).order.id
    upload = service.create_attachment(
        order_id, filename="notes.txt", content_type="text/plain", size=12
    )
    fakes.attachments.upload(order_id, upload, size=12)

    [listed] = service.list_attachments(order_id)

    assert (listed.attachment_id, listed.filename, listed.size) == (
        upload.attachment_id,
        "notes.txt",
        12,
    )
    assert service.list_attachments(other) == []


@pytest.mark.parametrize("filename", ["invoice 2026 #17.pdf", "Préface (v2) «final».pdf"])
def test_the_chosen_name_is_kept_and_never_part_of_the_key(
    service: OrderService, fakes: Fakes, order_id: str, filename: str
) -> None:
    upload = service.create_attachment(
        order_id, filename=filename, content_type="application/pdf", size=1
    )
    fakes.attachments.upload(order_id, upload, size=1)

    assert upload.filename == filename
    assert upload.key == f"orders/{order_id}/{upload.attachment_id}"
    assert [a.filename for a in service.list_attachments(order_id)] == [filename]


@pytest.mark.parametrize(
    ("filename", "rule"),
    [("../x.pdf", "path-separator"), ("a\r\nb.pdf", "control-character"), ("..", "dot-name")],
)
def test_an_unsafe_name_is_refused_by_the_service_too(
    service: OrderService, fakes: Fakes, order_id: str, filename: str, rule: str
) -> None:
    with pytest.raises(UnsafeFilename, match=f"rule: {rule}"):
        service.create_attachment(
            order_id, filename=filename, content_type="application/pdf", size=1
        )
    assert fakes.attachments.presigned == []
