"""Test settings: production settings plus a fast password hasher."""

import tempfile

from backoffice.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # the demo accounts fixture
]
# Buyer links in emails point at the live test server where one runs.
SITE_URL = "http://testserver"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="tradein-media-"))  # noqa: F405
