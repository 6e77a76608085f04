"""Loaders and validation on tiny hand-written exports.

Each expectation is worked out by hand from the rows written in the test; the business rule is
stated next to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from journeylib.config import ConfigError, load_config
from journeylib.io import DataValidationError, prepare, read_processed
from journeylib.privacy import DEMO_KEY

CUSTOMERS = """customer_ref,email,full_name,signup_time,region,signup_channel
C1,ani@example.com,Ani Lestari,2025-01-01 10:00:00,DKI Jakarta,google / organic
C2,budi@example.com,Budi Santoso,2025-01-02 11:00:00,Bali,IG
"""
EVENTS = """visitor_id,event_time,event_name,traffic_source,device_category,sku,value
v1,2025-01-03 10:00:00,page_view,google / organic,Mobile,,
v1,2025-01-03 10:10:00,view_item,google / organic,Mobile,S1,
v1,2025-01-03 10:10:00,view_item,google / organic,Mobile,S1,
v1,2025-01-03 12:00:00,purchase,newsletter,Mobile,S1,150000
v2,2025-01-04 09:00:00,page_view,tiktok_live_test,PC,,
v9,2025-01-04 09:00:00,page_view,(direct),iPad,,
"""
IDENTITY = """source,source_id,customer_ref
web,v1,C1
web,v2,C2
"""
ORDERS = """order_id,customer_ref,order_time,sku,quantity,revenue
O1,C1,2025-01-03 12:00:00,S1,1,150000
"""
FEEDBACK = """customer_ref,email,submitted_at,kind,score,comment
C1,ani@example.com,2025-01-05 08:00:00,NPS,9,great service call me +62 812 3456 7890
C2,budi@example.com,2025-01-05 08:00:00,review,2,late delivery mail me at budi@example.com
"""

FILES = {
    "customers.csv": CUSTOMERS,
    "web_events.csv": EVENTS,
    "identity_map.csv": IDENTITY,
    "orders.csv": ORDERS,
    "feedback.csv": FEEDBACK,
}


def _config_dict(root: Path) -> dict:
    return {
        "client": "tiny",
        "data": {
            "raw_dir": str(root / "raw"),
            "timezone": "Asia/Jakarta",
            "window": {"start": "2025-01-01", "end": "2025-06-30"},
            "sources": {
                "customers": {
                    "path": "customers.csv",
                    "ts_format": "%Y-%m-%d %H:%M:%S",
                    "columns": {
                        "customer_id": "customer_ref",
                        "first_seen": "signup_time",
                        "region": "region",
                        "signup_channel": "signup_channel",
                    },
                },
                "events": {
                    "path": "web_events.csv",
                    "id_source": "web",
                    "ts_format": "%Y-%m-%d %H:%M:%S",
                    "columns": {
                        "customer_id": "visitor_id",
                        "ts": "event_time",
                        "event": "event_name",
                        "channel": "traffic_source",
                        "device": "device_category",
                        "product_id": "sku",
                        "value": "value",
                    },
                },
                "orders": {
                    "path": "orders.csv",
                    "ts_format": "%Y-%m-%d %H:%M:%S",
                    "columns": {
                        "order_id": "order_id",
                        "customer_id": "customer_ref",
                        "ts": "order_time",
                        "product_id": "sku",
                        "quantity": "quantity",
                        "revenue": "revenue",
                    },
                },
                "feedback": {
                    "path": "feedback.csv",
                    "ts_format": "%Y-%m-%d %H:%M:%S",
                    "columns": {
                        "customer_id": "customer_ref",
                        "ts": "submitted_at",
                        "kind": "kind",
                        "score": "score",
                        "text": "comment",
                    },
                },
                "identity_map": {
                    "path": "identity_map.csv",
                    "columns": {
                        "source": "source",
                        "source_id": "source_id",
                        "customer_id": "customer_ref",
                    },
                },
            },
        },
        "privacy": {"allow_demo_key": True},
        "output": {"processed_dir": str(root / "processed"), "reports_dir": str(root / "reports")},
    }


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny client: raw exports + config in tmp_path. Returns (root, write_config, write_raw)."""
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in FILES.items():
        (raw / name).write_text(text, encoding="utf-8")

    def write_config(**overrides) -> Path:
        cfg = _config_dict(tmp_path)
        for dotted, value in overrides.items():
            node = cfg
            *parents, last = dotted.split("__")
            for p in parents:
                node = node.setdefault(p, {})
            node[last] = value
        path = tmp_path / "tiny.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        return path

    return tmp_path, write_config


def _hash(raw_id: str) -> str:
    """Independent HMAC-SHA256 pseudonym (20 hex digits) with the public demo key."""
    return hmac.new(DEMO_KEY.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:20]


# ---------------------------------------------------------------------------------------------
# the happy path, checked by hand
# ---------------------------------------------------------------------------------------------
def test_prepare_builds_canonical_tables(tiny):
    root, write_config = tiny
    config = load_config(write_config())
    result = prepare(config)
    ev = pd.read_parquet(config.processed_dir / "events.parquet")
    cust = pd.read_parquet(config.processed_dir / "customers.parquet")

    # 6 raw event rows, one exact duplicate dropped -> 5
    assert len(ev) == 5
    # v1 -> C1 and v2 -> C2 via the identity map; v9 is anonymous and keeps "web:v9"
    assert set(ev["customer_id"]) == {_hash("C1"), _hash("C2"), _hash("web:v9")}
    # Jakarta is UTC+7: 10:00 local is 03:00 UTC
    first = ev[ev["customer_id"] == _hash("C1")].iloc[0]
    assert first["ts"] == pd.Timestamp("2025-01-03 03:00", tz="UTC")
    # C1: 10:00, 10:10, then 12:00 (gap 110 min > 30) -> sessions 1, 1, 2
    c1 = ev[ev["customer_id"] == _hash("C1")]
    assert c1["session_id"].tolist() == [f"{_hash('C1')}-{n}" for n in (1, 1, 2)]
    # labels: 'newsletter' -> email, 'tiktok_live_test' -> other, 'PC' -> desktop, 'iPad' -> tablet
    assert c1["channel"].tolist() == ["organic_search", "organic_search", "email"]
    assert set(
        ev.loc[ev["customer_id"] == _hash("C2"), ["channel", "device"]].itertuples(
            index=False, name=None
        )
    ) == {("other", "desktop")}
    # the anonymous visitor is added to customers, first_seen = its first event (09:00 WIB)
    anon = cust.set_index("customer_id").loc[_hash("web:v9")]
    assert not anon["identified"]
    assert anon["first_seen"] == pd.Timestamp("2025-01-04 02:00", tz="UTC")
    assert len(cust) == 3
    # one column read alone, as notebook 50 reads the customer ids of 10M customers
    ids = read_processed(config, "customers", columns=["customer_id"])
    assert ids.columns.tolist() == ["customer_id"] and set(ids["customer_id"]) == set(
        cust["customer_id"]
    )

    notices = {(n["table"], n["check"]): n["count"] for n in result.manifest["notices"]}
    assert notices[("events", "duplicate rows")] == 1
    assert notices[("events", "unknown channel label")] == 1
    assert notices[("feedback", "e-mail or phone number in free text")] == 2
    # 5 events after dedup, 4 matched (v1 x3, v2 x1), v9 unmatched
    (cov,) = result.manifest["identity"]
    assert (cov["records"], cov["matched"], cov["unmatched_ids"]) == (5, 4, 1)


def test_direct_identifiers_never_reach_processed_data(tiny):
    root, write_config = tiny
    config = load_config(write_config())
    prepare(config)
    blob = b"".join(p.read_bytes() for p in config.processed_dir.iterdir())
    for secret in (
        b"ani@example.com",
        b"budi@example.com",
        b"Budi Santoso",
        b"812 3456",
        b"C1",
        b"v9",
    ):
        assert secret not in blob, secret
    fb = pd.read_parquet(config.processed_dir / "feedback.parquet")
    assert fb["text"].tolist() == [
        "great service call me [phone]",
        "late delivery mail me at [email]",
    ]


def test_mapping_an_identifier_column_is_refused(tiny):
    root, write_config = tiny
    cfg = _config_dict(root)
    cfg["data"]["sources"]["customers"]["columns"]["segment"] = "email"
    path = root / "pii.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(DataValidationError, match=r"column 'segment'\] direct identifier mapped"):
        prepare(load_config(path))


def test_key_from_environment_changes_pseudonyms(tiny, monkeypatch):
    root, write_config = tiny
    monkeypatch.setenv("JOURNEY_ID_KEY", "client-secret")
    config = load_config(write_config())
    prepare(config)
    cust = pd.read_parquet(config.processed_dir / "customers.parquet")
    expected = hmac.new(b"client-secret", b"C1", hashlib.sha256).hexdigest()[:20]
    assert expected in set(cust["customer_id"])


def test_missing_key_without_demo_opt_in_is_an_error(tiny, monkeypatch):
    root, write_config = tiny
    config = load_config(write_config(privacy={"allow_demo_key": False}))
    with pytest.raises(RuntimeError, match="JOURNEY_ID_KEY is not set"):
        prepare(config)


def test_prepare_is_idempotent_and_notices_changes(tiny):
    root, write_config = tiny
    config = load_config(write_config())
    assert not prepare(config).reused
    assert prepare(config).reused
    (root / "raw" / "orders.csv").write_text(ORDERS + "O2,C2,2025-01-06 12:00:00,S2,2,50000\n")
    again = prepare(config)
    assert not again.reused and again.tables["orders"] == 2


def test_analysis_settings_never_rebuild_the_processed_tables(tiny):
    # the tables depend on the raw files and the ingest settings only: a new persona or churn
    # setting reuses them (and keeps what the notebooks wrote next to them), a new session
    # timeout rebuilds them
    root, write_config = tiny
    assert not prepare(load_config(write_config())).reused
    tuned = load_config(write_config(personas={"k": 4}, churn={"horizon_days": 30}, seed=7))
    assert prepare(tuned).reused
    assert not prepare(load_config(write_config(sessions={"timeout_minutes": 20}))).reused


# ---------------------------------------------------------------------------------------------
# every validation failure named in the issue: clear message, no raw values, nothing written
# ---------------------------------------------------------------------------------------------
def _fails(config_path: Path) -> str:
    config = load_config(config_path)
    before = (
        sorted(p.name for p in config.processed_dir.parent.glob("*"))
        if config.processed_dir.parent.exists()
        else []
    )
    with pytest.raises(DataValidationError) as info:
        prepare(config)
    after = (
        sorted(p.name for p in config.processed_dir.parent.glob("*"))
        if config.processed_dir.parent.exists()
        else []
    )
    assert before == after, "a failed prepare must not leave files behind"
    return str(info.value)


def _replace(root: Path, name: str, old: str, new: str) -> None:
    path = root / "raw" / name
    path.write_text(path.read_text().replace(old, new, 1))


def test_missing_required_column(tiny):
    root, write_config = tiny
    _replace(root, "orders.csv", "revenue", "amount")
    msg = _fails(write_config())
    assert "orders.csv [orders, column 'revenue'] missing required column" in msg
    assert "raw column 'revenue' is not in the file" in msg


def test_unparseable_timestamp_names_rows_not_values(tiny):
    root, write_config = tiny
    # data row 4 of web_events.csv (the purchase) gets a broken timestamp
    _replace(root, "web_events.csv", "2025-01-03 12:00:00", "03/01/2025 noon")
    msg = _fails(write_config())
    assert "web_events.csv [events, column 'ts'] unparseable timestamp: 1 row (rows 4)" in msg
    assert "noon" not in msg


def test_wrong_dtype(tiny):
    root, write_config = tiny
    _replace(root, "orders.csv", ",150000", ",Rp150.000")
    msg = _fails(write_config())
    assert (
        "orders.csv [orders, column 'revenue'] wrong dtype (expected a number): 1 row (rows 1)"
        in msg
    )
    assert "Rp150" not in msg


def test_null_id(tiny):
    root, write_config = tiny
    _replace(root, "orders.csv", "O1,C1", "O1,")
    msg = _fails(write_config())
    assert "[orders, column 'customer_id'] null id: 1 row (rows 1)" in msg


def test_duplicate_rows_can_be_fatal(tiny):
    root, write_config = tiny
    msg = _fails(write_config(quality={"on_duplicates": "error"}))
    # rows 2 and 3 of web_events.csv are identical; the second is the duplicate
    assert "web_events.csv [events] duplicate rows: 1 row (rows 3)" in msg


def test_future_timestamp(tiny):
    root, write_config = tiny
    _replace(root, "feedback.csv", "2025-01-05 08:00:00", "2099-01-05 08:00:00")
    msg = _fails(write_config(data__window={"start": "2025-01-01"}))
    assert "feedback.csv [feedback, column 'ts'] timestamp in the future: 1 row (rows 1)" in msg


def test_out_of_window_error_and_drop(tiny):
    root, write_config = tiny
    _replace(root, "orders.csv", "2025-01-03 12:00:00", "2024-12-31 12:00:00")
    msg = _fails(write_config())
    assert "[orders, column 'ts'] timestamp outside the configured window: 1 row (rows 1)" in msg
    config = load_config(write_config(quality={"on_out_of_window": "drop"}))
    result = prepare(config)
    assert result.tables["orders"] == 0
    assert {
        "table": "orders",
        "check": "outside the configured window",
        "count": 1,
    }.items() <= next(n for n in result.manifest["notices"] if n["table"] == "orders").items()


def test_empty_files(tiny):
    root, write_config = tiny
    (root / "raw" / "orders.csv").write_text("")
    (root / "raw" / "feedback.csv").write_text(
        "customer_ref,email,submitted_at,kind,score,comment\n"
    )
    msg = _fails(write_config())
    assert "orders.csv [orders] empty file — the file has 0 bytes" in msg
    assert (
        "feedback.csv [feedback] empty file — the header is there but there are no data rows" in msg
    )


def test_unknown_encoding(tiny):
    root, write_config = tiny
    # a cp1252 export: 'é' is byte 0xE9, invalid as UTF-8
    (root / "raw" / "customers.csv").write_bytes(
        CUSTOMERS.replace("Bali", "Bal\u00e9").encode("cp1252")
    )
    msg = _fails(write_config())
    assert "customers.csv [customers] unknown file encoding — not valid utf-8 at byte" in msg
    config = load_config(write_config(data__sources__customers__encoding="cp1252"))
    assert prepare(config).tables["customers"] == 3


def test_all_problems_reported_in_one_run(tiny):
    root, write_config = tiny
    _replace(root, "orders.csv", "revenue", "amount")
    _replace(root, "web_events.csv", "2025-01-03 12:00:00", "garbage")
    _replace(root, "feedback.csv", "NPS,9", "NPS,11")
    msg = _fails(write_config())
    assert msg.startswith("Data validation failed with 3 problems:")
    assert "nps score out of range: 1 row (rows 1)" in msg


def test_failed_prepare_keeps_previous_processed_tables(tiny):
    root, write_config = tiny
    config = load_config(write_config())
    prepare(config)
    before = {p.name: p.read_bytes() for p in config.processed_dir.iterdir()}
    _replace(root, "orders.csv", "150000", "lots")
    with pytest.raises(DataValidationError):
        prepare(config)
    after = {p.name: p.read_bytes() for p in config.processed_dir.iterdir()}
    assert before == after
    assert [p.name for p in config.processed_dir.parent.iterdir()] == ["tiny"]


def test_parquet_source(tiny):
    root, write_config = tiny
    orders = pd.read_csv(root / "raw" / "orders.csv", dtype=str)
    orders["quantity"] = orders["quantity"].astype(int)
    orders["revenue"] = orders["revenue"].astype(float)
    orders.to_parquet(root / "raw" / "orders.parquet")
    config = load_config(write_config(data__sources__orders__path="orders.parquet"))
    prepare(config)
    out = pd.read_parquet(config.processed_dir / "orders.parquet")
    assert out["revenue"].tolist() == [150000.0]
    assert out["ts"].tolist() == [pd.Timestamp("2025-01-03 05:00", tz="UTC")]


# ---------------------------------------------------------------------------------------------
# config validation
# ---------------------------------------------------------------------------------------------
def test_unknown_config_key_is_an_error(tiny):
    root, write_config = tiny
    path = write_config(repot={"title": "typo"})
    with pytest.raises(ConfigError, match=r"repot: unknown key"):
        load_config(path)


def test_required_mapping_missing(tiny):
    root, write_config = tiny
    cfg = _config_dict(root)
    del cfg["data"]["sources"]["orders"]["columns"]["revenue"]
    cfg["report"] = {"language": "fr", "primary_color": "green"}
    path = root / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "3 problem(s)" in msg
    assert "required canonical column(s) ['revenue'] not mapped" in msg
    assert "report.language" in msg and "report.primary_color" in msg


def test_manifest_records_fingerprints(tiny):
    root, write_config = tiny
    config = load_config(write_config())
    prepare(config)
    manifest = json.loads((config.processed_dir / "_manifest.json").read_text())
    expected = hashlib.sha256((root / "raw" / "orders.csv").read_bytes()).hexdigest()
    assert manifest["fingerprint"]["raw_sha256"]["orders"] == expected
    assert manifest["rows"]["events"] == 5


def test_signup_before_window_is_fine_but_activity_is_not(tiny):
    root, write_config = tiny
    # C1 signed up in 2024, before the analysis window: allowed (customers are not windowed)
    _replace(root, "customers.csv", "2025-01-01 10:00:00", "2024-03-01 10:00:00")
    config = load_config(write_config())
    cust = pd.read_parquet(prepare(config).processed_dir / "customers.parquet")
    assert cust["first_seen"].min() == pd.Timestamp("2024-03-01 03:00", tz="UTC")


def test_score_may_be_empty_only_for_social_posts(tiny):
    root, write_config = tiny
    path = root / "raw" / "feedback.csv"
    path.write_text(
        path.read_text() + "C2,,2025-01-06 08:00:00,social,,love it\n"
        "C1,,2025-01-06 09:00:00,csat,,\n"
    )
    msg = _fails(write_config())
    # data row 4 (the csat without a score) fails; row 3 (social) is fine
    assert "[feedback, column 'score'] null value in required column: 1 row (rows 4)" in msg


def test_window_is_in_local_calendar_days(tiny):
    root, write_config = tiny
    # 00:30 WIB on 1 January is 17:30 UTC on 31 December, but it is inside a window starting on
    # 1 January in the client's own calendar; 23:59 WIB on 30 June is still inside too
    _replace(root, "web_events.csv", "2025-01-03 10:00:00", "2025-01-01 00:30:00")
    _replace(root, "orders.csv", "2025-01-03 12:00:00", "2025-06-30 23:59:00")
    config = load_config(write_config())
    assert prepare(config).tables["orders"] == 1
    # 00:30 WIB on 1 July is outside
    _replace(root, "orders.csv", "2025-06-30 23:59:00", "2025-07-01 00:30:00")
    assert "timestamp outside the configured window: 1 row" in _fails(write_config())


def test_processed_tables_built_by_an_older_format_are_rebuilt(tiny):
    root, write_config = tiny
    config = load_config(write_config())
    prepare(config)
    path = config.processed_dir / "_manifest.json"
    manifest = json.loads(path.read_text())
    manifest["fingerprint"]["format"] = 1  # as written by older code
    path.write_text(json.dumps(manifest))
    assert not prepare(config).reused
    assert prepare(config).reused


def test_reuse_check_hashes_only_when_a_file_looks_changed(tiny, monkeypatch):
    import os

    import journeylib.io as jio

    root, write_config = tiny
    config = load_config(write_config())
    prepare(config)
    calls = []
    real = jio._sha256
    monkeypatch.setattr(jio, "_sha256", lambda p: calls.append(p) or real(p))
    # unchanged files: size and mtime match the manifest, nothing is hashed
    assert prepare(config).reused and calls == []
    # touched but identical: the hashes are compared and the tables are still reused
    orders = root / "raw" / "orders.csv"
    os.utime(orders, ns=(orders.stat().st_atime_ns, orders.stat().st_mtime_ns + 10**9))
    assert prepare(config).reused and len(calls) == 5
