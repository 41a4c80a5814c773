"""Stage 1 of reading SIE: bytes to text.

SIE prescribes CP437 (``#FORMAT PC8``), but some programs write UTF-8 or
ISO-8859-15 while still declaring PC8. :func:`decode_sie` detects the real
encoding and reports a wrong declaration as a warning.
"""

from __future__ import annotations

import re

from syncstate.adapters.backends.sie.model import SieProblem

__all__ = ["decode_sie"]


def decode_sie(data: bytes) -> tuple[str, str, list[SieProblem]]:
    """Decode SIE bytes; return ``(text, encoding, warnings)``.

    SIE prescribes CP437 (``#FORMAT PC8``). Files that are valid UTF-8 with
    non-ASCII bytes are read as UTF-8; bytes only in the Latin-1 letter range
    (no CP437 letters in 0x80-0x9F) are read as ISO-8859-15. Both are reported.
    """
    warnings: list[SieProblem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        encoding = "utf-8"
    elif data.isascii():
        return data.decode("ascii"), "cp437", warnings
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            high = data.translate(None, bytes(range(0x80)))
            cp437_letters = len(high) - len(high.translate(None, bytes(range(0x80, 0xA0))))
            latin_letters = len(high) - len(high.translate(None, bytes(range(0xC0, 0x100))))
            encoding = "iso-8859-15" if cp437_letters == 0 and latin_letters else "cp437"
    if encoding != "cp437":
        declared = re.search(rb"^[ \t]*#FORMAT[ \t]+(\S+)", data[:4096], re.M)
        if declared is None or declared.group(1).strip(b'"').upper() == b"PC8":
            warnings.append(
                SieProblem(
                    0,
                    "warning",
                    f"the file declares #FORMAT PC8 (CP437) but is encoded as {encoding}; "
                    f"read as {encoding}",
                )
            )
    return data.decode(encoding), encoding, warnings
