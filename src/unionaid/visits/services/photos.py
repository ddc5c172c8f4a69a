"""Visit photos (走访照片): checked by content, EXIF (GPS) stripped, thumbnails, stored outside
the web root by ``assistance.storage`` and served only through ``selectors.records
.photo_open_for_user``. Only photos (JPEG, PNG): a PDF that the attachment store would accept
is refused here.

The files go under ``PRIVATE_MEDIA_ROOT/visit_photos/``. ``assistance.storage`` ties each file to
the transaction it is written in: if that transaction rolls back, even after the service returned,
the file is deleted (and ``storage_sweep`` removes whatever still has no row).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.assistance import storage
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, ServiceError
from unionaid.visits.models import Visit, VisitPhoto
from unionaid.visits.services.followups import require_record

MAX_PHOTOS = 30
PHOTO_TYPES = ("image/jpeg", "image/png")


def _refuse_type() -> ServiceError:
    message = _("走访照片只能是 JPG 或 PNG 图片（按文件内容识别，改扩展名无效）。")
    return ServiceError(message, code="file_type", fields={"photos": message})


def store_photo(uploaded) -> storage.StoredFile:
    """Check, clean and write one photo; it is deleted if the caller's transaction rolls back."""
    stored = storage.store_upload(uploaded, subdir=storage.VISIT_PHOTOS)
    if stored.content_type not in PHOTO_TYPES:
        storage.delete_private(stored.storage_path, stored.thumbnail_path)
        raise _refuse_type()
    return stored


def discard(stored_files) -> None:
    for stored in stored_files:
        storage.delete_private(stored.storage_path, stored.thumbnail_path)


def create_photo_rows(*, actor, visit: Visit, stored_files) -> list[VisitPhoto]:
    """The rows of photos already written to disk (``store_photo``), audited."""
    photos = []
    for stored in stored_files:
        photo = VisitPhoto.objects.create(
            visit=visit, original_name=stored.original_name, storage_path=stored.storage_path,
            thumbnail_path=stored.thumbnail_path, content_type=stored.content_type,
            size=stored.size, sha256=stored.sha256, uploaded_by=actor)
        audit_record(actor=actor, action="visit.photo_add", target=visit,
                     org_unit_path=visit.org_unit.path,
                     changes={"photo": photo.pk, "content_type": stored.content_type,
                              "size": stored.size, "sha256": stored.sha256})
        photos.append(photo)
    return photos


@transaction.atomic
def visit_photo_add(*, actor, visit: Visit, uploaded_file) -> VisitPhoto:
    """Attach one photo to a visit (after it was sent: photos don't survive offline drafts)."""
    visit = (Visit.objects.select_for_update(of=("self",)).select_related("org_unit")
             .get(pk=visit.pk))
    require_record(actor, visit.org_unit)
    if visit.photos.count() >= MAX_PHOTOS:
        raise Conflict(_("每次走访最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS},
                       code="too_many_photos")
    stored = store_photo(uploaded_file)
    (photo,) = create_photo_rows(actor=actor, visit=visit, stored_files=[stored])
    return photo
