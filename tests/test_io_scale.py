"""Ingest at scale: the events checked in chunks and finished in DuckDB (journeylib.ingest_events).

The chunked path must give exactly what one pass over the whole file gives. A small generated
client is ingested with tiny chunks, sort passes and write batches, so every boundary is crossed
many times, and compared with an independent pandas reference kept here (the slow, obvious way:
``DataFrame.duplicated``, a dict lookup through the identity map, ``hmac.new`` per row, a loop
over each customer's events for sessions and positions).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import journeylib.ingest_events as ie
from journeylib.config import load_config
from journeylib.engine import engine_for
from journeylib.io import DataValidationError, _clean, prepare
from journeylib.privacy import DEMO_KEY
from journeylib.synth import SynthConfig, generate, write_raw
from journeylib.validation import ROW, Collector, Notice, Problem

REPO = Path(__file__).resolve().parents[1]


def _small_chunks(monkeypatch, chunk=200, passes=300, batch=100):
    """Chunks, sort passes and write batches far smaller than the data."""
    monkeypatch.setattr(ie, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(ie, "PASS_ROWS", passes)
    monkeypatch.setattr(ie, "WRITE_BATCH_ROWS", batch)


def _client(root: Path, n_customers: int = 120, seed: int = 11) -> Path:
    """A generated client with extra duplicates and same-second ties across chunk boundaries."""
    raw = write_raw(generate(SynthConfig(n_customers=n_customers, seed=seed)), root / "raw")
    events = raw / "web_events.csv"
    df = pd.read_csv(events, dtype=str, keep_default_na=False)
    # exact copies of rows from the start appended at the end: a duplicate chunks away from
    # its original; and a second event at the same second as another (a tie, not a duplicate)
    tie = df.iloc[[5]].assign(event_name="view_item", sku="ZZZ-001")
    extra = pd.concat([df.iloc[[3, 40, 41]], tie, df.iloc[[3]]])
    pd.concat([df, extra]).to_csv(events, index=False)
    cfg = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
    cfg["client"] = "scale"
    cfg["data"]["raw_dir"] = str(raw)
    cfg["output"] = {"processed_dir": str(root / "processed"), "reports_dir": str(root / "rep")}
    path = root / "scale.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)  # the demo key
    return _client(tmp_path)


def _pseudonym(raw_id: str) -> str:
    return hmac.new(DEMO_KEY.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:20]


def _reference_events(config) -> tuple[pd.DataFrame, int]:
    """The processed events the slow, obvious way (the row checks are the shared ``_clean``),
    and the number of duplicate rows dropped."""
    spec = config.data.sources.events
    raw = pd.read_csv(
        config.source_path("events"), dtype=str, keep_default_na=False, na_values=[""]
    )
    raw[ROW] = np.arange(1, len(raw) + 1)
    df = _clean(raw, spec, "events", config, Collector("f", "events"))
    # dedupe: every copy after the first (file order) of a row equal in all mapped columns
    dup = df.drop(columns=ROW).duplicated(keep="first")
    df = df[~dup]
    # identity: visitor -> CRM id through the identity map, else "web:<visitor>"
    idmap = pd.read_csv(config.source_path("identity_map"), dtype=str)
    lookup = dict(zip(idmap["source_id"], idmap["customer_ref"], strict=True))
    resolved = [lookup.get(v, f"web:{v}") for v in df["customer_id"]]
    df = df.assign(customer_id=pd.array([_pseudonym(r) for r in resolved], dtype="string"))
    # sessions and positions: per customer in (ts, event, file row) order
    df = df.sort_values(["customer_id", "ts", "event", ROW]).reset_index(drop=True)
    sessions, seqs = [], []
    timeout = pd.Timedelta(minutes=config.sessions.timeout_minutes)
    for _, g in df.groupby("customer_id", sort=False):
        n, last = 0, None
        for k, t in enumerate(g["ts"], start=1):
            if last is None or t - last > timeout:  # a gap strictly longer starts a session
                n += 1
            last = t
            sessions.append(n)
            seqs.append(k)
    df["session_id"] = (df["customer_id"] + "-" + pd.Series(sessions).astype(str)).astype("string")
    df["event_seq"] = np.array(seqs, dtype="int64")
    return df.drop(columns=ROW), int(dup.sum())


def test_chunked_events_equal_the_slow_reference(client, monkeypatch):
    _small_chunks(monkeypatch)
    config = load_config(client)
    result = prepare(config)
    got = pd.read_parquet(config.processed_dir / "events.parquet")
    want, duplicates = _reference_events(config)
    assert len(got) > 10 * ie.CHUNK_ROWS  # many chunks, passes and batches were crossed
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # the 4 copies appended at the end (rows 4, 41, 42 and row 4 again) are among them
    notices = {(n["table"], n["check"]): n for n in result.manifest["notices"]}
    assert notices[("events", "duplicate rows")]["count"] == duplicates >= 4
    # nothing of the spool is left behind: the folder holds the tables and the manifest
    assert all(not p.name.startswith((".", "_spool")) for p in config.processed_dir.iterdir())
    assert [p.name for p in config.processed_dir.parent.iterdir()] == ["scale"]
    (cov,) = result.manifest["identity"]
    assert cov["records"] == len(got)
    assert result.manifest["ranges"]["events"] == [str(got["ts"].min()), str(got["ts"].max())]
    # every processed customer appears in customers, first_seen not after its first event
    cust = pd.read_parquet(config.processed_dir / "customers.parquet").set_index("customer_id")
    first = got.groupby("customer_id")["ts"].min()
    assert (cust.loc[first.index, "first_seen"] <= first).all()


def test_chunk_size_changes_nothing(tmp_path, monkeypatch):
    """Whole-file chunks and tiny chunks: the same tables, notices and identity coverage."""
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    results = {}
    for label, chunk in (("one", 10**9), ("tiny", 333)):
        path = _client(tmp_path / label)
        _small_chunks(monkeypatch, chunk=chunk, passes=chunk, batch=chunk)
        config = load_config(path)
        manifest = prepare(config).manifest
        results[label] = (config.processed_dir, manifest)
    (a, ma), (b, mb) = results["one"], results["tiny"]
    for name in ("events", "customers", "event_timelines"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet")
        )
    for key in ("notices", "identity", "rows", "ranges"):
        assert ma[key] == mb[key]
    labels = {n["check"]: n for n in ma["notices"] if n["table"] == "events"}
    assert labels["unknown channel label"]["detail"]["labels"]  # summed over the chunks


def _events_config(tmp_path, text: str, **source) -> Path:
    """A tiny client whose events file is ``text`` (columns cid, ts, event)."""
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "customers.csv").write_text("id\nC1\nC2\n")
    (raw / "events.csv").write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    events = {"path": "events.csv", "columns": {"customer_id": "cid", "ts": "ts", "event": "event"}}
    events.update(source)
    cfg = {
        "client": "t",
        "data": {
            "raw_dir": str(raw),
            "sources": {
                "customers": {"path": "customers.csv", "columns": {"customer_id": "id"}},
                "events": events,
            },
        },
        "privacy": {"allow_demo_key": True},
        "output": {"processed_dir": str(tmp_path / "p"), "reports_dir": str(tmp_path / "r")},
    }
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _error(path: Path) -> str:
    with pytest.raises(DataValidationError) as err:
        prepare(load_config(path))
    return str(err.value)


def test_problems_across_chunks_read_as_one_pass(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    rows = [f"C{1 + k % 2},2025-01-0{1 + k % 5} 10:00:{k % 60:02d},view" for k in range(40)]
    rows[1] = "C1,garbage,view"  # chunk 1 (rows 1-7 with chunks of 7)
    rows[9] = ",2025-01-02 10:00:00,view"  # chunk 2: a null id
    rows[20] = "C1,also bad,view"  # chunk 3
    rows[33] = "C2,nope,view"  # chunk 5
    text = "cid,ts,event\n" + "\n".join(rows) + "\n"
    path = _events_config(tmp_path, text)
    monkeypatch.setattr(ie, "CHUNK_ROWS", 7)
    chunked = _error(path)
    monkeypatch.setattr(ie, "CHUNK_ROWS", 10**9)
    whole = _error(path)
    assert chunked == whole
    # the first problem asked comes first: the null id check precedes the timestamp check
    assert "[events, column 'customer_id'] null id: 1 row (rows 10)" in chunked
    assert "unparseable timestamp: 3 rows (rows 2, 21, 34)" in chunked
    assert chunked.index("null id") < chunked.index("unparseable timestamp")


GOOD = "".join(f"C1,2025-01-01 10:{k % 60:02d}:00,view\n" for k in range(30))


def test_a_line_of_spaces_is_skipped_as_pandas_does(tmp_path, monkeypatch):
    # Arrow's reader refuses a line of spaces; pandas' parser skips it as a blank line
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    monkeypatch.setattr(ie, "CHUNK_ROWS", 5)
    other = GOOD.replace(",view", ",cart")
    path = _events_config(tmp_path, "cid,ts,event\n" + GOOD + "   \n" + other)
    prepare(load_config(path))
    assert len(pd.read_parquet(tmp_path / "p" / "t" / "events.parquet")) == 60


def test_a_short_row_is_padded_as_pandas_does(tmp_path, monkeypatch):
    # Arrow's reader refuses a row with too few fields; pandas pads it with a missing event,
    # which the required-column check reports (data row 31)
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    monkeypatch.setattr(ie, "CHUNK_ROWS", 5)
    path = _events_config(tmp_path, "cid,ts,event\n" + GOOD + "C2,2025-01-01 11:00:00\n" + GOOD)
    msg = _error(path)
    assert "[events, column 'event'] null value in required column: 1 row (rows 31)" in msg


def test_a_malformed_row_far_into_the_file_is_the_only_problem(tmp_path, monkeypatch):
    # chunks before it were checked already; as for a file read at once, only this is reported
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    monkeypatch.setattr(ie, "CHUNK_ROWS", 5)
    bad = "C1,garbage,view\n"  # would be a problem of its own in chunk 1
    text = "cid,ts,event\n" + bad + GOOD + "C1,2025-01-01 11:00:00,view,extra\n" + GOOD
    msg = _error(_events_config(tmp_path, text))
    assert msg.startswith("Data validation failed with 1 problem:")
    assert "malformed CSV" in msg and "Expected 3 fields in line 33, saw 4" in msg


def test_bytes_that_are_not_utf8_far_into_the_file(tmp_path, monkeypatch):
    # the offset counts from the start of the file, as decoding the whole file reports it
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    monkeypatch.setattr(ie, "CHUNK_ROWS", 5)
    head = ("cid,ts,event\n" + GOOD * 300).encode()
    text = head + "C1,2025-01-01 11:00:00,caf\u00e9\n".encode("cp1252") + GOOD.encode()
    msg = _error(_events_config(tmp_path, text))
    offset = len(head) + len("C1,2025-01-01 11:00:00,caf")
    assert f"[events] unknown file encoding — not valid utf-8 at byte {offset};" in msg


def test_parquet_events_in_batches_equal_one_read(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    frame = pd.DataFrame(
        {
            "cid": ["C1", "C2", "C1", "C1", "C2"] * 3,
            "ts": pd.date_range("2025-01-01 08:00", periods=15, freq="7min"),
            "event": ["view", "cart", "view", "buy", "view"] * 3,
        }
    )
    (tmp_path / "raw").mkdir()
    frame.to_parquet(tmp_path / "raw" / "ev.parquet", row_group_size=4)
    path = _events_config(tmp_path, "unused\n", path="ev.parquet")
    tables = {}
    for chunk in (10**9, 4):
        monkeypatch.setattr(ie, "CHUNK_ROWS", chunk)
        prepare(load_config(path), force=True)
        tables[chunk] = pd.read_parquet(tmp_path / "p" / "t" / "events.parquet")
    pd.testing.assert_frame_equal(tables[4], tables[10**9])
    assert len(tables[4]) == 15


def test_mapped_session_ids_are_namespaced_by_customer(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    text = (
        "cid,ts,event,sid\n"
        "C1,2025-01-01 10:00:00,view,s1\n"
        "C1,2025-01-01 13:00:00,cart,s1\n"  # 3 hours later, still the source's session s1
        "C2,2025-01-01 10:00:00,view,s9\n"
    )
    columns = {"customer_id": "cid", "ts": "ts", "event": "event", "session_id": "sid"}
    path = _events_config(tmp_path, text, columns=columns)
    prepare(load_config(path))
    ev = pd.read_parquet(tmp_path / "p" / "t" / "events.parquet")
    c1, c2 = _pseudonym("C1"), _pseudonym("C2")
    # the source's own session ids, prefixed by the customer's pseudonym; no gap rule
    assert ev.groupby("customer_id")["session_id"].apply(list).to_dict() == {
        c1: [f"{c1}-s1", f"{c1}-s1"],
        c2: [f"{c2}-s9"],
    }
    assert ev.groupby("customer_id")["event_seq"].apply(list).to_dict() == {c1: [1, 2], c2: [1]}


# ---------------------------------------------------------------------------------------------
# the pieces
# ---------------------------------------------------------------------------------------------
def test_collector_merge_adds_counts_keeps_first_rows_and_order():
    first, later = Collector("f.csv", "events", limit=3), Collector("f.csv", "events", limit=3)
    df1 = pd.DataFrame({ROW: [1, 2, 3, 4]})
    df2 = pd.DataFrame({ROW: [5, 6, 7, 8]})
    first.check_rows(df1, [True, False, True, False], "ts", "unparseable timestamp")
    first.check_rows(df1, [False] * 4, "event", "null value in required column")
    first.notice("channel", "unknown channel label", 2, "mapped", labels={"b": 1, "a": 1})
    later.check_rows(df2, [False] * 4, "ts", "unparseable timestamp")
    later.check_rows(df2, [True, True, False, False], "event", "null value in required column")
    later.check_rows(df2, [True, True, True, True], "ts", "timestamp in the future")
    later.notice("channel", "unknown channel label", 3, "mapped", labels={"a": 3, "c": 0})
    first.merge(later)
    # ts unparseable: rows 1, 3 (first chunk only); event: rows 5, 6; future: 4 rows, first 3
    assert first.problems == [
        Problem("f.csv", "events", "ts", "unparseable timestamp", 2, (1, 3)),
        Problem("f.csv", "events", "event", "null value in required column", 2, (5, 6)),
        Problem("f.csv", "events", "ts", "timestamp in the future", 4, (5, 6, 7)),
    ]
    # label counts add up per label, sorted by label
    assert first.notices == [
        Notice("events", "channel", "unknown channel label", 5, "mapped", {
            "labels": {"a": 4, "b": 1, "c": 0}
        })
    ]  # fmt: skip


def test_pseudonym_ranges_cover_every_id_once_in_order():
    rng = np.random.default_rng(0)
    ids = [hashlib.sha256(rng.bytes(8)).hexdigest()[:20] for _ in range(2000)]
    for passes in (1, 3, 4, 7, 16, 40):
        conds = ie.pseudonym_ranges(passes)
        assert len(conds) == min(passes, 16)
        con = engine_for(t=pd.DataFrame({"customer_id": ids}))
        parts = [con.query(f"SELECT customer_id FROM t WHERE {c} ORDER BY 1") for c in conds]
        joined = pd.concat(parts)["customer_id"].tolist()
        assert joined == sorted(ids)  # every id once, the ranges in sort order
        con.close()


def test_pseudonym_ranges_below_a_sample_bound_split_the_sample_evenly():
    from journeylib.sql import pseudonym_ranges, pseudonym_sample

    # hand-worked: a quarter of the hex space ('4000' = 16,384 / 65,536) in four passes
    assert pseudonym_ranges(4, below="4000") == [
        "customer_id < '1000'",
        "customer_id >= '1000' AND customer_id < '2000'",
        "customer_id >= '2000' AND customer_id < '3000'",
        "customer_id >= '3000'",
    ]
    assert pseudonym_ranges(3, below="0002") == ["customer_id < '0001'", "customer_id >= '0001'"]
    rng = np.random.default_rng(1)
    ids = [hashlib.sha256(rng.bytes(8)).hexdigest()[:20] for _ in range(4000)]
    sample = pseudonym_sample(0.3)
    bound = sample.rsplit("'", 2)[1]
    con = engine_for(t=pd.DataFrame({"customer_id": ids}))
    kept = sorted(i for i in ids if i[:4] < bound)
    parts = [
        con.query(f"SELECT customer_id FROM t WHERE ({c}) AND ({sample}) ORDER BY 1")
        for c in pseudonym_ranges(4, below=bound)
    ]
    assert pd.concat(parts)["customer_id"].tolist() == kept  # the sample once, in order
    sizes = [len(p) for p in parts]
    assert all(abs(n - len(kept) / 4) < 0.2 * len(kept) / 4 for n in sizes), sizes
    con.close()


def test_written_events_hold_pandas_dtypes(client, monkeypatch):
    _small_chunks(monkeypatch, passes=1000)  # 3 passes, each reading the spool
    config = load_config(client)
    prepare(config)
    path = config.processed_dir / "events.parquet"
    meta = json.loads(pq.read_schema(path).metadata[b"pandas"])
    assert {c["name"]: c["numpy_type"] for c in meta["columns"]}["session_id"] == "string"
    ev = pd.read_parquet(path)
    assert ev["customer_id"].dtype == "string" and ev["ts"].dtype == "datetime64[us, UTC]"
    # sorted by customer, time and event name, as pandas' stable sort wrote it
    assert ev.equals(ev.sort_values(["customer_id", "ts", "event"], kind="stable"))
    pd.testing.assert_frame_equal(ev, _reference_events(config)[0], check_exact=True)


# ---- partitioned Parquet sources (a folder per table, as journey synth --format parquet and
# data lakes write them) --------------------------------------------------------------------
def _both_formats(root: Path) -> tuple[Path, Path]:
    """The same generated client as CSV files and as partitioned Parquet folders."""
    from journeylib.synth import write_raw_stream

    cfg = SynthConfig(n_customers=260, seed=4, chunk_size=100)
    paths = []
    for fmt in ("csv", "parquet"):
        write_raw_stream(cfg, root / f"raw-{fmt}", format=fmt)
        doc = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
        doc["client"] = f"lake{fmt}"
        doc["data"]["raw_dir"] = str(root / f"raw-{fmt}")
        doc["output"] = {"processed_dir": str(root / f"p-{fmt}"), "reports_dir": str(root / "r")}
        if fmt == "parquet":
            for name, source in doc["data"]["sources"].items():
                stem = source["path"].removesuffix(".csv")
                source["path"] = f"{stem}.parquet" if name in ("spend", "products") else stem
        path = root / f"{fmt}.yaml"
        path.write_text(yaml.safe_dump(doc))
        paths.append(path)
    return paths[0], paths[1]


def test_a_parquet_folder_is_one_source_with_the_csv_result(tmp_path, monkeypatch):
    _small_chunks(monkeypatch, chunk=700, passes=2000, batch=500)  # several chunks per file
    csv_cfg, lake_cfg = (load_config(p) for p in _both_formats(tmp_path))
    assert len(list((tmp_path / "raw-parquet" / "web_events").glob("*.parquet"))) == 3
    prepare(csv_cfg)
    result = prepare(lake_cfg)
    assert result.manifest["files"]["events"]["rows_read"] == sum(
        len(pd.read_parquet(p)) for p in (tmp_path / "raw-parquet" / "web_events").iterdir()
    )
    for table in ("customers", "events", "orders", "feedback", "identity_map", "spend"):
        a = pd.read_parquet(csv_cfg.processed_dir / f"{table}.parquet")
        b = pd.read_parquet(lake_cfg.processed_dir / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b, obj=table)
    # a file added to the folder is seen: the tables are rebuilt, not reused
    assert prepare(lake_cfg).reused
    extra = pd.read_parquet(tmp_path / "raw-parquet" / "orders" / "part-00000.parquet").head(0)
    extra.to_parquet(tmp_path / "raw-parquet" / "orders" / "part-00003.parquet", index=False)
    assert not prepare(lake_cfg).reused


def test_parquet_folder_rows_are_numbered_across_files_and_partitions_become_columns(tmp_path):
    folder = tmp_path / "events"
    rows = {"2025-01-02": 3, "2025-01-01": 2}
    for day, n in rows.items():
        part = folder / f"day={day}"
        part.mkdir(parents=True)
        pd.DataFrame({"visitor_id": [f"v{i}" for i in range(n)]}).to_parquet(part / "a.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / "day=2025-01-01" / ".a.parquet.crc").write_text("x")
    from journeylib.config import SourceSpec

    col = Collector("events", "events", 5)
    chunks = list(ie.iter_raw(folder, SourceSpec(path="events"), col, chunk_rows=2))
    assert not col.problems
    df = pd.concat(chunks, ignore_index=True)
    # files in path order (day=2025-01-01 first), rows numbered over the whole folder
    assert df["day"].tolist() == ["2025-01-01"] * 2 + ["2025-01-02"] * 3
    assert df["visitor_id"].tolist() == ["v0", "v1", "v0", "v1", "v2"]
    assert df[ROW].tolist() == [1, 2, 3, 4, 5]
    assert ie.source_bytes(folder) == sum(p.stat().st_size for p in folder.rglob("a.parquet"))


def test_parquet_folder_problems_name_the_folder(tmp_path):
    from journeylib.config import SourceSpec

    empty = tmp_path / "empty"
    empty.mkdir()
    col = Collector("empty", "events", 5)
    assert list(ie.iter_raw(empty, SourceSpec(path="empty"), col)) == []
    assert [p.check for p in col.problems] == ["empty folder"]
    col = Collector("empty", "events", 5)
    (empty / "x.parquet").write_bytes(b"not parquet")
    assert list(ie.iter_raw(empty, SourceSpec(path="empty", format="csv"), col)) == []
    assert [p.check for p in col.problems] == ["a folder is read only as partitioned Parquet"]
    col = Collector("empty", "events", 5)
    assert list(ie.iter_raw(empty, SourceSpec(path="empty"), col)) == []
    assert [p.check for p in col.problems] == ["unreadable Parquet file (x.parquet)"]
