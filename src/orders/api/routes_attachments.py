"""/orders/{id}/attachments (under the API prefix): presigned upload and download URLs."""

from fastapi import APIRouter, Depends

from orders.api.auth import AUTHENTICATED
from orders.api.deps import OrderId, OrdersDep
from orders.api.models import (
    AttachmentCreate,
    AttachmentList,
    AttachmentPublic,
    AttachmentUploadPublic,
    PresignedPost,
)
from orders.api.responses import COMMON, problem_responses
from orders.api.throttle import throttle

# Authenticated, then throttled per caller (orders.api.throttle): a 429 with Retry-After.
router = APIRouter(
    prefix="/orders/{order_id}/attachments",
    tags=["attachments"],
    responses={**COMMON, **problem_responses(401, 403, 429)},
    dependencies=[AUTHENTICATED, Depends(throttle)],
)


@router.post(
    "",
    status_code=201,
    responses=problem_responses(404),
    summary="Get a presigned POST to upload one attachment",
)
def create_attachment(
    order_id: OrderId, body: AttachmentCreate, service: OrdersDep
) -> AttachmentUploadPublic:
    upload = service.create_attachment(
        order_id, filename=body.filename, content_type=body.content_type, size=body.size
    )
    return AttachmentUploadPublic(
        attachment_id=upload.attachment_id,
        key=upload.key,
        filename=upload.filename,
        upload=PresignedPost(url=upload.url, fields=upload.fields),
        expires_in=upload.expires_in,
        max_bytes=upload.max_bytes,
    )


@router.get(
    "", responses=problem_responses(404), summary="List attachments with presigned download URLs"
)
def list_attachments(order_id: OrderId, service: OrdersDep) -> AttachmentList:
    return AttachmentList(
        items=[
            AttachmentPublic.model_validate(a, from_attributes=True)
            for a in service.list_attachments(order_id)
        ]
    )
