"""/api/v1/assistance: upload a material to an application, and read a material's file back
through the permission-checked selector (staff reads are journaled)."""

from __future__ import annotations

import datetime as dt

from ninja import File, Form, Router, Schema, Status, UploadedFile

from unionaid.assistance import selectors, services
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS
from unionaid.core.http import private_file_response

router = Router(tags=["assistance"])


# -- POST /applications/{id}/attachments --------------------------------------------------------

class AttachmentAddOut(Schema):
    id: int
    material: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


@router.post("/applications/{application_id}/attachments",
             response={201: AttachmentAddOut, **WRITE_ERRORS},
             summary="上传材料（multipart：material 材料名称，file 文件；仅 JPG/PNG/PDF）")
def attachment_add(request, application_id: int, material: Form[str],
                   file: File[UploadedFile]):
    application = selectors.application_get_for_user(user=request.auth, pk=application_id)
    attachment = services.attachment_add(actor=request.auth, application=application,
                                         material=material, uploaded_file=file)
    return Status(201, attachment)


# -- GET /attachments/{id} ----------------------------------------------------------------------

@router.get("/attachments/{attachment_id}", response={200: None, **READ_ERRORS},
            url_name="assistance-attachment-file",
            summary="下载材料文件（?thumb=true 取缩略图；有权查看的人才能下载）",
            openapi_extra={"responses": {200: {"description": "文件内容", "content": {
                "image/jpeg": {}, "image/png": {}, "application/pdf": {}}}}})
def attachment_file(request, attachment_id: int, thumb: bool = False):
    handle, content_type, filename = selectors.attachment_open_for_user(
        user=request.auth, pk=attachment_id, thumbnail=thumb)
    return private_file_response(handle, content_type=content_type, filename=filename)
