"""Intake photos: what an upload must be before it is stored."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from workflows.errors import InvalidInput
from workflows.models import InspectionPhoto

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PHOTOS = 8


def check_photos(photos: Sequence[UploadedFile]) -> list[tuple[ContentFile, str]]:
    """Each upload is a JPEG, PNG or WebP image within the size and pixel limits; returns a
    clean copy of each, with its type.

    The type comes from the file's content, never from the name or the browser's word, since
    the buyer's page serves it back with that type. The copy is re-encoded from the pixels,
    turned the way the camera said (EXIF orientation), and carries no metadata at all: no GPS
    position, camera, date or comment reaches the buyer's link (only the colour profile stays,
    so the photo looks as it did). Every upload is checked before any is stored.
    """
    photos = [p for p in photos if p]
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("Attach at most %d photos.") % MAX_PHOTOS)
    return [_clean_copy(photo) for photo in photos]


def _not_a_photo(photo: UploadedFile) -> InvalidInput:
    return InvalidInput(_("%s is not a photo (JPEG, PNG or WebP).") % photo.name)


def _too_large(photo: UploadedFile) -> InvalidInput:
    return InvalidInput(
        _("%(name)s is too large: at most %(mp)s megapixels; take it at a lower resolution.")
        % {"name": photo.name, "mp": settings.INSPECTION_PHOTO_MAX_PIXELS // 1_000_000}
    )


def _clean_copy(photo: UploadedFile) -> tuple[ContentFile, str]:
    if photo.size > settings.INSPECTION_PHOTO_MAX_BYTES:
        raise InvalidInput(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": photo.name, "mb": settings.INSPECTION_PHOTO_MAX_BYTES // 2**20}
        )
    photo.seek(0)
    try:
        # open() reads the header only; the declared size is checked before any pixel is decoded.
        image = Image.open(photo, formats=list(FORMATS))
    except Image.DecompressionBombError:
        raise _too_large(photo) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _not_a_photo(photo) from None
    with image:
        width, height = image.size
        if width * height > settings.INSPECTION_PHOTO_MAX_PIXELS:
            raise _too_large(photo)
        image_format = image.format
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
            data = _encode(upright, image_format, image.info)
        except Image.DecompressionBombError:
            raise _too_large(photo) from None
        except Exception:  # a damaged or hostile file fails in any of Pillow's decoders' ways
            raise _not_a_photo(photo) from None
    extension = image_format.lower().replace("jpeg", "jpg")
    return ContentFile(data, name=f"photo.{extension}"), FORMATS[image_format]


def _encode(image: Image.Image, image_format: str, original_info: dict) -> bytes:
    """The pixels again in their own format, with none of the original's metadata."""
    clean = image.copy()
    clean.info = {}  # the PNG writer copies text chunks, EXIF and the like from info
    options: dict = {}
    if icc := original_info.get("icc_profile"):
        options["icc_profile"] = icc
    if image_format == "JPEG":
        options.update(quality=90)
    elif image_format == "PNG":
        if "transparency" in original_info and clean.mode in ("P", "L", "RGB"):
            options["transparency"] = original_info["transparency"]
    elif image_format == "WEBP":
        options.update(quality=90)
    buffer = io.BytesIO()
    clean.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def photo_response(photo: InspectionPhoto) -> FileResponse:
    """A stored photo, served (by the staff and the buyer views that checked access) with the
    type its content was checked to be, and never sniffed as anything else."""
    response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
