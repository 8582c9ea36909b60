"""Domain errors. Views and admin classes turn these into messages; nothing has changed."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation. The message is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionRefused(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class UnknownCode(InvalidInput):
    """A store-credit code that belongs to no credit (the counter counts these: guessing)."""


class NeedsConfirmation(DomainError):
    """Allowed, but only once the person confirms (an offer far above the price list)."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class LinkInvalid(DomainError):
    """A buyer link that was tampered with, superseded, used or expired."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # tampered | expired | superseded | used
