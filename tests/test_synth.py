"""Tests of journeylib.synth: determinism, file contracts, and every planted effect.

Effects are checked on the *written files* with plain pandas (sessionising web events with the
30-minute rule, mapping raw labels through the schema's alias tables), not through generator
internals, so the checks are the same ones a downstream analysis would make.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeylib.schema import DEFAULT_CHANNEL_ALIASES, DEFAULT_DEVICE_ALIASES
from journeylib.synth import SynthConfig, generate, iter_chunks, write_raw
from journeylib.synth import writer as synth_writer

EXPECTED_COLUMNS = {
    "customers.csv": [
        "customer_ref",
        "email",
        "full_name",
        "phone",
        "signup_time",
        "region",
        "segment",
        "signup_channel",
    ],  # fmt: skip
    "web_events.csv": [
        "visitor_id",
        "event_time",
        "event_name",
        "traffic_source",
        "campaign",
        "device_category",
        "sku",
        "value",
    ],  # fmt: skip
    "identity_map.csv": ["source", "source_id", "customer_ref"],
    "orders.csv": ["order_id", "customer_ref", "order_time", "sku", "quantity", "revenue"],
    "feedback.csv": [
        "customer_ref",
        "email",
        "submitted_at",
        "kind",
        "score",
        "comment",
        "touchpoint",
    ],  # fmt: skip
    "spend.csv": ["date", "channel", "campaign", "cost"],
    "products.csv": ["sku", "name", "category", "price"],
}
EVENT_NAMES = {
    "page_view", "view_promotion", "view_item", "search", "add_to_wishlist", "compare_products",
    "add_to_cart", "begin_checkout", "add_payment_info", "purchase", "payment_error",
    "checkout_error", "contact_support", "delivery_late", "return_request", "write_review",
    "refer_friend", "remove_from_cart",
}  # fmt: skip
UNKNOWN_CHANNELS = {"tiktok_live_test", "kol_campaign_q2"}
UNKNOWN_DEVICES = {"smart tv"}
CLOSING = {"email", "paid_search", "direct", "whatsapp"}
ASSISTING = {"display", "social", "paid_social"}
TIME = "%Y-%m-%d %H:%M:%S"


def _norm(label: str) -> str:
    # the schema's alias keys are compared after lower-casing and collapsing white space
    return " ".join(str(label).lower().split())


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, keep_default_na=True)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """n=3000 customers written to disk and read back, plus derived sessions."""
    folder = tmp_path_factory.mktemp("synth") / "raw"
    write_raw(generate(SynthConfig(n_customers=3000, seed=7)), folder)
    out = {n: _read(folder, n) for n in EXPECTED_COLUMNS}
    out["truth"] = _read(folder, "_truth/customers.csv")
    out["effects"] = json.loads((folder / "_truth/effects.json").read_text())
    ev = out["web_events.csv"].drop_duplicates().copy()
    ev["ts"] = pd.to_datetime(ev["event_time"], format=TIME)
    ev["channel"] = ev["traffic_source"].map(lambda s: DEFAULT_CHANNEL_ALIASES.get(_norm(s), "other"))  # fmt: skip
    ev["device"] = ev["device_category"].map(lambda s: DEFAULT_DEVICE_ALIASES.get(_norm(s), "other"))  # fmt: skip
    ev = ev.sort_values(["visitor_id", "ts"], kind="stable")
    new = ev["visitor_id"].ne(ev["visitor_id"].shift()) | ev["ts"].diff().gt(pd.Timedelta("30min"))
    ev["session"] = new.cumsum()
    ev = ev.merge(out["identity_map.csv"][["source_id", "customer_ref"]].rename(columns={"source_id": "visitor_id"}), how="left")  # fmt: skip
    out["events"] = ev
    name = ev["event_name"]
    flags = pd.DataFrame(
        {
            "session": ev["session"],
            "purchase": name.eq("purchase"),
            "cart": name.eq("add_to_cart"),
            "checkout": name.eq("begin_checkout"),
            "n_checkout": name.eq("begin_checkout").astype(int),
            "service": name.isin(["delivery_late", "return_request"]),
            "payment_error": name.eq("payment_error"),
        }
    )
    g = ev.groupby("session")
    sess = pd.concat(
        [
            g[["visitor_id", "customer_ref", "channel", "device"]].first(),
            g["ts"].min().rename("start"),
            flags.groupby("session").agg(
                {
                    "purchase": "any",
                    "cart": "any",
                    "checkout": "any",
                    "n_checkout": "sum",
                    "service": "any",
                    "payment_error": "any",
                }  # fmt: skip
            ),
        ],
        axis=1,
    )
    out["sessions_all"] = sess
    out["sessions"] = sess[~sess["service"]]
    return out


# ---- determinism and contracts -----------------------------------------------------------------


def test_same_config_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    cfg = SynthConfig(n_customers=300, seed=42)
    a = write_raw(generate(cfg), tmp_path / "a")
    b = write_raw(generate(cfg), tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 10  # 7 raw files + 2 truth files + README
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    c = write_raw(generate(cfg.model_copy(update={"seed": 43})), tmp_path / "c")
    assert (a / "web_events.csv").read_bytes() != (c / "web_events.csv").read_bytes()
    assert b"\r\n" not in (a / "web_events.csv").read_bytes()


def test_written_files_have_exact_columns(raw: dict) -> None:
    for name, cols in EXPECTED_COLUMNS.items():
        assert list(raw[name].columns) == cols, name
    assert {"customer_ref", "persona", "churned", "churn_time", "churn_cause", "satisfaction", "furthest_stage"} <= set(raw["truth"].columns)  # fmt: skip
    assert raw["effects"]["config"]["seed"] == 7
    assert raw["effects"]["incident"]["device"] == "mobile"


def test_timestamps_and_vocabularies(raw: dict) -> None:
    ev = raw["web_events.csv"]
    pd.to_datetime(ev["event_time"], format=TIME)  # raises on any other format
    assert set(ev["event_name"]) <= EVENT_NAMES
    assert set(raw["feedback.csv"]["kind"]) == {"nps", "csat", "review", "social"}
    fb = raw["feedback.csv"]
    nps = fb.loc[fb["kind"] == "nps", "score"]
    assert nps.between(0, 10).all()
    assert fb.loc[fb["kind"].isin(["csat", "review"]), "score"].between(1, 5).all()
    assert fb.loc[fb["kind"] == "social", "score"].isna().all()
    assert raw["customers.csv"]["phone"].astype(str).str.match(r"^(\+62 8|08|628)").all()


def test_every_raw_label_maps_except_the_planted_unknowns(raw: dict) -> None:
    channels = pd.concat(
        [
            raw["web_events.csv"]["traffic_source"],
            raw["customers.csv"]["signup_channel"],
            raw["spend.csv"]["channel"],
        ]  # fmt: skip
    ).map(_norm)
    unmapped = set(channels[~channels.isin(DEFAULT_CHANNEL_ALIASES)])
    assert unmapped == UNKNOWN_CHANNELS
    share = (~channels.isin(DEFAULT_CHANNEL_ALIASES)).mean()
    assert 0 < share < 0.01
    devices = raw["web_events.csv"]["device_category"].map(_norm)
    assert set(devices[~devices.isin(DEFAULT_DEVICE_ALIASES)]) == UNKNOWN_DEVICES
    # messy spellings: several raw variants per canonical channel
    assert raw["web_events.csv"]["traffic_source"].nunique() > 40


def test_sessionisation_recovers_the_simulated_web_sessions(raw: dict) -> None:
    # consecutive events < 30 min apart, sessions > 30 min apart: the 30-minute rule gives back
    # exactly the simulated sessions of identified customers
    ev = raw["events"]
    n_sessions = ev.loc[ev["customer_ref"].notna(), "session"].nunique()
    assert n_sessions == raw["truth"]["n_web_sessions"].sum()


def test_purchase_events_match_orders(raw: dict) -> None:
    ev = raw["events"]
    buys = ev[ev["event_name"] == "purchase"][["customer_ref", "event_time", "value"]]
    orders = raw["orders.csv"]
    totals = orders.groupby(["order_id", "customer_ref", "order_time"], as_index=False)["revenue"].sum()  # fmt: skip
    web_orders = totals[totals["order_id"].str.startswith("ORD-")]
    merged = buys.merge(web_orders, left_on=["customer_ref", "event_time"], right_on=["customer_ref", "order_time"], how="outer", indicator=True)  # fmt: skip
    assert (merged["_merge"] == "both").all()
    assert (merged["value"] == merged["revenue"]).all()
    # offline store orders exist and have no web purchase event
    assert totals["order_id"].str.startswith("POS-").sum() > 0


# ---- planted effects ---------------------------------------------------------------------------


def test_conversion_and_cart_abandonment_in_planted_ranges(raw: dict) -> None:
    s = raw["sessions"]
    ident = s[s["customer_ref"].notna()]
    assert 0.01 < ident["purchase"].mean() < 0.08  # session-level purchase conversion
    buyers = raw["orders.csv"]["customer_ref"].nunique() / len(raw["customers.csv"])
    assert 0.08 < buyers < 0.35  # customer-level visitor -> buyer
    carts = ident[ident["cart"]]
    abandonment = 1 - carts["purchase"].mean()
    assert 0.60 <= abandonment <= 0.75
    assert 0.65 < (s["device"] == "mobile").mean() < 0.78


def test_abandoned_carts_come_back_via_retargeting(raw: dict) -> None:
    s = raw["sessions"].dropna(subset=["customer_ref"]).sort_values(["customer_ref", "start"])
    prev_abandoned = (s["cart"] & ~s["purchase"]).groupby(s["customer_ref"]).shift().fillna(False)
    returns = s[prev_abandoned.astype(bool)]
    retarget = returns["channel"].isin(["email", "whatsapp"])
    assert retarget.mean() > 0.3
    # the retargeted return session converts far better than an average session
    assert returns.loc[retarget, "purchase"].mean() > 3 * s["purchase"].mean()


def test_desktop_converts_better_than_mobile(raw: dict) -> None:
    s = raw["sessions"].merge(raw["truth"][["customer_ref", "persona"]], on="customer_ref")
    rate = s.groupby("device")["purchase"].mean()
    assert rate["desktop"] > 1.5 * rate["mobile"]
    # also within one persona (so not only persona mix)
    p = s[s["persona"] == "loyal_premium_desktop"].groupby("device")["purchase"].mean()
    assert p["desktop"] > p["mobile"]


def test_closing_channels_convert_better_than_assisting(raw: dict) -> None:
    s = raw["sessions"]
    close = s.loc[s["channel"].isin(CLOSING), "purchase"].mean()
    assist = s.loc[s["channel"].isin(ASSISTING), "purchase"].mean()
    assert close > 3 * assist
    eff = raw["effects"]
    assert min(eff["channel_close_logodds"][c] for c in CLOSING) > max(eff["channel_close_logodds"][c] for c in ASSISTING)  # fmt: skip
    assert all(eff["channel_assist_logodds"][c] > 0.2 for c in ASSISTING)


def test_incident_concentrates_checkout_errors_on_device_and_window(raw: dict) -> None:
    inc = raw["effects"]["incident"]
    lo = pd.Timestamp(inc["first_day"])
    hi = pd.Timestamp(inc["last_day"]) + pd.Timedelta("1D")
    ev = raw["events"]
    err = ev[ev["event_name"] == "checkout_error"]
    inside = err["ts"].between(lo, hi, inclusive="left") & (err["device"] == inc["device"])
    assert inside.mean() > 0.8
    s = raw["sessions"]
    ck = s[s["checkout"] & (s["device"] == "mobile")]
    in_win = ck["start"].between(lo, hi, inclusive="left")
    # checkout -> purchase collapses during the incident (planted: 85% hit, 10% still buy)
    assert ck.loc[in_win, "purchase"].mean() < 0.6 * ck.loc[~in_win, "purchase"].mean()
    assert ck.loc[in_win, "n_checkout"].mean() > 1.5  # repeated begin_checkout loops


def test_copurchase_groups_have_high_lift(raw: dict) -> None:
    orders = raw["orders.csv"]
    basket = orders.groupby("order_id")["sku"].agg(set)
    n = len(basket)
    lifts = []
    for group in raw["effects"]["co_purchase_groups"]:
        a, b = group[0], group[1]
        na = basket.map(lambda s, a=a: a in s).sum()
        nb = basket.map(lambda s, b=b: b in s).sum()
        nab = basket.map(lambda s, a=a, b=b: a in s and b in s).sum()
        if na >= 5 and nb >= 5:
            lifts.append(nab * n / (na * nb))
    assert len(lifts) >= 4
    assert np.median(lifts) > 10


def test_churned_customers_go_silent_and_friction_raises_churn(raw: dict) -> None:
    t = raw["truth"]
    churned = t[t["churned"]].set_index("customer_ref")
    churn_at = pd.to_datetime(churned["churn_time"], format=TIME)
    ev = raw["events"].dropna(subset=["customer_ref"])
    last = {
        "events": ev.groupby("customer_ref")["ts"].max(),
        "orders": pd.to_datetime(raw["orders.csv"]["order_time"])
        .groupby(raw["orders.csv"]["customer_ref"])
        .max(),  # fmt: skip
        "feedback": pd.to_datetime(raw["feedback.csv"]["submitted_at"])
        .groupby(raw["feedback.csv"]["customer_ref"])
        .max(),  # fmt: skip
    }
    for name, series in last.items():
        s = series.reindex(churn_at.index).dropna()
        assert (s <= churn_at.reindex(s.index)).all(), name
    # friction seen in the event log (not the truth table) raises churn among buyers; at the
    # customer level the effect is diluted (friction needs exposure: long-lived, active buyers)
    fric = ev[ev["event_name"].isin(["payment_error", "delivery_late", "return_request"])]
    buyers = t[t["customer_ref"].isin(raw["orders.csv"]["customer_ref"])]
    has_fric = buyers["customer_ref"].isin(fric["customer_ref"])
    assert buyers.loc[has_fric, "churned"].mean() > buyers.loc[~has_fric, "churned"].mean()
    # ... and sharply right after the friction: customers fall silent after a friction session
    # far more often than after a clean purchase session (sessions > 45 days before the end)
    s = raw["sessions_all"].dropna(subset=["customer_ref"]).sort_values(["customer_ref", "start"])
    s["silent_after"] = s["customer_ref"].ne(s["customer_ref"].shift(-1))
    s = s[s["start"] < s["start"].max() - pd.Timedelta("45D")]
    friction = s["service"] | s["payment_error"]
    clean_buy = s["purchase"] & ~friction
    assert s.loc[friction, "silent_after"].mean() > 2 * s.loc[clean_buy, "silent_after"].mean()
    assert set(t["churn_cause"].dropna()) <= set(raw["effects"]["churn_causes"])


def test_nps_is_lower_after_delivery_late(raw: dict) -> None:
    fb = raw["feedback.csv"]
    nps = fb[fb["kind"] == "nps"].assign(ts=lambda d: pd.to_datetime(d["submitted_at"]))
    late = raw["events"].loc[raw["events"]["event_name"] == "delivery_late", ["customer_ref", "ts"]]
    m = nps.merge(late, on="customer_ref", how="left", suffixes=("", "_late"))
    m["after_late"] = (m["ts"] - m["ts_late"]).between(pd.Timedelta(0), pd.Timedelta("3D"))
    flag = m.groupby(["customer_ref", "ts"])["after_late"].any()
    scores = nps.set_index(["customer_ref", "ts"])["score"]
    assert flag.sum() >= 10
    assert scores[flag].mean() < scores[~flag].mean() - 2
    detractor = scores <= 6
    assert detractor[flag].mean() > 2 * detractor[~flag].mean()


def test_personas_have_distinct_channel_preferences(raw: dict) -> None:
    s = raw["sessions"].merge(raw["truth"][["customer_ref", "persona"]], on="customer_ref")
    mix = pd.crosstab(s["persona"], s["channel"], normalize="index")
    assert mix.loc["marketplace_casual"].idxmax() == "marketplace"
    assert mix.loc["b2b_reseller_bulk"].idxmax() == "whatsapp"
    assert mix.loc["social_young_browser", ["social", "paid_social"]].sum() > 0.5
    assert mix.loc["loyal_premium_desktop", ["direct", "email"]].sum() > 0.4


def test_noise_duplicates_anonymous_visitors_and_pii_in_comments(raw: dict) -> None:
    ev = raw["web_events.csv"]
    dup = ev.duplicated().mean()
    assert 0.002 < dup < 0.01
    visitors = set(ev["visitor_id"])
    anon = visitors - set(raw["identity_map.csv"]["source_id"])
    assert 0.015 < len(anon) / len(visitors) < 0.04
    assert raw["identity_map.csv"]["customer_ref"].duplicated().any()  # cross-device customers
    text = raw["feedback.csv"]["comment"].dropna()
    pii = text.str.contains(r"[\w.]+@[\w.]+|(?:\+62|08)[\d\- ]{8,}", regex=True)
    assert 1 <= pii.sum() <= max(3, 0.04 * len(text))
    assert text.str.contains("late delivery").any() and text.str.contains("payment failed").any()


def test_indonesian_comments() -> None:
    data = generate(SynthConfig(n_customers=1500, seed=3, language="id"))
    text = data.feedback["comment"].dropna()
    assert text.str.contains("pengiriman terlambat").any()
    assert not text.str.contains("late delivery").any()


# ---- chunking and atomic writes ----------------------------------------------------------------


def test_chunks_are_independent_and_cover_all_customers() -> None:
    cfg = SynthConfig(n_customers=250, seed=5, chunk_size=100)
    chunks = list(iter_chunks(cfg))
    assert [len(c.customers) for c in chunks] == [100, 100, 50]
    refs = pd.concat([c.customers["customer_ref"] for c in chunks])
    assert refs.is_unique and refs.iloc[0] == "C000001" and refs.iloc[-1] == "C000250"
    vids = pd.concat([c.identity_map["source_id"] for c in chunks])
    assert vids.is_unique
    # chunk 1 depends only on (seed, chunk index), not on how many customers follow it
    again = list(iter_chunks(cfg.model_copy(update={"n_customers": 200})))[1]
    pd.testing.assert_frame_equal(again.web_events, chunks[1].web_events)
    whole = generate(cfg)
    assert len(whole.web_events) == sum(len(c.web_events) for c in chunks)
    assert whole.web_events["event_time"].is_monotonic_increasing


def test_write_raw_replaces_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "raw"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    data = generate(SynthConfig(n_customers=50, seed=1))
    write_raw(data, out)
    assert not (out / "stale.txt").exists() and (out / "orders.csv").exists()
    before = (out / "orders.csv").read_bytes()

    def boom(df: pd.DataFrame, path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(synth_writer, "write_csv", boom)
    with pytest.raises(OSError):
        write_raw(data, out)
    assert (out / "orders.csv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]  # no temp folders left behind


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        SynthConfig(language="fr")
    with pytest.raises(ValueError):
        SynthConfig(start="2025-01-01", end="2025-01-10")
    with pytest.raises(ValueError):
        SynthConfig(n_customers=0)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", SynthConfig().start.isoformat())


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns), ignore_index=True)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_streamed_writer_holds_the_rows_of_generate(tmp_path: Path, fmt: str) -> None:
    """write_raw_stream (journey synth --format, and CSV above 200k customers) writes chunk by
    chunk; the rows are generate()'s, only ordered per chunk."""
    cfg = SynthConfig(n_customers=230, seed=9, chunk_size=100)
    summary = synth_writer.write_raw_stream(cfg, tmp_path / "raw", format=fmt)
    whole = generate(cfg)
    raw = tmp_path / "raw"
    assert summary["chunks"] == 3
    for name in synth_writer.CHUNKED + ("spend.csv", "products.csv"):
        stem = name.removesuffix(".csv")
        if fmt == "csv":
            got = pd.read_csv(raw / name, keep_default_na=False, dtype=str)
            want = pd.read_csv(_as_csv(whole, name, tmp_path), keep_default_na=False, dtype=str)
        else:
            path = raw / stem if name in synth_writer.CHUNKED else raw / f"{stem}.parquet"
            got = pd.read_parquet(path)
            want = getattr(whole, synth_writer._ATTR[name])
            if name in synth_writer.CHUNKED:  # one file per chunk of customers
                assert sorted(p.name for p in path.iterdir()) == [
                    "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"
                ]  # fmt: skip
            got = got.astype({c: want[c].dtype for c in want.columns if want[c].dtype.kind != "M"})
            for c in want.columns:
                if want[c].dtype.kind == "M":
                    got[c] = got[c].astype(want[c].dtype)
        assert tuple(got.columns) == synth_writer.RAW_COLUMNS[name], name
        pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False, obj=name)
    truth = pd.read_csv(raw / "_truth" / "customers.csv")
    assert len(truth) == 230 and json.loads((raw / "_truth" / "effects.json").read_text())
    assert summary["rows"][("web_events.csv" if fmt == "csv" else "web_events")] == len(
        whole.web_events
    )


def _as_csv(data, name: str, tmp_path: Path) -> Path:
    """One table of ``data`` written as write_raw writes it (to compare text with text)."""
    path = tmp_path / f"ref-{name}"
    synth_writer.write_csv(getattr(data, synth_writer._ATTR[name]), path)
    return path


def test_streamed_writer_leaves_the_old_folder_on_failure(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "raw"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    calls = {"n": 0}
    real = synth_writer._append_csv

    def fail_late(df, path, *, first):
        calls["n"] += 1
        if calls["n"] > 8:  # after the first chunk was written
            raise OSError("disk full")
        real(df, path, first=first)

    monkeypatch.setattr(synth_writer, "_append_csv", fail_late)
    with pytest.raises(OSError):
        synth_writer.write_raw_stream(
            SynthConfig(n_customers=150, seed=2, chunk_size=50), out, format="csv"
        )
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]
