"""journeylib.piiscan: e-mail addresses, phone numbers and raw ids in a report, values masked.

Fast tests on hand-written text and tiny folders. The real rendered demo report is scanned in
tests/test_runner.py (test_demo_report_passes_the_pii_scan).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from journeylib.config import load_config
from journeylib.piiscan import (
    Finding,
    PiiFound,
    mask_email,
    mask_id,
    mask_phone,
    raw_customer_ids,
    scan_report,
    scan_text,
    strip_non_content,
    summarise,
)
from journeylib.report import figure_fragment, plotly_js


def kinds(text: str, **kw: object) -> list[str]:
    return [kind for _, kind, _ in scan_text(text, **kw)]


# ---- e-mail addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "contact budi.santoso@gmail.com today",
        "Budi <budi_s+promo@toko-contoh.co.id>",
        '"email": "yuni.pratama1530@outlook.com"',
        "mailto:a.b@x.io",
        "budi&#64;mail.com",  # HTML entity for @
        "budi\\u0040mail.com",  # JSON escape of @
    ],
)
def test_email_addresses_are_found(text: str) -> None:
    assert kinds(text) == ["email"]


@pytest.mark.parametrize(
    "text",
    [
        "logo@2x.png",  # a file name, not an address
        "@media (max-width: 900px)",
        "plotly.js@2.35.0",
        "user at example dot com",
        "[email] redacted at ingest",
    ],
)
def test_things_that_are_not_email_addresses(text: str) -> None:
    assert kinds(text) == []


def test_masks_keep_only_a_hint() -> None:
    assert mask_email("budi.santoso@gmail.com") == "b***@g***.com"
    assert mask_phone("+62 822-6147-4435") == "+62***35"
    assert mask_phone("0812-3456-7890") == "081***90"
    assert mask_id("C000123") == "C***"


# ---- phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "+62 822-6147-4435",  # the synthetic CRM export's format
        "+62 812 3456 7890",
        "+6281234567890",
        "6281234567890",
        "+62 (0)812-3456-7890",
        "0812-3456-7890",
        "0812 3456 7890",
        "081234567890",
        "08123456789",  # 0 + 10-digit national number
        "+62 21 5551234",  # Jakarta landline, international form
        "(021) 555-1234",  # landline with the area code in brackets
        "+1 (555) 123-4567",
        "+44 20 7946 0958",
        "+14155552671",  # E.164 without separators
        "telp: +65 6123 4567",
    ],
)
def test_phone_numbers_are_found(text: str) -> None:
    assert kinds(text) == ["phone"]


@pytest.mark.parametrize(
    "text",
    [
        "Rp 12.345.678",  # revenue, Indonesian thousands separator
        "Rp 628.123.456.789",  # an amount starting with 62 8
        "1,234,567,890 visits",
        "+12.345.678",  # a signed change in rupiah
        "+1.234,5",
        "+12.5%",
        "0,0812345678901",  # a decimal
        "2025-06-30 08:15:00",
        "20250131",
        "1e+20",
        "a1b2c3d4e5f6a7b8c9d0",  # a 20-hex-character pseudonym
        "08123456789012345678",  # 20 digits: an id, not a phone
        "550e8400-e29b-41d4-a716-446655440000",
        "08123456-1234-5678-9abc-def012345678",  # a UUID starting like a mobile number
        "081234567",  # 08 + 7 digits: too short for a mobile number
        "value 1234567890",
        "calc(100% + 8px)",
        "[0.12, 1632.5, 812345678901]",
    ],
)
def test_numbers_are_not_phone_numbers(text: str) -> None:
    assert kinds(text) == []


def test_phone_inside_an_address_counts_once() -> None:
    assert kinds("081234567890@gmail.com") == ["email"]


# ---- raw customer ids -------------------------------------------------------------------------


def test_raw_ids_match_whole_tokens_only() -> None:
    ids = {"C000123", "CUST-0042", "abc"}  # "abc": shorter than 4 characters, ignored
    text = "\n".join(
        [
            "C000123.html",  # line 1: found (a file named after the customer)
            "id=CUST-0042&x=1",  # line 2: found, separators included
            "XC0001234 CUST-00421 C0001234",  # line 3: inside longer tokens: not found
            "abc abc",  # line 4: short id ignored
            "C000123_profile",  # line 5: '_' is not a letter or digit: found
        ]
    )
    found = scan_text(text, raw_ids=ids)
    assert [(line, kind) for line, kind, _ in found] == [
        (1, "customer_id"),
        (2, "customer_id"),
        (5, "customer_id"),
    ]
    assert all(masked.endswith("***") for _, _, masked in found)


def test_min_id_length_is_configurable() -> None:
    assert kinds("see abc", raw_ids={"abc"}) == []
    assert kinds("see abc", raw_ids={"abc"}, min_id_length=3) == ["customer_id"]


def test_allow_list() -> None:
    text = "support: halo@toko-contoh.co.id, budi@gmail.com"
    assert kinds(text, allow={"HALO@toko-contoh.co.id"}) == ["email"]


# ---- files ------------------------------------------------------------------------------------


def page_with_plotly(body: str) -> str:
    return (
        "<html><head>\n"
        f'<script type="text/javascript">{plotly_js()}</script>\n'
        f"</head><body>\n{body}\n</body></html>\n"
    )


def test_plotly_bundle_is_not_read_but_figures_are(tmp_path: Path) -> None:
    # the bundle itself holds a licence e-mail address: scanning it raw would fail every report
    assert "email" in kinds(plotly_js())
    clean = go.Figure(go.Bar(x=["a", "b"], y=[1, 2], hovertext=["segment A", "segment B"]))
    (tmp_path / "clean.html").write_text(page_with_plotly(figure_fragment(clean)), "utf-8")
    assert scan_report(tmp_path) == []

    leaky = go.Figure(go.Bar(x=["a"], y=[1], hovertext=["budi.santoso@gmail.com"]))
    (tmp_path / "leaky.html").write_text(page_with_plotly(figure_fragment(leaky)), "utf-8")
    found = scan_report(tmp_path)
    assert [(f.file, f.kind) for f in found] == [("leaky.html", "email")]


def test_line_numbers_survive_the_blanked_bundle(tmp_path: Path) -> None:
    page = page_with_plotly("<p>one</p>\n<p>two</p>\n<p>mail budi@gmail.com</p>")
    (tmp_path / "p.html").write_text(page, "utf-8")
    expected = page.splitlines().index("<p>mail budi@gmail.com</p>") + 1
    assert len(strip_non_content(page).splitlines()) == len(page.splitlines())
    assert [(f.line, f.kind) for f in scan_report(tmp_path)] == [(expected, "email")]


def test_scan_report_reads_html_csv_json_ipynb_not_parquet(tmp_path: Path) -> None:
    tables = tmp_path / "outputs" / "10_x" / "tables"
    tables.mkdir(parents=True)
    # CSV: a planted row on line 3; "5,0812..." is field 5 then a phone (commas separate)
    (tables / "t.csv").write_text(
        "segment,n,contact\nA,5,none\nB,5,081234567890\nC,7,12345678\n", "utf-8"
    )
    pd.DataFrame({"contact": ["budi@gmail.com"]}).to_parquet(tables / "t.parquet")  # not read
    (tmp_path / "run.json").write_text('{\n  "note": "yuni@outlook.com"\n}\n', "utf-8")
    (tmp_path / "notes.txt").write_text("budi@gmail.com\n", "utf-8")  # not a report file
    (tmp_path / "nb.ipynb").write_text('{\n "text": "+62 812 3456 7890"\n}\n', "utf-8")
    found = scan_report(tmp_path)
    assert [(f.file, f.line, f.kind) for f in found] == [
        ("nb.ipynb", 2, "phone"),
        ("outputs/10_x/tables/t.csv", 3, "phone"),
        ("run.json", 2, "email"),
    ]


def test_findings_and_error_never_hold_the_values(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        "<p>budi.santoso@gmail.com</p>\n<p>+62 822-6147-4435 and 0812-3456-7890</p>\n"
        "<p>C000123</p>\n",
        "utf-8",
    )
    found = scan_report(tmp_path, raw_ids=["C000123"])
    assert [(f.line, f.kind) for f in found] == [
        (1, "email"),
        (2, "phone"),
        (2, "phone"),
        (3, "customer_id"),
    ]
    err = PiiFound(found, run_id="r1", failed_dir=tmp_path / "_failed" / "r1")
    message = str(err)
    for value in ("budi.santoso", "gmail.com", "6147-4435", "3456-7890", "C000123"):
        assert value not in message and value not in "".join(map(str, found))
    assert "a.html: email 1, phone 2, customer_id 1" in message
    assert "4 finding(s) in 1 file(s)" in message
    assert str(tmp_path / "_failed" / "r1") in message


def test_summarise_counts_per_file_and_kind() -> None:
    findings = [
        Finding("a.html", 1, "phone", "+62***35"),
        Finding("b.csv", 2, "email", "b***@g***.com"),
        Finding("a.html", 7, "email", "x***@y***.id"),
        Finding("a.html", 9, "phone", "081***90"),
    ]
    assert summarise(findings) == ["  a.html: email 1, phone 2", "  b.csv: email 1"]


def test_scan_stops_at_max_findings(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("".join(f"u{i}@gmail.com\n" for i in range(50)), "utf-8")
    assert len(scan_report(tmp_path, max_findings=10)) == 10


# ---- the client's raw ids ---------------------------------------------------------------------


def test_raw_customer_ids_read_through_the_mapping(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    # header with surrounding spaces (ingest matches it the same way), a blank id
    (raw / "crm.csv").write_text(
        "email, Customer Ref ,region\nx@y.com,CUST-0001,A\nz@y.com,CUST-0002,B\nw@y.com,,C\n",
        "utf-8",
    )
    (raw / "ids.csv").write_text("source,source_id,cust\nweb,v25bc3a8b10,CUST-0001\n", "utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"""client: pii
data:
  raw_dir: {raw}
  sources:
    customers: {{path: crm.csv, columns: {{customer_id: Customer Ref, region: region}}}}
    identity_map: {{path: ids.csv, columns: {{source: source, source_id: source_id, customer_id: cust}}}}
privacy: {{allow_demo_key: true}}
""",
        "utf-8",
    )
    ids = raw_customer_ids(load_config(config))
    assert ids == {"CUST-0001", "CUST-0002", "v25bc3a8b10"}


def test_raw_customer_ids_of_parquet_folders(tmp_path: Path) -> None:
    """Sources given as Parquet folders (``journey synth --format parquet``, a data lake): a file
    per chunk, hidden and ``_`` files skipped, a ``key=value`` folder holding the id column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = tmp_path / "raw"
    (raw / "customers").mkdir(parents=True)
    pq.write_table(pa.table({"customer_ref": ["C1", "C2"], "region": ["A", "B"]}),
                   raw / "customers" / "part-0.parquet")  # fmt: skip
    pq.write_table(pa.table({"customer_ref": ["C3", None], "region": ["A", "B"]}),
                   raw / "customers" / "part-1.parquet")  # fmt: skip
    pq.write_table(pa.table({"customer_ref": ["SKIPPED"]}), raw / "customers" / "_tmp.parquet")
    for cust, visitors in {"C1": ["v1", "v2"], "C9": ["v3"]}.items():
        folder = raw / "ids" / f"cust={cust}"
        folder.mkdir(parents=True)
        table = pa.table({"source": ["web"] * len(visitors), "source_id": visitors})
        pq.write_table(table, folder / "part-0.parquet")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"""client: pii
data:
  raw_dir: {raw}
  sources:
    customers: {{path: customers, columns: {{customer_id: customer_ref, region: region}}}}
    identity_map: {{path: ids, columns: {{source: source, source_id: source_id, customer_id: cust}}}}
privacy: {{allow_demo_key: true}}
""",
        "utf-8",
    )
    ids = raw_customer_ids(load_config(config))
    assert ids == {"C1", "C2", "C3", "C9", "v1", "v2", "v3"}


@pytest.mark.parametrize("block_bytes", [None, 200])
@pytest.mark.parametrize("arrow_lookup", [False, True])
def test_csv_fast_path_agrees_with_the_text_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrow_lookup: bool, block_bytes: int | None
) -> None:
    from journeylib import piiscan
    from journeylib.piiscan import _id_index, _scan_csv, _scan_text_file

    if arrow_lookup:  # the ids are looked up by Arrow, as for columns of millions of values
        monkeypatch.setattr(piiscan, "_ARROW_LOOKUP_FROM", 0)
    if block_bytes:  # a table above the size read whole is streamed: row numbers carry over
        monkeypatch.setattr(piiscan, "_CSV_WHOLE_BYTES", 0)
        monkeypatch.setattr(piiscan, "_CSV_BLOCK_BYTES", block_bytes)

    # every kind of cell the tables hold, a few of them hiding personal data
    path = tmp_path / "t.csv"
    pd.DataFrame(
        {
            "customer_id": [
                "a1b2c3d4e5f6a7b8c9d0",
                "0812a3b4c5d6e7f8a9b0",
                "C000123",
                "x",
                "08123456789a",
            ],
            "score": ["0.0812345678901", "0.62812345678", "1e+20", "12.5", "0.5"],
            "when": ["2025-06-30 08:15:00", "2025-06-08", "2025-01-31", "", ""],
            "note": [
                "call 0812-3456-7890, thanks",
                "Rp 12.345.678",
                "see C000123.html",
                "ok",
                "wa 62 812 3456 7890.",
            ],
            "contact": [
                "none",
                "+62 822-6147-4435",
                "budi@gmail.com",
                "6281234567890",
                "0812 3456 7890",
            ],
            "ref": ["CUST-0042", "CUST-00421", "id=CUST-0042&x", "v25bc3a8b10", "62-x"],
        }
    ).to_csv(path, index=False)
    index = _id_index(["C000123", "CUST-0042", "v25bc3a8b10", "abc"], 4)
    fast = _scan_csv(path, index, ())
    text = _scan_text_file(path, index, ())
    assert fast is not None
    assert sorted(fast) == sorted(text)
    # hand count: row 2 (line 2) one phone; line 3 one phone; line 4 id, id, email, id;
    # line 5 phone, id; line 6 two phones (a hex-like id starting 08 is none)
    assert sorted((line, kind) for line, kind, _ in fast) == [
        (2, "customer_id"),
        (2, "phone"),
        (3, "phone"),
        (4, "customer_id"),
        (4, "customer_id"),
        (4, "customer_id"),
        (4, "email"),
        (5, "customer_id"),
        (5, "phone"),
        (6, "phone"),
        (6, "phone"),
    ]


def test_csv_with_multiline_cells_counts_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"comment": ["first\nsecond line", "mail budi@gmail.com"]}).to_csv(
        path, index=False
    )
    # header on line 1, the first comment spans lines 2-3, the address is on line 4
    assert [(f.line, f.kind) for f in scan_report(tmp_path)] == [(4, "email")]


def test_timestamps_with_utc_offsets_skip_the_exact_patterns_and_lose_nothing(
    tmp_path: Path,
) -> None:
    """Timestamp cells ("+07:00", "+0800") look like a phone number's start to the prefilter;
    whole ISO timestamps are left out of the exact patterns, and the text scan of the same
    file (which checks everything) finds the same: the phone and the address, nothing else."""
    from journeylib.piiscan import _id_index, _scan_csv, _scan_text_file

    path = tmp_path / "t.csv"
    pd.DataFrame(
        {
            "ts": [
                "2025-06-30 08:15:00+07:00",
                "2025-06-08T01:02:03.123456Z",
                "2025-01-31 10:00:00+0800",
                "2025-01-31 10:00+08",
            ],
            "note": ["at 2025-06-30 08:15:00+07:00 call +62 822-6147-4435", "ok", "", "x"],
            "who": ["", "", "siti@example.co.id", ""],
        }
    ).to_csv(path, index=False)
    index = _id_index(["CUST-0042"], 4)
    fast = _scan_csv(path, index, ())
    assert fast is not None
    assert sorted(fast) == sorted(_scan_text_file(path, index, ()))
    assert sorted((line, kind) for line, kind, _ in fast) == [(2, "phone"), (4, "email")]


@pytest.mark.parametrize("multiline_row", [None, 1, 58])
def test_csv_in_many_blocks_numbers_lines_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, multiline_row: int | None
) -> None:
    """A table streamed in five blocks of about a dozen rows (as one above the size read whole
    is): the same phone repeats every 7th row (a value seen again in a later block) and an id
    every 10th. A multi-line cell (in the first block, before any finding, or in the last)
    moves every line number after it, so the text scan counts the lines instead."""
    from journeylib import piiscan

    monkeypatch.setattr(piiscan, "_CSV_WHOLE_BYTES", 0)
    monkeypatch.setattr(piiscan, "_CSV_BLOCK_BYTES", 128)
    n = 60
    notes = ["call 0812-3456-7890" if i % 7 == 0 else "ok" for i in range(n)]
    refs = ["CUST-0042" if i % 10 == 3 else f"r{i}" for i in range(n)]
    if multiline_row is not None:
        notes[multiline_row] = "first\nsecond"
    path = tmp_path / "t.csv"
    pd.DataFrame({"note": notes, "ref": refs}).to_csv(path, index=False)
    import pyarrow.csv as pacsv

    blocks = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=128))
    assert sum(1 for _ in blocks) >= 5  # the table really is read in many blocks
    index = piiscan._id_index(["CUST-0042"], 4)
    # row i (0-based) is on line i + 2, one more after the multi-line cell's row
    after = n if multiline_row is None else multiline_row

    def line(i: int) -> int:
        return i + 2 + (i > after)

    phones = [(line(i), "phone") for i in range(0, n, 7)]
    ids = [(line(i), "customer_id") for i in range(3, n, 10)]
    if multiline_row is not None:
        assert piiscan._scan_csv(path, index, ()) is None
        found = [(f.line, f.kind) for f in scan_report(tmp_path, raw_ids=["CUST-0042"])]
    else:
        found = [(line, kind) for line, kind, _ in piiscan._scan_csv(path, index, ())]
    assert found == sorted(phones + ids)


@pytest.mark.parametrize("arrow_lookup", [False, True])
def test_decimal_columns_skip_the_id_lookup_but_an_exponent_shaped_id_is_still_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrow_lookup: bool
) -> None:
    """A score column is not looked up against ids that are not numeric-like (no such id can
    equal 0.5); an id shaped like a float with an exponent (2019E0001) still is."""
    from journeylib import piiscan

    if arrow_lookup:
        monkeypatch.setattr(piiscan, "_ARROW_LOOKUP_FROM", 0)
    path = tmp_path / "t.csv"
    path.write_text("score,ref\n0.5,a\n2019E0001,b\n1.25,2019E0001\n", "utf-8")
    index = piiscan._id_index(["2019E0001", "CUST-7"], 4)
    found = [(line, kind) for line, kind, _ in piiscan._scan_csv(path, index, ())]
    assert found == [(3, "customer_id"), (4, "customer_id")]
    # numeric-like ids: decimals are looked up too
    index = piiscan._id_index(["0.5000", "1.25"], 4)
    found = [(line, kind) for line, kind, _ in piiscan._scan_csv(path, index, ())]
    assert found == [(4, "customer_id")]
