"""Stage 4 of reading SIE: the general line reader.

:class:`Lines` reads any line in any state, one at a time: it owns the state
between lines (the ``#VER`` waiting for its ``{``, the open voucher block and
the running ``#KSUMMA`` CRC) and hands each label to the :class:`Reader`.
"""

from __future__ import annotations

import re
import zlib
from decimal import Decimal, InvalidOperation

from syncstate.adapters.backends.sie.fields import (
    DIGITS,
    ROW_LABELS,
    LineError,
    Token,
    ksumma_record,
    parse_int,
    tokenize,
)
from syncstate.adapters.backends.sie.labels import Reader
from syncstate.adapters.backends.sie.model import SieTrans, SieUnknown

__all__ = ["Lines", "ver_fields"]

_FAST_VER = re.compile(
    r'[ \t]*#VER[ \t]+(?:"([^"\\]*)"|([^\s"{}]+))[ \t]+(?:"([^"\\]*)"|([^\s"{}]+))'
    r'[ \t]+([0-9]{8})(?:[ \t]+"([^"\\]*)")?[ \t]*'
)


def ver_fields(line: str) -> list[Token]:
    """Fields of a ``#VER`` line; a regex for the usual ``#VER A 1 20230105 "text"``."""
    m = _FAST_VER.fullmatch(line)
    if m is not None:
        q_series, series, q_number, number, date, text = m.groups()
        return [
            "#VER",
            series if series is not None else q_series,
            number if number is not None else q_number,
            date,
            text or "",
        ]
    return tokenize(line)


class Lines:
    """The general reader: any line, in any state, one at a time.

    It reads everything the packed voucher path (:func:`read_text`) does not
    take, and owns the state between lines: the ``#VER`` waiting for its ``{``,
    the open voucher block and the running ``#KSUMMA`` CRC.
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.head: dict[str, object] | None = None  # the #VER waiting for its '{'
        self.head_line = 0
        self.skip_block = False  # the #VER before the next block could not be read
        self.block: list[SieTrans] | None = None  # rows of the open voucher block
        self.total = Decimal(0)
        self.broken = False
        self.crc: int | None = None  # running #KSUMMA CRC, between opening and closing
        self.n = 0  # the line last read
        self.accounts: dict[str, str] = {}

    def feed_text(self, text: str, first: int) -> None:
        """Read the lines of ``text`` (only ``\\n`` breaks); the first is line ``first``."""
        feed = self.feed
        for n, line in enumerate(text.splitlines(), first):
            feed(n, line)

    def feed(self, n: int, line: str) -> None:
        """Read line ``n``."""
        self.n = n
        parts = line.split()
        if not parts:
            return
        if self.block is not None:
            self._block_line(n, line, parts)
            return
        reader = self.reader
        label = parts[0]
        try:
            if label == "{":
                if len(parts) != 1:
                    raise LineError("'{' must stand alone on its line")
                if self.head is None and not self.skip_block:
                    raise LineError("'{' without a #VER before it")
                self.block, self.total, self.broken = [], Decimal(0), self.skip_block
                return
            if self.head is not None or self.skip_block:
                self.head, self.skip_block = None, False
                raise LineError("#VER must be followed by a '{' line")
            if label == "}":
                raise LineError("'}' without an open voucher")
            if not label.startswith("#"):
                raise LineError("expected an SIE label (#...)")
            if label == "#VER":
                self._ver(n, line)
                return
            fields = tokenize(line)
            label = str(fields.pop(0))
            reader.label = label
            if label == "#KSUMMA":
                self._ksumma(n, fields)
                return
            if self.crc is not None:
                self.crc = zlib.crc32(ksumma_record(label, fields), self.crc)
            if label in ROW_LABELS:
                raise LineError(f"{label} outside a voucher block")
            handler = reader.handlers.get(label)
            if handler is None:
                reader.warn(n, f"unknown label {label} kept and ignored")
                reader.unknown.append(SieUnknown(label, tuple(fields), n))
                return
            handler(fields, n)
            reader.seen.add(label)
        except LineError as exc:
            reader.error(n, str(exc))
        except (ArithmeticError, ValueError) as exc:  # huge numbers: never leak past the reader
            reader.error(n, f"cannot read line: {exc}")

    def _ver(self, n: int, line: str) -> None:
        m = _FAST_VER.fullmatch(line) if self.crc is None else None
        day = self.reader.dates.get(m.group(5)) if m is not None else None
        if m is not None and day is not None:
            q_series, series, q_number, number, _, text = m.groups()
            self.head = {
                "series": series if series is not None else q_series,
                "number": number if number is not None else q_number,
                "date": day,
                "text": text or "",
            }
            self.head_line = n
            return
        fields = ver_fields(line)
        label = str(fields.pop(0))
        if self.crc is not None:
            self.crc = zlib.crc32(ksumma_record(label, fields), self.crc)
        self.head_line = n  # also when unreadable: its block is reported here
        try:
            self.head = self.reader.voucher_head(fields)
        except LineError:
            self.skip_block = True
            raise

    def _ksumma(self, n: int, fields: list[Token]) -> None:
        reader = self.reader
        if not fields:
            if self.crc is not None or "#KSUMMA" in reader.seen:
                raise LineError("a second opening #KSUMMA")
            self.crc = 0
            reader.seen.add("#KSUMMA")
            return
        declared = parse_int(fields[0], "#KSUMMA")
        if self.crc is None:
            raise LineError("closing #KSUMMA without an opening #KSUMMA line")
        reader.head["ksumma"] = declared
        if declared != self.crc:
            reader.error(n, f"#KSUMMA is {declared} but the file's checksum is {self.crc}")
        self.crc = None

    def _block_line(self, n: int, line: str, parts: list[str]) -> None:
        rows = self.block
        assert rows is not None
        label = parts[0]
        if label == "#TRANS" and 4 <= len(parts) <= 5 and parts[2] == "{}" and '"' not in line:
            # the usual row, without quotes or objects: no tokenizer
            amount_s = parts[3]
            day = self.reader.dates.get(parts[4]) if len(parts) == 5 else None
            if not amount_s.strip(DIGITS) and (day is not None or len(parts) == 4):
                try:
                    amount = Decimal(amount_s)
                except InvalidOperation:
                    pass
                else:
                    account = self.accounts.setdefault(parts[1], parts[1])
                    rows.append(SieTrans("TRANS", account, (), amount, day))
                    self.total += amount
                    if self.crc is not None:
                        record = "#TRANS" + account + amount_s + (parts[4] if day else "")
                        self.crc = zlib.crc32(record.encode("cp437", "replace"), self.crc)
                    return
        if label == "}":
            if len(parts) != 1:
                self.reader.error(n, "'}' must stand alone on its line")
            self.close_block()
            return
        try:
            fields = tokenize(line)
            label = str(fields.pop(0))
            if label not in ROW_LABELS:
                raise LineError(f"{label} inside a voucher block (missing '}}'?)")
            row = self.reader.row(label, fields)
            if self.crc is not None:
                self.crc = zlib.crc32(ksumma_record(label, fields), self.crc)
        except LineError as exc:
            self.reader.error(n, str(exc))
            self.broken = True
            return
        except (ArithmeticError, ValueError) as exc:
            self.reader.error(n, f"cannot read line: {exc}")
            self.broken = True
            return
        rows.append(row)
        if row.kind == "TRANS":
            self.total += row.amount

    def close_block(self) -> None:
        """End the open voucher block; keep the voucher unless a row was unreadable."""
        if self.head is not None and not self.broken and self.block is not None:
            self.reader.close_voucher(self.head, self.block, self.head_line, self.total)
        self.head, self.skip_block, self.block = None, False, None

    def finish(self) -> None:
        """Report what the end of the file leaves open."""
        reader = self.reader
        if self.block is not None:
            reader.error(self.head_line or self.n, "voucher block is not closed with '}'")
            self.close_block()
        if self.head is not None:
            reader.error(self.head_line, "#VER must be followed by a '{' line")
        if self.crc is not None:
            reader.error(self.n, "opening #KSUMMA without a closing #KSUMMA checksum")
