"""The last check before a report is published: no e-mail addresses, phone numbers or raw ids.

Ingest keeps direct identifiers out of the processed tables (unmapped columns are dropped,
customer ids are pseudonymised, free text is redacted), so a report should never show one. This
module checks the result rather than trusting the pipeline: :func:`scan_report` reads every
text file a run publishes (``*.html``, ``*.csv``, ``*.json``, ``*.ipynb``; Parquet twins are
the same data as the CSV files and are not read) and lists what looks like personal data.

What counts as a finding
------------------------

``email``
    ``local@domain.tld`` (a file name such as ``logo@2x.png`` is not an address).
``phone``
    Indonesian mobile numbers (``0812-3456-7890``, ``+62 812 3456 7890``, ``6281234567890``:
    a national number of 9 to 12 digits starting with 8), any number written with a leading
    ``+`` and a country code (8 to 15 digits, the E.164 limit), and landlines with the area code
    in brackets (``(021) 555-1234``). Numbers are not phones: thousands-grouped amounts
    (``12.345.678``, ``+1.234.567``), decimals, dates, and digit runs inside longer tokens (the
    20-hex-character pseudonyms, UUIDs, hashes) never match.
``customer_id``
    A raw customer id of the client (:func:`raw_customer_ids`: the values of the raw customers
    export's id column and of the identity map, read through the config's source mapping) that
    stands as a whole token: not preceded or followed by a letter or digit (``C000123`` is found
    in ``C000123.html`` and ``id=C000123``, not in ``XC0001234``). Ids shorter than
    ``min_id_length`` (4) characters are ignored: they collide with ordinary words and numbers.
    Purely numeric ids collide with counts and amounts in the tables too; such a client gets
    false alarms from this check (see ``docs/scheduling.md``).

What is not read
----------------

The plotly.js library inlined in report pages (it contains third-party licence headers with
e-mail addresses) is blanked out before scanning, recognised by its ``/** * plotly.js vX``
header; so are embedded images (``data:`` URIs and long base64 runs) and plotly's binary array
encoding (``"bdata"``), which hold no text. Everything else is read, including the figure data
in ``<script>`` blocks (hover texts are where an identifier would hide).

Findings never carry the matched value (it would be personal data in a log): only the file, the
line, the kind and a masked form such as ``b***@g***.com``.

Speed: pages, JSON and notebooks are scanned as text with patterns anchored on a literal
(``08``, ``62``, ``+``, ``(0``, ``@``). CSV tables, which at a million customers run to hundreds
of MB, are read by Arrow and checked per column on their distinct values (RE2 prefilters, then
the same exact patterns on the few candidates): a 117 MB table of 2M recommendation rows takes
about 3.5 s against 1.5M raw ids, where the plain text scan takes 11 s. Tables above 1 GB
(``_CSV_WHOLE_BYTES``) are streamed in 64 MB blocks, so memory stays bounded at any size.
"""

from __future__ import annotations

import bisect
import html
import logging
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from journeylib.config import Config, SourceSpec

log = logging.getLogger(__name__)

#: File types a run publishes as text and the scan reads.
SCANNED_SUFFIXES = (".html", ".csv", ".json", ".ipynb")
#: Raw ids shorter than this are not looked for.
MIN_ID_LENGTH = 4
#: The scan stops collecting after this many findings (the report fails either way).
MAX_FINDINGS = 10_000

KINDS = ("email", "phone", "customer_id")

# ---- patterns -----------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"([A-Za-z]{2,24}))(?![\w-])"
)
#: "Top-level domains" that are file extensions: ``icon@2x.png`` is a file, not an address.
_FILE_TLDS = frozenset(
    "png jpg jpeg gif svg webp ico bmp tif tiff css js mjs map json csv txt html htm xml pdf "
    "woff woff2 ttf otf eot ipynb parquet py md".split()
)

# Not inside a longer token: no letter/digit/_/+ right before, and not "x-", "x." or "x," (a
# UUID part, a decimal, a dotted number); symmetric after (no ".5", ",5", "-a" continuation).
# Each pattern starts with its literal prefix and looks behind it afterwards: a pattern opening
# with a look-behind is tried at every position of the text, one opening with a literal is
# found by a fast substring search (20 times faster on large tables).
_AFTER = r"(?![\w+]|[.,-]\w)"


def _anchored(prefix: str, rest: str, before: str = r"[\w+]") -> re.Pattern[str]:
    p = re.escape(prefix)
    return re.compile(rf"{p}(?<!{before}{p})(?<!\w[.,-]{p}){rest}{_AFTER}")


#: (pattern, rule) pairs; the rule decides on the digit count (see :func:`_is_phone`).
_PHONE_PATTERNS = (
    # Indonesian mobile, national form: 08xx-xxxx-xxxx (separators: space or dash)
    (_anchored("08", r"\d{1,3}(?:[ -]?\d{2,5}){1,3}"), "08"),
    # Indonesian mobile, international form: +62 8xx..., 62 8xx..., +62 (0)8xx...
    (_anchored("+62", r"[ .-]?(?:\(0\)[ .-]?)?8\d{1,3}(?:[ .-]?\d{2,5}){1,3}"), "62"),
    (_anchored("62", r"[ .-]?(?:\(0\)[ .-]?)?8\d{1,3}(?:[ .-]?\d{2,5}){1,3}"), "62"),
    # any international number: + country code, groups (brackets allowed)
    (_anchored("+", r"[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,5}"), "+"),
    # landline with the area code in brackets: (021) 555-1234
    (_anchored("(0", r"\d{1,3}\)[ .-]?\d{3,4}[ .-]?\d{3,4}", before=r"[\w(]"), "(0"),
)
#: Amounts and decimals, which the phone patterns above may otherwise take for a number.
_NUMBER_SHAPE = re.compile(r"[+-]?(?:\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*(?:[.,]\d+)?|\d+[.,]\d+)")

_ALNUM_RUN = re.compile(r"[^\W_]+")
#: A token: letter/digit runs joined by single separator characters (``CUST-0001``, ``a.b``).
_TOKEN = re.compile(r"[^\W_]+(?:(?:[^\w\s]|_)[^\W_]+)*")

# ---- blanking what is not report content ----------------------------------------------------------

_PLOTLY_HEADER = re.compile(r"<script[^>]*>\s*/\*\*\s*\*\s*plotly\.js v\d", re.IGNORECASE)
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s\\n]+")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")
_BDATA = re.compile(r'"bdata"\s*:\s*"[A-Za-z0-9+/=]*"')
_NEWLINE_ENTITIES = re.compile(r"&#10;|&#x0*[aA];|&NewLine;")


@dataclass(frozen=True)
class Finding:
    """One piece of apparent personal data in a report file (the value itself is not kept).

    Attributes
    ----------
    file
        Path relative to the scanned folder, with ``/`` separators.
    line
        1-based line number in the file.
    kind
        ``"email"``, ``"phone"`` or ``"customer_id"``.
    masked
        The match with most characters replaced by ``***`` (``b***@g***.com``).
    """

    file: str
    line: int
    kind: str
    masked: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.kind} {self.masked}"


class PiiFound(RuntimeError):
    """Personal data was found in a rendered report; the run was not published.

    Attributes
    ----------
    findings
        The :class:`Finding` records (values masked).
    failed_dir
        Where the scanned folder was kept for inspection (``None`` if it could not be kept).
    run_id
        The run that was stopped.
    """

    def __init__(
        self, findings: Sequence[Finding], *, run_id: str = "", failed_dir: Path | None = None
    ) -> None:
        self.findings = list(findings)
        self.run_id = run_id
        self.failed_dir = failed_dir
        super().__init__(self._message())

    def _message(self) -> str:
        files = Counter(f.file for f in self.findings)
        run = f" (run {self.run_id})" if self.run_id else ""
        more = "+" if len(self.findings) >= MAX_FINDINGS else ""
        lines = [
            f"personal data found in the report{run}: {len(self.findings)}{more} finding(s) in "
            f"{len(files)} file(s)"
        ]
        lines += summarise(self.findings)
        lines.append(
            "  first: "
            + "; ".join(f"{f.file} line {f.line} {f.kind} {f.masked}" for f in self.findings[:3])
        )
        lines.append("  no report was published; previous runs and 'latest' are unchanged")
        if self.failed_dir is not None:
            lines.append(f"  the scanned report is kept for inspection in {self.failed_dir}")
        lines.append(
            "  remove the column or text that shows it (identifiers belong in pseudonymous "
            "exports only); report.pii_scan: false turns the check off"
        )
        return "\n".join(lines)


def summarise(findings: Iterable[Finding]) -> list[str]:
    """One line per file: the kinds found and how many of each (``  a.html: email 2, phone 1``).

    >>> summarise([Finding("a.html", 3, "email", "b***@g***.com"),
    ...            Finding("a.html", 9, "email", "x***@y***.id")])
    ['  a.html: email 2']
    """
    per_file: dict[str, Counter] = {}
    for f in findings:
        per_file.setdefault(f.file, Counter())[f.kind] += 1
    return [
        f"  {name}: " + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS if counts[kind])
        for name, counts in per_file.items()
    ]


# ---- masking ----------------------------------------------------------------------------------------


def mask_email(value: str) -> str:
    """``budi.santoso@gmail.com`` -> ``b***@g***.com``."""
    local, _, domain = value.partition("@")
    tld = domain.rsplit(".", 1)[-1]
    return f"{local[:1]}***@{domain[:1]}***.{tld}"


def mask_phone(value: str) -> str:
    """``+62 822-6147-4435`` -> ``+62***35`` (the prefix and the last two digits)."""
    digits = re.sub(r"\D", "", value)
    return f"{value.strip()[:3]}***{digits[-2:]}"


def mask_id(value: str) -> str:
    """``C000123`` -> ``C***`` (the first character only)."""
    return f"{value[:1]}***"


# ---- scanning text --------------------------------------------------------------------------------


def _newlines(chunk: str) -> str:
    """What is left of a blanked chunk: its newlines, so later line numbers stay true."""
    return "\n" * chunk.count("\n")


def strip_non_content(text: str) -> str:
    """``text`` with the inlined plotly.js library, embedded images and binary arrays blanked.

    Every line keeps its number. The plotly.js bundle is recognised by the licence header that
    opens it (``/** * plotly.js v4.1.1``), so any plotly version is handled.
    """
    pieces, pos = [], 0
    for m in _PLOTLY_HEADER.finditer(text):
        if m.start() < pos:
            continue
        end = text.find("</script>", m.end())
        end = len(text) if end < 0 else end
        pieces += [text[pos : m.start()], _newlines(text[m.start() : end])]
        pos = end
    text = "".join([*pieces, text[pos:]]) if pieces else text
    for pattern in (_DATA_URI, _BDATA, _BASE64_RUN):
        text = pattern.sub(lambda m: _newlines(m.group(0)), text)
    return text


def _normalise(text: str) -> str:
    """Undo HTML entities and the JSON escape of ``@`` (``&#64;``, ``\\u0040``), keeping lines."""
    text = text.replace("\\u0040", "@")
    if "&" in text:
        text = html.unescape(_NEWLINE_ENTITIES.sub(" ", text))
    return text


def _is_phone(match: str, rule: str) -> bool:
    """Digit counts of a phone number (amounts and decimals never are one)."""
    if _NUMBER_SHAPE.fullmatch(match.strip()):
        return False
    digits = re.sub(r"\D", "", match)
    if rule == "08":  # 0 + a national number of 9-12 digits
        return 10 <= len(digits) <= 13
    if rule == "62":  # the national number after 62 (and a bracketed 0): 9-12 digits
        national = digits[2:].removeprefix("0")
        return 9 <= len(national) <= 12
    if rule == "+":  # E.164: at most 15 digits
        return 8 <= len(digits) <= 15
    return 9 <= len(digits) <= 12  # (0xx) landline


@dataclass(frozen=True)
class _IdIndex:
    """The raw ids worth looking for, split for fast whole-token matching."""

    single: frozenset[str] = frozenset()  # ids that are one run of letters/digits
    multi: frozenset[str] = frozenset()  # ids with separators inside (CUST-0001)
    first_runs: frozenset[str] = frozenset()  # the first letter/digit run of each multi id
    max_parts: int = 1
    #: some id is made of digits and date/number punctuation only (it can hide in a date)
    numeric_like: bool = False

    def __bool__(self) -> bool:
        return bool(self.single or self.multi)

    @cached_property
    def all(self) -> frozenset[str]:
        return self.single | self.multi

    @cached_property
    def arrow(self) -> Any:
        """All ids as an Arrow string array (built once per scan, for large CSV columns)."""
        import pyarrow as pa

        return pa.array(list(self.all), type=pa.string())


_NUMERIC_LIKE = re.compile(r"[0-9 :T.+\-Z/]+")


def _id_index(raw_ids: Iterable[str], min_id_length: int) -> _IdIndex:
    single, multi, first_runs = set(), set(), set()
    parts = 1
    for value in raw_ids:
        s = str(value).strip()
        if len(s) < min_id_length or not (s[0].isalnum() and s[-1].isalnum()):
            continue
        runs = _ALNUM_RUN.findall(s)
        if len(runs) == 1 and runs[0] == s:
            single.add(s)
        else:
            multi.add(s)
            first_runs.add(runs[0])
            parts = max(parts, len(runs))
    ids = single | multi
    return _IdIndex(
        frozenset(single),
        frozenset(multi),
        frozenset(first_runs),
        parts,
        any(_NUMERIC_LIKE.fullmatch(i) for i in ids),
    )


def _ids_in(text: str, index: _IdIndex) -> set[str]:
    """The ids of ``index`` that occur in ``text`` as whole tokens."""
    if not index:
        return set()
    found = set(_ALNUM_RUN.findall(text)) & index.single
    if index.multi:
        for token in set(_TOKEN.findall(text)):
            if token.isalnum():
                continue
            runs = list(_ALNUM_RUN.finditer(token))
            if index.first_runs.isdisjoint(r.group() for r in runs):
                continue
            for i in range(len(runs)):
                for j in range(i + 1, min(i + index.max_parts, len(runs))):
                    span = token[runs[i].start() : runs[j].end()]
                    if span in index.multi:
                        found.add(span)
    return found


def _emails(text: str) -> Iterable[re.Match[str]]:
    """E-mail matches, looked for only around each ``@`` (the text may be large)."""
    seen: set[tuple[int, int]] = set()
    for at in re.finditer("@", text):
        lo = max(0, at.start() - 256)
        for m in _EMAIL.finditer(text, lo, at.start() + 256):
            if m.start() <= at.start() < m.end() and m.span() not in seen:
                seen.add(m.span())
                yield m


def scan_text(
    text: str,
    *,
    raw_ids: Collection[str] = (),
    min_id_length: int = MIN_ID_LENGTH,
    allow: Collection[str] = (),
    _index: _IdIndex | None = None,
) -> list[tuple[int, str, str]]:
    """Find e-mail addresses, phone numbers and raw ids in one text.

    Parameters
    ----------
    text
        The text (already stripped of what is not content, see :func:`strip_non_content`).
    raw_ids
        The client's raw customer ids.
    min_id_length
        Ids shorter than this are ignored.
    allow
        Values that are not findings although they match (e.g. the client's public support
        address shown on purpose); compared case-insensitively.

    Returns
    -------
    list of (line, kind, masked)
        In order of appearance; ``line`` is 1-based.

    Examples
    --------
    >>> scan_text("total Rp 12.345.678\\ncall +62 812-3456-7890 or mail budi@example.co.id")
    [(2, 'email', 'b***@e***.id'), (2, 'phone', '+62***90')]
    """
    text = _normalise(text)
    newlines = [m.start() for m in re.finditer("\n", text)]
    allowed = {a.lower() for a in allow}
    hits: list[tuple[int, int, str, str]] = []  # (position, line, kind, masked)
    taken: list[tuple[int, int]] = []

    def line_of(pos: int) -> int:
        return bisect.bisect_right(newlines, pos) + 1

    for m in _emails(text):
        if m.group(3).lower() in _FILE_TLDS or m.group(0).lower() in allowed:
            continue
        hits.append((m.start(), line_of(m.start()), "email", mask_email(m.group(0))))
        taken.append(m.span())
    spans: list[tuple[int, int]] = []
    for pattern, rule in _PHONE_PATTERNS:
        for m in pattern.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken + spans):
                continue
            if not _is_phone(m.group(0), rule) or m.group(0).strip().lower() in allowed:
                continue
            spans.append((s, e))
            hits.append((s, line_of(s), "phone", mask_phone(m.group(0))))
    index = _index if _index is not None else _id_index(raw_ids, min_id_length)
    for value in sorted(_ids_in(text, index)):
        if value.lower() in allowed:
            continue
        pattern = re.compile(r"(?<![^\W_])" + re.escape(value) + r"(?![^\W_])")
        for m in pattern.finditer(text):
            hits.append((m.start(), line_of(m.start()), "customer_id", mask_id(value)))
    hits.sort()
    return [(line, kind, masked) for _, line, kind, masked in hits]


def _scan_text_file(path: Path, index: _IdIndex, allow: Collection[str]) -> list[tuple]:
    """(line, kind, masked) of one file read as text (pages, JSON, notebooks; CSV fallback)."""
    text = strip_non_content(path.read_text(encoding="utf-8", errors="replace"))
    if path.suffix.lower() == ".csv":
        # a comma is a field separator here, never a decimal or thousands separator
        text = text.replace(",", "\t")
    return scan_text(text, allow=allow, _index=index)


# Prefilters run by Arrow (RE2, vectorised) on the distinct values of each CSV column; only the
# values they let through are checked by the exact patterns above. Each is a superset of what
# the exact patterns can find.
#: ``08``/``62`` count only where a run of digits and separators from there ends in a digit
#: that no letter or digit follows, as the exact patterns require: a 20-hex pseudonym starting
#: ``08`` is no candidate (25k of them per GB of recommendations went through the patterns)
_RE2_CANDIDATE = (
    r"@|&#|&commat;|\\u0040|\+[0-9]|\(0[0-9]"
    r"|(^|[^0-9A-Za-z_+])(08|62)[0-9 .()-]*[0-9]([^0-9A-Za-z_+]|$)"
)
_RE2_FLOAT = r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$"
_RE2_NUMERIC_LIKE = r"^[0-9 :T.+\-Z/]*$"
_RE2_DECIMAL = r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)$"
#: A whole value that is an ISO date or timestamp: its UTC offset (``+00:00``, ``+07:00``)
#: looks like the start of a phone number to the prefilter, but the value cannot hold one
#: (1.7M timestamps of the 1M-customer outputs went through the exact patterns: 35 s).
_RE2_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
    r"([+-][0-9]{2}(:?[0-9]{2})?|Z)?$"
)
_RE2_SEPARATOR = r"[^0-9A-Za-z]"
#: Columns with more distinct values than this are matched against the ids by Arrow.
_ARROW_LOOKUP_FROM = 200_000


#: CSV tables up to this size are read whole (Arrow parses them in parallel: 7.6 s for a 551 MB
#: table of 10.3M rows against 10.8 s streamed); larger ones are streamed in blocks of
#: :data:`_CSV_BLOCK_BYTES`, so the scan's memory stays bounded whatever the table's size (the
#: recommendations of 10M customers are a CSV of about 9 GB).
_CSV_WHOLE_BYTES = 1 << 30
_CSV_BLOCK_BYTES = 64 << 20


def _csv_parts(path: Path, header: list[str]) -> Iterator[Any]:
    """The table of a CSV file, whole or block by block (see :data:`_CSV_WHOLE_BYTES`); each
    part has ``columns`` (every value as text) and ``num_rows``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    if path.stat().st_size <= _CSV_WHOLE_BYTES:
        yield pacsv.read_csv(path, parse_options=parse, convert_options=convert)
        return
    read = pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES)
    yield from pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def _scan_csv(path: Path, index: _IdIndex, allow: Collection[str]) -> list[tuple] | None:
    """(line, kind, masked) of a CSV table, checked column by column on distinct values.

    Large customer-level exports (recommendations, next best actions) are hundreds of MB at a
    million customers; Arrow reads them (:func:`_csv_parts`) and its RE2 prefilters leave the
    exact Python patterns only the few values that can hold an address, a number or an id.
    Returns ``None`` when Arrow cannot read the file (then it is scanned as text).
    """
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc

    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        header = next(csv.reader(fh), None)
    if not header or len(set(header)) != len(header):
        return None
    hits: list[tuple[int, int, int, str, str]] = []  # (line, column, order, kind, masked)
    for line, kind, masked in scan_text(",".join(header), allow=allow, _index=index):
        hits.append((line, -1, 0, kind, masked))
    # the exact patterns' findings of each value already checked, per column (a value repeats
    # across blocks: a product name, a reason)
    checked: list[dict[str, list]] = [{} for _ in header]
    found_rows: list[tuple[int, int, list]] = []  # (row, column, findings of the cell)
    offset = 0  # rows of the parts before this one
    try:
        for part in _csv_parts(path, header):
            for c, column in enumerate(part.columns):
                for value, cell in _column_findings(column, index, allow, checked[c]).items():
                    rows = pc.indices_nonzero(pc.equal(column, value)).to_pylist()
                    found_rows.extend((offset + row, c, cell) for row in rows)
            offset += part.num_rows
    except (pa.ArrowInvalid, OSError):
        return None
    if not found_rows:
        return [(line, kind, masked) for line, _, _, kind, masked in hits]
    # rows are lines unless a cell holds a line break (then the text scan counts the lines);
    # read again only here: a clean table, the usual case, is read once
    for part in _csv_parts(path, header):
        if any(pc.any(pc.match_substring(col, "\n")).as_py() for col in part.columns):
            return None
    for row, c, cell in found_rows:
        for order, (_, kind, masked) in enumerate(cell):
            hits.append((row + 2, c, order, kind, masked))
    hits.sort()
    return [(line, kind, masked) for line, _, _, kind, masked in hits]


def _column_findings(
    column: Any, index: _IdIndex, allow: Collection[str], checked: dict[str, list]
) -> dict[str, list]:
    """The distinct values of one column (of the table or a block) that hold personal data,
    with the exact patterns' findings of each; ``checked`` caches the findings of values seen
    in earlier blocks."""
    import pyarrow.compute as pc

    uniq = pc.unique(column)
    if len(uniq) == 0:
        return {}
    is_float = pc.match_substring_regex(uniq, _RE2_FLOAT)
    candidates = pc.and_(pc.match_substring_regex(uniq, _RE2_CANDIDATE), pc.invert(is_float))
    candidates = pc.and_(candidates, pc.invert(pc.match_substring_regex(uniq, _RE2_TIMESTAMP)))
    values = set(uniq.filter(candidates).to_pylist())
    if index:
        # a decimal number (digits and a point: numeric-like) is no id unless some id is
        # numeric-like: a score column (a million distinct values per block of the
        # recommendations) is not looked up at all
        decimal = pc.match_substring_regex(uniq, _RE2_DECIMAL)
        lookup = uniq if index.numeric_like else uniq.filter(pc.invert(decimal))
        if len(lookup) > _ARROW_LOOKUP_FROM:  # Arrow hashes the ids on every call
            values.update(lookup.filter(pc.is_in(lookup, value_set=index.arrow)).to_pylist())
        elif len(lookup):
            values.update(index.all.intersection(lookup.to_pylist()))
        tokens = pc.match_substring_regex(uniq, _RE2_SEPARATOR)
        if not index.numeric_like:  # then a number or a date cannot hold an id token
            tokens = pc.and_(tokens, pc.invert(is_float))
            tokens = pc.and_(tokens, pc.invert(pc.match_substring_regex(uniq, _RE2_NUMERIC_LIKE)))
        values.update(
            v for v in uniq.filter(tokens).to_pylist() if v in checked or _ids_in(v, index)
        )
    found = {}
    for value in values:
        if value not in checked:
            checked[value] = scan_text(value, allow=allow, _index=index)
        if checked[value]:
            found[value] = checked[value]
    return found


def scan_report(
    folder: str | Path,
    *,
    raw_ids: Collection[str] = (),
    min_id_length: int = MIN_ID_LENGTH,
    allow: Collection[str] = (),
    suffixes: Sequence[str] = SCANNED_SUFFIXES,
    max_findings: int = MAX_FINDINGS,
) -> list[Finding]:
    """Scan every text file of a report folder for personal data.

    Parameters
    ----------
    folder
        The run (or staging) folder.
    raw_ids
        The client's raw customer ids (:func:`raw_customer_ids`); whole-token matches only.
    min_id_length
        Ids shorter than this many characters are ignored.
    allow
        Matched values that are not findings (case-insensitive).
    suffixes
        File types read (Parquet files are binary twins of the CSV files and are skipped).
    max_findings
        Stop collecting after this many findings.

    Returns
    -------
    list of Finding
        Sorted by file and line; empty when the report is clean.
    """
    root = Path(folder)
    index = _id_index(raw_ids, min_id_length)
    findings: list[Finding] = []
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    for path in files:
        rel = path.relative_to(root).as_posix()
        hits = _scan_csv(path, index, allow) if path.suffix.lower() == ".csv" else None
        if hits is None:
            hits = _scan_text_file(path, index, allow)
        for line, kind, masked in hits:
            findings.append(Finding(rel, line, kind, masked))
            if len(findings) >= max_findings:
                log.warning("PII scan stopped after %d findings", max_findings)
                return findings
    log.info("PII scan: %d file(s) read, %d finding(s)", len(files), len(findings))
    return findings


# ---- the client's raw ids -------------------------------------------------------------------------


def _read_id_columns(path: Path, spec: SourceSpec, raw_names: list[str]) -> list[pd.Series]:
    """The named raw columns of one export as strings (matched as ingest matches headers)."""
    from journeylib.io import _match_headers

    if path.is_dir():  # a Parquet folder, read as ingest reads it
        return _read_folder_id_columns(path, raw_names)
    if spec.resolved_format == "parquet":
        import pyarrow.parquet as pq

        headers = pq.read_schema(path).names
    else:
        headers = list(
            pd.read_csv(path, sep=spec.delimiter, encoding=spec.encoding, nrows=0).columns
        )
    found, missing, _ = _match_headers(headers, {n: n for n in raw_names})
    if missing:
        raise ValueError(f"{path}: column(s) {missing} not found for the PII scan")
    cols = list(found.values())
    if spec.resolved_format == "parquet":
        df = pd.read_parquet(path, columns=cols)
    else:
        df = pd.read_csv(
            path,
            sep=spec.delimiter,
            encoding=spec.encoding,
            usecols=cols,
            dtype=str,
            keep_default_na=False,
        )
    return [df[c].astype("string").dropna() for c in cols]


def _read_folder_id_columns(path: Path, raw_names: list[str]) -> list[pd.Series]:
    """The named columns of a Parquet folder (a file per chunk or partition, ``key=value``
    folders holding a column), as :func:`_read_id_columns` returns them."""
    import pyarrow.parquet as pq

    from journeylib.ingest_events import _hive_values, source_files
    from journeylib.io import _match_headers

    files = source_files(path)
    if not files:
        raise ValueError(f"{path}: no Parquet files for the PII scan")
    headers = [*pq.read_schema(files[0]).names, *_hive_values(path, files[0])]
    found, missing, _ = _match_headers(headers, {n: n for n in raw_names})
    if missing:
        raise ValueError(f"{path}: column(s) {missing} not found for the PII scan")
    cols = list(found.values())
    parts: dict[str, list[pd.Series]] = {c: [] for c in cols}
    for file in files:
        hive = _hive_values(path, file)
        stored = [c for c in cols if c not in hive]
        table = pq.read_table(file, columns=stored)
        for c in cols:
            if c in hive:  # one value for the whole file
                parts[c].append(pd.Series([hive[c]], dtype="string"))
            else:
                parts[c].append(table.column(c).to_pandas().astype("string"))
    return [pd.concat(parts[c], ignore_index=True).dropna() for c in cols]


def raw_customer_ids(config: Config) -> frozenset[str]:
    """The client's raw customer ids, read from the raw exports through the config's mapping.

    The values of the customers export's ``customer_id`` column and, when an identity map is
    configured, of its ``source_id`` and ``customer_id`` columns (device and visitor ids are
    personal data as well). Blank values are dropped.

    Raises
    ------
    ValueError
        A mapped column is not in its file (ingest would have failed first).
    """
    values: set[str] = set()
    sources = config.data.sources
    for table, canon in (
        ("customers", ["customer_id"]),
        ("identity_map", ["source_id", "customer_id"]),
    ):
        spec: SourceSpec | None = getattr(sources, table)
        if spec is None:
            continue
        raw_names = [spec.columns[c] for c in canon if c in spec.columns]
        if not raw_names:
            continue
        for series in _read_id_columns(config.source_path(table), spec, raw_names):
            values.update(s for s in series.str.strip().unique().tolist() if s)
    return frozenset(values)
