"""Where files we write at run time go: Django's STORAGES (backoffice/settings.py).

`default` holds intake photos; `police_reports` holds the police report files when
POLICE_REPORT=folder. Both are local folders unless STORAGE_S3_BUCKET names a bucket, when both
live there (private objects, never a public URL: our views read and serve them).
"""

from __future__ import annotations

import os
import tempfile

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

POLICE_REPORTS = "police_reports"


class ReportFolderStorage(FileSystemStorage):
    """The police report folder, POLICE_REPORT_DIR (read when used). Files are mode 600 (they
    hold ID numbers), written whole and then renamed, so whoever collects the folder never reads
    half a file; a file of the same name (the same report sent again) is replaced."""

    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("allow_overwrite", True)
        super().__init__(**kwargs)

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.POLICE_REPORT_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def _save(self, name, content):
        full_path = self.path(name)
        folder, filename = os.path.split(full_path)
        os.makedirs(folder, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
            os.chmod(partial, self.file_permissions_mode)
            os.replace(partial, full_path)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise
        return name


def police_report_storage() -> Storage:
    return storages[POLICE_REPORTS]


def where(storage: Storage, name: str) -> str:
    """A file's place in words for the record: its path, or s3://bucket/key."""
    try:
        return storage.path(name)
    except NotImplementedError:
        key = storage._normalize_name(name) if hasattr(storage, "_normalize_name") else name
        return f"s3://{getattr(storage, 'bucket_name', '?')}/{key}"


def police_report_destination() -> str:
    """Where POLICE_REPORT=folder delivers, in words: the folder, or s3://bucket/prefix."""
    storage = police_report_storage()
    try:
        return storage.path("")
    except NotImplementedError:
        return f"s3://{storage.bucket_name}/{storage.location}"
