"""Stage 4, fast path, of reading SIE: whole vouchers by one regex, rows kept packed.

A voucher whose rows are all plain ``#TRANS`` rows is matched whole by one
strict regex (:data:`_VOUCHER`): only valid accounts, object lists, amounts and
calendar days match, so its rows are kept packed (text plus their sum, for the
balance check) in a :class:`PackedStore` and unpacked together on first use.
:func:`read_text` drives a read: matched vouchers here, every other line
through the general reader (:class:`~syncstate.adapters.backends.sie.lines.Lines`).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import zlib
from decimal import Decimal

from syncstate.adapters.backends.sie.fields import parse_date
from syncstate.adapters.backends.sie.labels import Reader
from syncstate.adapters.backends.sie.lines import Lines
from syncstate.adapters.backends.sie.model import ObjectRef, SieTrans, SieVoucher

__all__ = ["PackedStore", "read_text"]

_TOK = r'(?:"[^"\\\n{}]*+"|[^\s"{}\\]++)'
# A real calendar day; 29 February is left to the general reader.
_DAY = (
    r"(?!0000)[0-9]{4}(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)|02(?:0[1-9]|1[0-9]|2[0-8]))"
)
#: a whole voucher whose rows are all plain ``#TRANS`` rows: the ``#VER`` line
#: (series, number, date, [text, [registration date, [signature]]]), ``{``, the
#: rows, ``}``. Everything it accepts is valid, so its rows can stay packed.
_VOUCHER = re.compile(
    rf"""^[ \t]*+\#VER
    [ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++))
    [ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++))
    [ \t]++({_DAY})
    (?:[ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++))
      (?:[ \t]++({_DAY}|"")
        (?:[ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++)))?
      )?
    )?[ \t]*+\n
    [ \t]*+\{{[ \t]*+\n
    ((?:[ \t]*+\#TRANS[ \t]++[^\s"{{}}\\]++
       [ \t]++\{{[ \t]*+(?:{_TOK}[ \t]++{_TOK}(?:[ \t]++{_TOK}[ \t]++{_TOK})*+)?[ \t]*+\}}
       [ \t]++-?(?:[0-9]++(?:\.[0-9]++)?|\.[0-9]++)
       (?:[ \t]++(?:{_DAY}|"")(?:[ \t]++"[^"\\\n{{}}]*+")?)?
       [ \t]*+\n)*+)
    [ \t]*+\}}[ \t]*+\n""",
    re.M | re.X,
)
#: the amounts of packed rows: a '}' there only closes an object list (quoted
#: tokens and texts with braces are left to the general reader)
_PACKED_AMOUNT = re.compile(r"\}[ \t]++([-.0-9]++)")
#: the same amounts when they have exactly two decimals, in packed rows whose '.'
#: became '_' (which ``int`` skips): each is then its whole number of öre/cents
_PACKED_CENTS = re.compile(r"\}[ \t]++(-?[0-9]++_[0-9][0-9])[ \t\n]")
#: the sum of rows with two decimals each that balance, as ``Decimal`` adds them
_ZERO_CENTS = Decimal("0.00")
#: the fields of packed rows: account, object list, amount, date, text
_PACKED_ROW = re.compile(
    r'^[ \t]*#TRANS[ \t]+(\S+)[ \t]+\{([^}]*)\}[ \t]+(\S+)(?:[ \t]+(\S+)(?:[ \t]+"([^"]*)")?)?',
    re.M,
)
_PACKED_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')
_SPACE = re.compile(r"\s*")


def _object_tokens(packed: str) -> list[str]:
    return [quoted + bare for quoted, bare in _PACKED_TOKEN.findall(packed)]


class PackedStore:
    """The packed ``#TRANS`` rows of one read's vouchers (validated by :data:`_VOUCHER`).

    The first voucher whose rows are asked for unpacks all of them in one pass
    with the cyclic GC paused (like the read itself: the rows are millions of
    tuples the collector would otherwise traverse again and again). Object
    lists, days and account strings are cached, so equal values are one object.
    """

    def __init__(self) -> None:
        #: the packed rows of each voucher, in the order of their indexes
        self.texts: list[str] = []
        self.unpacked: list[tuple[SieTrans, ...]] | None = None

    def count(self, index: int) -> int:
        """How many rows voucher ``index`` has."""
        if self.unpacked is not None:
            return len(self.unpacked[index])
        return self.texts[index].count("\n")

    def rows(self, index: int) -> tuple[SieTrans, ...]:
        """The rows of voucher ``index``."""
        if self.unpacked is None:
            collecting = gc.isenabled()
            gc.disable()
            try:
                self.unpacked = self._unpack_all()
            finally:
                if collecting:
                    gc.enable()
            self.texts = []
        return self.unpacked[index]

    def _unpack_all(self) -> list[tuple[SieTrans, ...]]:
        objects_of: dict[str, tuple[ObjectRef, ...]] = {"": ()}
        days: dict[str, dt.date | None] = {"": None, '""': None}
        accounts: dict[str, str] = {}
        new_row = tuple.__new__
        findall = _PACKED_ROW.findall
        out: list[tuple[SieTrans, ...]] = []
        for text in self.texts:
            rows: list[SieTrans] = []
            append = rows.append
            for account, objects_s, amount, day_s, row_text in findall(text):
                objects = objects_of.get(objects_s)
                if objects is None:
                    tokens = _object_tokens(objects_s)
                    objects = tuple(zip(tokens[::2], tokens[1::2], strict=True))
                    objects_of[objects_s] = objects
                day = days.get(day_s)
                if day is None and day_s not in days:
                    day = days[day_s] = dt.date(int(day_s[:4]), int(day_s[4:6]), int(day_s[6:]))
                account = accounts.setdefault(account, account)
                fields = ("TRANS", account, objects, Decimal(amount), day, row_text, None, "")
                append(new_row(SieTrans, fields))
            out.append(tuple(rows))
        return out


def _packed_crc(m: re.Match[str], crc: int) -> int:
    """The ``#KSUMMA`` CRC after the voucher ``m`` matched by :data:`_VOUCHER`."""
    g = m.groups("")
    reg = g[7] if g[7] != '""' else ""
    head = "#VER" + g[0] + g[1] + g[2] + g[3] + g[4] + g[5] + g[6] + reg + g[8] + g[9]
    crc = zlib.crc32(head.encode("cp437", "replace"), crc)
    for account, objects_s, amount, day, text in _PACKED_ROW.findall(g[10]):
        flat = "".join(_object_tokens(objects_s))
        record = "#TRANS" + account + flat + amount + (day if day != '""' else "") + text
        crc = zlib.crc32(record.encode("cp437", "replace"), crc)
    return crc


def read_text(reader: Reader, text: str) -> None:
    """Read ``text`` (only ``\\n`` line breaks, ending with one).

    Vouchers that :data:`_VOUCHER` matches whole are read in one step and keep
    their rows packed (see :meth:`SieVoucher.packed`); every other line goes
    through the general reader (:class:`Lines`), which also takes a matched
    voucher when the lines before it left a voucher open.
    """
    start = _SPACE.match(text)
    first = start.end() if start is not None else 0
    if first == len(text):
        reader.error(0, "the file is empty: not an SIE file")
        reader.is_sie = False
        return
    if text[first] != "#":
        line = text.count("\n", 0, first) + 1
        reader.error(line, "not an SIE file: the first line is not an SIE label (#...)")
        reader.is_sie = False
        return
    lines = Lines(reader)
    store = PackedStore()
    packed_texts = store.texts
    keep = packed_texts.append
    packed = SieVoucher.packed_maker(store)
    dates = reader.dates
    vouchers = reader.vouchers
    count = text.count
    amounts = _PACKED_AMOUNT.findall
    cents_of = _PACKED_CENTS.findall
    zero = Decimal(0)
    pos, n = 0, 1  # n: the line number at pos
    idle, crc = True, False  # the state of `lines`, updated whenever it reads
    for m in _VOUCHER.finditer(text):
        start_pos, end_pos = m.span()
        if start_pos > pos:
            lines.feed_text(text[pos:start_pos], n)
            n += count("\n", pos, start_pos)
            idle = lines.head is None and lines.block is None and not lines.skip_block
            crc = lines.crc is not None
        pos = end_pos
        if not idle:
            lines.feed_text(m.group(), n)
            n += count("\n", start_pos, end_pos)
            idle = lines.head is None and lines.block is None and not lines.skip_block
            crc = lines.crc is not None
            continue
        (q_series, series, q_number, number, day_s, q_vtext, vtext, reg_s, q_sign, sign, rows) = (
            m.groups()
        )
        day = dates.get(day_s)
        if day is None:
            day = dates[day_s] = parse_date(day_s, "voucher date", dates)
        reg = None
        if reg_s is not None and reg_s != '""':
            reg = dates.get(reg_s) or parse_date(reg_s, "registration date", dates)
        if crc:
            lines.crc = _packed_crc(m, lines.crc or 0)
        # The sum, for the balance check: as whole öre when every amount has two
        # decimals (one per row: a '}' in the rows only closes an object list).
        size = rows.count("\n")
        cents = cents_of(rows.replace(".", "_"))
        if len(cents) == size and not sum(map(int, cents)):
            total = _ZERO_CENTS
        else:
            total = sum(map(Decimal, amounts(rows)), zero)
        head = (
            series or q_series,
            number or q_number,
            day,
            vtext or q_vtext or "",
            reg,
            sign or q_sign or "",
            n,
            total,
        )
        voucher = packed(head, len(packed_texts))
        keep(rows)
        if total:
            reader.unbalanced(voucher, total)
        vouchers.append(voucher)
        n += size + 3  # the #VER, '{' and '}' lines and one per row
    lines.n = n - 1
    if pos < len(text):
        lines.feed_text(text[pos:], n)
    lines.finish()
