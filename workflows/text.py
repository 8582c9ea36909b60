"""Free text a person typed, made safe to show anywhere: one rule for every action."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides, embeddings and isolates make "Ada<RLO>moc.elpmaxe" read as another
# name in the queue, an email or a spreadsheet; zero-width characters make two names that look
# the same compare different (and hide text from a search). Neither belongs in a name, an
# address or a reason, and control characters never do.
_INVISIBLE = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u180e"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def clean_text(value: str) -> str:
    """NFC-normalised, without bidi controls, zero-width or control characters, trimmed.

    Line breaks and tabs stay (reasons and notes may have several lines).
    """
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", str(value))).strip()
