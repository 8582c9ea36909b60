"""Intake photos: what an upload must be before it is stored."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from workflows.errors import InvalidInput
from workflows.models import InspectionPhoto

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PHOTOS = 8


def check_photos(photos: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """Each upload is a JPEG, PNG or WebP image within the size limit; returns (file, type).

    The type comes from the file's content, never from the name or the browser's word, since
    the buyer's page serves it back with that type.
    """
    photos = [p for p in photos if p]
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("Attach at most %d photos.") % MAX_PHOTOS)
    checked = []
    for photo in photos:
        if photo.size > settings.INSPECTION_PHOTO_MAX_BYTES:
            raise InvalidInput(
                _("%(name)s is larger than %(mb)s MB.")
                % {"name": photo.name, "mb": settings.INSPECTION_PHOTO_MAX_BYTES // 2**20}
            )
        try:
            photo.seek(0)
            with Image.open(photo) as image:
                image_format = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise InvalidInput(_("%s is not a photo (JPEG, PNG or WebP).") % photo.name) from None
        if image_format not in FORMATS:
            raise InvalidInput(_("%s is not a photo (JPEG, PNG or WebP).") % photo.name)
        photo.seek(0)
        checked.append((photo, FORMATS[image_format]))
    return checked


def photo_response(photo: InspectionPhoto) -> FileResponse:
    """A stored photo, served (by the staff and the buyer views that checked access) with the
    type its content was checked to be, and never sniffed as anything else."""
    response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
