"""SMTP that waits as long as the mail server may take to accept a message.

EMAIL_TIMEOUT bounds connecting and each command. After the message's final "." the server
stores or relays the mail before it answers, and RFC 5321 (4.5.3.2.6) gives it up to 10
minutes: giving up after EMAIL_TIMEOUT there means the mail was probably delivered and our
retry sends it again. So the reply to the data gets EMAIL_DATA_TIMEOUT instead. A retry after
that still carries the same Message-ID (workflows.documents.emails), so mail servers can drop the
copy.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend


class _PatientData:
    def data(self, msg):
        self.sock.settimeout(settings.EMAIL_DATA_TIMEOUT)
        try:
            return super().data(msg)
        finally:
            if self.sock is not None:
                self.sock.settimeout(self.timeout)


class _SMTP(_PatientData, smtplib.SMTP):
    pass


class _SMTP_SSL(_PatientData, smtplib.SMTP_SSL):
    pass


class SMTPBackend(EmailBackend):
    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP
