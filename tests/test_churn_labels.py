"""Churn labels of non-contractual data, the time split and the proof that nothing leaks.

Tiny hand-made shop: cut-off ``AS_OF`` = 2025-03-31 (rows before 2025-04-01 00:00 UTC are the
past), horizon 30 days (the label window is 2025-04-01 .. 2025-04-30, i.e. rows with
2025-04-01 00:00 <= ts < 2025-05-01 00:00).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from journeylib.churn import (
    LABEL,
    ChurnDataError,
    churn_data,
    churn_labels,
    customer_split,
    eligible_customers,
    last_data_day,
    scoring_frame,
    time_split,
    training_frame,
)
from journeylib.config import ConfigError, load_config
from journeylib.engine import engine_for
from journeylib.features import customer_features

AS_OF = "2025-03-31"
H = 30


def _ts(values: list[str]) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601").astype(
        "datetime64[us, UTC]"
    )


def _orders(rows: list[tuple[str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "product_id": "P1",
            "quantity": 1.0,
            "revenue": 10.0,
        }
    )
    df["ts"] = _ts([r[1] for r in rows])
    return df


def _events(rows: list[tuple[str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "event": "page_view",
            "session_id": [f"{r[0]}-{i}" for i, r in enumerate(rows)],
            "channel": "direct",
            "device": "mobile",
        }
    )
    df["ts"] = _ts([r[1] for r in rows])
    return df


def _feedback(rows: list[tuple[str, str]]) -> pd.DataFrame:
    df = pd.DataFrame({"customer_id": [r[0] for r in rows], "kind": "nps", "score": 8.0})
    df["ts"] = _ts([r[1] for r in rows])
    return df


# a: bought before and again on 15 April (12:00: 14.5 days after the cut-off instant)
# b: bought in February; visits the site on 10 April, buys nothing
# c: bought in October 2024 only (more than 90 days before the cut-off)
# d: buys on the cut-off day itself (23:59:59) and next at 1 May 00:00, one instant too late
# e: first order after the cut-off: not a customer yet at the cut-off
# f: never buys; visits in March, answers a survey on 30 April 23:59:59
# g: buys on 20 May only: the data then reach 20 May, past the horizon
ORDERS = _orders(
    [
        ("a", "2025-03-10 09:00"),
        ("a", "2025-04-15 12:00"),
        ("b", "2025-02-01 10:00"),
        ("c", "2024-10-01 10:00"),
        ("d", "2025-03-31 23:59:59"),
        ("d", "2025-05-01 00:00:00"),
        ("e", "2025-04-05 10:00"),
        ("g", "2025-05-20 10:00"),
    ]
)
EVENTS = _events([("b", "2025-04-10 08:00"), ("f", "2025-03-20 08:00")])
FEEDBACK = _feedback([("f", "2025-04-30 23:59:59")])


def _engine(orders=ORDERS, events=EVENTS, feedback=FEEDBACK):
    return engine_for(orders=orders, events=events, feedback=feedback)


def _labels(engine=None, **kw) -> dict[str, bool]:
    lab = churn_labels(engine or _engine(), as_of=AS_OF, horizon_days=H, **kw)
    return dict(zip(lab["customer_id"], lab[LABEL], strict=True))


def test_buyers_churn_when_they_do_not_order_in_the_horizon():
    lab = churn_labels(_engine(), as_of=AS_OF, horizon_days=H, activity="orders", eligible="buyers")
    # eligible: an order before the cut-off, however long ago (c) and on the cut-off day (d);
    # e and g order only later, f never
    assert lab["customer_id"].tolist() == ["a", "b", "c", "d"]
    # a orders on 15 April; b's visit is no order; d's next order falls on 1 May: too late
    assert lab[LABEL].tolist() == [False, True, True, True]
    assert lab[LABEL].dtype == bool
    # 15 April 12:00 is 14.5 days after 1 April 00:00; churners have no next activity
    np.testing.assert_allclose(lab["next_activity_days"], [14.5, np.nan, np.nan, np.nan])
    assert lab.attrs["window"] == "2025-04-01..2025-04-30"
    assert (lab.attrs["activity"], lab.attrs["eligible"]) == ("orders", "buyers")


def test_active_customers_churn_when_they_show_no_activity_at_all():
    got = _labels(activity="any", eligible="active", lookback_days=90)
    # active = any event, order or feedback in the 90 days up to 31 March (from 1 January):
    # c's October order is older, so c is not eligible; f (events only) is.
    # b visits on 10 April and f answers on 30 April 23:59:59: both stay; d does not
    assert got == {"a": False, "b": False, "d": True, "f": False}


def test_any_activity_for_buyers_and_orders_for_recent_buyers():
    # buyers judged on any activity: b's April visit keeps b
    assert _labels(activity="any", eligible="buyers") == {
        "a": False,
        "b": False,
        "c": True,
        "d": True,
    }
    # recent buyers: an order in the 30 days up to 31 March (from 2 March): a and d
    assert _labels(activity="orders", eligible="active", lookback_days=30) == {
        "a": False,
        "d": True,
    }
    # buyers within a lookback: b (1 February) is more than 30 days back
    assert list(_labels(activity="orders", eligible="buyers", lookback_days=30)) == ["a", "d"]


def test_eligible_customers_and_the_defaults_without_a_config():
    ids = eligible_customers(_engine(), as_of=AS_OF, activity="any", eligible="active")
    # the default lookback of 'active' is 90 days (the config's lapse_days default)
    assert ids["customer_id"].tolist() == ["a", "b", "d", "f"]
    # without a config the defaults are the config's: any activity, active in the last 90 days
    assert _labels() == {"a": False, "b": False, "d": True, "f": False}


def test_the_horizon_must_end_within_the_data():
    # without g's 20 May order the data end on 1 May (d's order): the window still fits
    assert last_data_day(_engine(orders=ORDERS[ORDERS["customer_id"] != "g"])) == dt.date(
        2025, 5, 1
    )
    with pytest.raises(ValueError, match=r"window 2025-04-01\.\.2025-05-30 .* 2025-05-20"):
        churn_labels(_engine(), as_of=AS_OF, horizon_days=60)
    # an explicit data end (the config's window end) is honoured
    with pytest.raises(ValueError, match="last day of data is 2025-04-20"):
        churn_labels(_engine(), as_of=AS_OF, horizon_days=H, data_end="2025-04-20")


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="activity"):
        churn_labels(_engine(), as_of=AS_OF, horizon_days=H, activity="clicks")
    with pytest.raises(ValueError, match="horizon_days"):
        churn_labels(_engine(), as_of=AS_OF, horizon_days=0)
    with pytest.raises(ValueError, match="as_of must be a date"):
        churn_labels(_engine(), as_of="someday", horizon_days=H)


# ---- leakage ---------------------------------------------------------------------------------
def _features(engine) -> pd.DataFrame:
    return customer_features(engine, as_of=AS_OF)


def test_rows_after_the_cutoff_and_after_the_horizon_change_nothing():
    base = _engine()
    f0, l0 = _features(base), churn_labels(base, as_of=AS_OF, horizon_days=H, data_end="2025-06-30")
    # after the horizon: orders for everyone, a visit and a survey answer
    later = _engine(
        orders=pd.concat([ORDERS, _orders([(c, "2025-05-01 00:00") for c in "abcdf"])]),
        events=pd.concat([EVENTS, _events([("c", "2025-06-01 10:00")])]),
        feedback=pd.concat([FEEDBACK, _feedback([("d", "2025-05-05 10:00")])]),
    )
    pd.testing.assert_frame_equal(_features(later), f0)
    pd.testing.assert_frame_equal(
        churn_labels(later, as_of=AS_OF, horizon_days=H, data_end="2025-06-30"), l0
    )
    # inside the horizon: the features (strictly before the cut-off) still do not move
    inside = _engine(orders=pd.concat([ORDERS, _orders([("b", "2025-04-02 10:00")])]))
    pd.testing.assert_frame_equal(_features(inside), f0)


@pytest.mark.parametrize(
    ("ts", "flips"),
    [
        ("2025-03-31 23:59:59", False),  # on the cut-off day: the past, a feature
        ("2025-04-01 00:00:00", True),  # first instant of the window
        ("2025-04-30 23:59:59", True),  # last second of the window
        ("2025-05-01 00:00:00", False),  # one instant after the window
    ],
)
def test_a_label_changes_exactly_when_a_purchase_falls_inside_the_horizon(ts, flips):
    before = _labels(activity="orders", eligible="buyers")
    after = _labels(
        _engine(orders=pd.concat([ORDERS, _orders([("b", ts)])])),
        activity="orders",
        eligible="buyers",
    )
    # only b's label may change, and only when the order is inside the window
    assert after.pop("b") is (not flips)
    before.pop("b")
    assert after == before


def test_training_frame_is_the_feature_table_joined_with_the_labels():
    engine = _engine()
    frame = training_frame(engine, as_of=AS_OF, horizon_days=H, activity="any", eligible="active")
    feats = customer_features(engine, as_of=AS_OF)
    # eligible customers only (a, b, d, f), their features exactly as the feature table has them
    assert frame["customer_id"].tolist() == ["a", "b", "d", "f"]
    assert frame.columns.tolist() == [*feats.columns, LABEL]
    expected = feats.set_index("customer_id").loc[["a", "b", "d", "f"]].reset_index()
    pd.testing.assert_frame_equal(frame.drop(columns=LABEL), expected)
    assert frame[LABEL].tolist() == [False, False, True, False]
    assert frame.attrs["features_as_of"] == AS_OF
    assert "churned = no activity in the 30 days" in frame.attrs["definition"]


def test_label_definition_and_notes_in_the_report_language(tmp_path, repo_root):
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    cfg["report"]["language"] = "id"
    path = tmp_path / "id.yaml"
    path.write_text(yaml.safe_dump(cfg))
    config = load_config(path)
    engine = _engine()
    options = {"as_of": AS_OF, "horizon_days": H, "activity": "any", "eligible": "active"}
    frame = training_frame(engine, **options, config=config)
    # the definition of the labels, in the report language; the labels are the same
    assert frame.attrs["definition"] == (
        "pelanggan dengan aktivitas apa pun (event, pesanan, atau umpan balik) dalam 90 hari "
        "terakhir sebelum tanggal batas; churn = tidak ada aktivitas dalam 30 hari setelahnya"
    )
    english = training_frame(engine, **options, config=config.model_copy(update={"report": None}))
    assert english.attrs["definition"].startswith("customers with any activity")
    assert frame[LABEL].tolist() == english[LABEL].tolist()
    buyers = training_frame(
        engine, **{**options, "activity": "orders", "eligible": "buyers"}, lookback_days=60,
        config=config,
    )  # fmt: skip
    assert buyers.attrs["definition"] == (
        "pelanggan dengan pesanan sebelum tanggal batas (dalam 60 hari terakhir); churn = tidak "
        "ada pesanan dalam 30 hari setelahnya"
    )


def test_no_churners_in_the_window_is_a_clear_error():
    # without d, every active customer (a, b, f) shows activity in the window
    engine = _engine(orders=ORDERS[ORDERS["customer_id"] != "d"])
    with pytest.raises(ChurnDataError) as err:
        training_frame(engine, as_of=AS_OF, horizon_days=H, activity="any", eligible="active")
    msg = str(err.value)
    assert "window 2025-04-01..2025-04-30" in msg
    assert "0 of 3 customers churned" in msg and "3 eligible" in msg
    # everyone churned is refused too
    engine = _engine(orders=ORDERS[ORDERS["customer_id"].isin(["c", "g"])], events=EVENTS[:0])
    with pytest.raises(ChurnDataError, match="every one of the 1 customers churned"):
        training_frame(engine, as_of=AS_OF, horizon_days=H, activity="orders", eligible="buyers")


def test_scoring_frame_holds_the_eligible_customers_without_a_label():
    frame = scoring_frame(_engine(), as_of="2025-05-20", activity="orders", eligible="active")
    # orders in the 90 days up to 20 May: a, d (both), e and g
    assert frame["customer_id"].tolist() == ["a", "d", "e", "g"]
    assert LABEL not in frame.columns


# ---- splits ----------------------------------------------------------------------------------
def test_time_split_puts_both_label_windows_inside_the_data():
    s = time_split("2025-06-30", horizon_days=60)
    # the test labels' window ends on the last day; the training labels' window ends on the
    # test cut-off, so training never reads the test window
    assert (s.train_as_of, s.test_as_of, s.score_as_of) == (
        dt.date(2025, 3, 2),
        dt.date(2025, 5, 1),
        dt.date(2025, 6, 30),
    )
    assert s.test_window == "2025-05-02..2025-06-30"
    assert s.train_window == "2025-03-03..2025-05-01"
    assert time_split("2025-06-30", horizon_days=60, gap_days=90).train_as_of == dt.date(
        2025, 1, 31
    )
    with pytest.raises(ValueError, match="gap_days .* must be at least horizon_days"):
        time_split("2025-06-30", horizon_days=60, gap_days=30)
    assert s.to_frame()["role"].tolist() == ["train", "test", "score"]


def test_time_split_from_the_config(synth_client):
    s = time_split(synth_client.config)
    # demo config: window end 2025-06-30, default horizon 60 days
    assert (s.test_as_of, s.horizon_days) == (dt.date(2025, 5, 1), 60)


def test_customer_split_is_a_stable_hash_of_the_id():
    ids = np.array([f"cust{i:05d}" for i in range(20_000)])
    test = customer_split(ids, test_size=0.3, random_state=7)
    assert abs(test.mean() - 0.3) < 0.015
    # the same customer falls on the same side whatever else is in the call, and in any order
    sub = customer_split(ids[::-7], test_size=0.3, random_state=7)
    np.testing.assert_array_equal(sub, test[::-7])
    # another seed gives another split
    assert (customer_split(ids, test_size=0.3, random_state=8) != test).mean() > 0.3
    with pytest.raises(ValueError, match="test_size"):
        customer_split(ids, test_size=1.5)


def test_config_refuses_a_gap_shorter_than_the_horizon(tmp_path, repo_root):
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    cfg["churn"] = {"horizon_days": 60, "gap_days": 30}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="gap_days must be at least churn.horizon_days"):
        load_config(path)


# ---- the synthetic client ------------------------------------------------------------------
def test_synthetic_labels_read_nothing_past_the_horizon(synth_client):
    c = synth_client
    split = time_split(c.config)
    as_of, end = split.train_as_of, split.test_as_of  # the training window ends at test as_of
    full = training_frame(c.engine, as_of=as_of, config=c.config, data_end="2025-06-30")
    # the same frame from tables cut at the end of the label window (labels) and at the
    # cut-off (features): rows after either are never read
    stop = pd.Timestamp(end + dt.timedelta(days=1), tz="UTC")
    cut = pd.Timestamp(as_of + dt.timedelta(days=1), tz="UTC")
    tables = {}
    for name in ("events", "orders", "feedback", "customers", "products"):
        df = c.engine.query(f"SELECT * FROM {name}")
        col = {"customers": "first_seen", "products": None}.get(name, "ts")
        tables[name] = df if col is None else df[df[col].isna() | (df[col] < stop)]
    short = engine_for(**tables)
    pd.testing.assert_frame_equal(
        training_frame(short, as_of=as_of, config=c.config, data_end=end), full
    )
    feats = {k: (v if k == "products" else v[v[_col(k)].isna() | (v[_col(k)] < cut)])
             for k, v in tables.items()}  # fmt: skip
    pd.testing.assert_frame_equal(
        customer_features(engine_for(**feats), as_of=as_of, config=c.config),
        customer_features(c.engine, as_of=as_of, config=c.config),
    )
    # eligible: activity in the 90 days (lapse_days) before the cut-off; about a third churn
    assert 1000 < len(full) < 2500
    assert 0.25 < full[LABEL].mean() < 0.5


def _col(table: str) -> str:
    return "first_seen" if table == "customers" else "ts"


def test_synthetic_churn_data_splits_by_time_and_by_customer(synth_client):
    data = churn_data(synth_client.engine, synth_client.config)
    assert data.kind == "time"
    assert (data.train.attrs["as_of"], data.test.attrs["as_of"]) == ("2025-03-02", "2025-05-01")
    # by customer: nobody is in both frames
    assert not set(data.train["customer_id"]) & set(data.test["customer_id"])
    sizes = data.sizes().set_index("role")
    assert sizes.loc["score", "as_of"] == "2025-06-30"
    assert sizes.loc["test", "label_window"] == "2025-05-02..2025-06-30"
    # the notes for the report: the label definition and the split by customer (30% test)
    assert data.notes[0].startswith("label: customers with any activity")
    assert data.notes[1].startswith("split by time and by customer: about 30% of customers")
    report = synth_client.config.report.model_copy(update={"language": "id"})
    config = synth_client.config.model_copy(update={"report": report})
    notes = churn_data(synth_client.engine, config).notes
    assert notes[0].startswith("label: pelanggan dengan aktivitas apa pun")
    assert notes[1] == (
        "dibagi menurut waktu dan menurut pelanggan: sekitar 30% pelanggan menjadi pelanggan uji "
        "(hash id dengan seed) dan tidak pernah muncul di data latih"
    )


def test_a_large_client_learns_from_a_pseudonym_sample_of_the_eligible(synth_client):
    """Above max_customers the training frame keeps a random sample by pseudonym: exactly the
    full frame's customers below the bound, with the same features and labels."""
    c = synth_client
    split = time_split(c.config)
    full = training_frame(c.engine, as_of=split.train_as_of, config=c.config)
    assert full.attrs["sample_fraction"] == 1.0
    cap = len(full) // 4
    part = training_frame(c.engine, as_of=split.train_as_of, config=c.config, max_customers=cap)
    fraction = part.attrs["sample_fraction"]
    assert fraction == pytest.approx(cap / len(full))
    bound = f"{round(fraction * 16**4):04x}"  # the first four hex digits of the pseudonym
    expected = full[full["customer_id"].str[:4] < bound].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected, check_exact=True)
    # a random sample of about the asked size, churners and stayers alike
    assert 0.8 * cap < len(part) < 1.2 * cap
    assert part[LABEL].mean() == pytest.approx(full[LABEL].mean(), abs=0.05)


def test_churn_data_notes_the_sample(synth_client, monkeypatch):
    import journeylib.churn.labels as labels_module
    from journeylib.churn import churn_data

    monkeypatch.setattr(labels_module, "TRAIN_CUSTOMERS_MAX", 200)
    monkeypatch.setattr(
        labels_module.training_frame, "__kwdefaults__",
        {**labels_module.training_frame.__kwdefaults__, "max_customers": 200},
    )  # fmt: skip
    data = churn_data(synth_client.engine, synth_client.config)
    assert any("random" in n and "every customer is scored" in n for n in data.notes)
    assert len(data.train) < 400 and len(data.score) > 1000
