"""Cohort retention, repeat purchase and lifecycle on hand-computed orders, then planted truth."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from journeylib import retention
from journeylib.engine import engine_for


def _orders(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Order lines from (order_id, customer_id, UTC time) triples."""
    return pd.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "ts": pd.to_datetime([r[2] for r in rows], utc=True).astype("datetime64[us, UTC]"),
            "product_id": "p1",
            "quantity": 1.0,
            "revenue": 10.0,
        }
    )


@pytest.fixture
def orders() -> pd.DataFrame:
    # Four customers over three months (last order 2025-03-15, the default as_of):
    #   a: Jan 10 (o1, two lines), Feb 3, Mar 5   -> ordered in Jan, Feb, Mar
    #   b: Jan 20, Mar 15                         -> Jan, (skips Feb), Mar
    #   c: Feb 11                                 -> Feb only
    #   d: two orders at the same instant Mar 2   -> Mar only (2 orders)
    return _orders(
        [
            ("o1", "a", "2025-01-10 12:00"),
            ("o1", "a", "2025-01-10 12:00"),
            ("o2", "a", "2025-02-03 12:00"),
            ("o3", "a", "2025-03-05 12:00"),
            ("o4", "b", "2025-01-20 12:00"),
            ("o5", "b", "2025-03-15 12:00"),
            ("o6", "c", "2025-02-11 12:00"),
            ("o7", "d", "2025-03-02 09:00"),
            ("o8", "d", "2025-03-02 09:00"),
        ]
    )


def _cells(table: pd.DataFrame, column: str = "rate") -> dict[tuple[str, int], object]:
    return {
        (f"{r.cohort:%Y-%m}", r.offset): getattr(r, column) for r in table.itertuples(index=False)
    }


def test_n_period_cohort_matrix_censors_unobserved_cells(orders):
    table = retention.cohort_retention(orders, period="month", kind="n_period")
    cells = _cells(table)
    # Jan cohort {a, b}: Feb only a ordered (1/2); Mar both (2/2).
    assert cells[("2025-01", 0)] == 1.0
    assert cells[("2025-01", 1)] == 0.5
    assert cells[("2025-01", 2)] == 1.0
    # Feb cohort {c}: nobody in Mar -> an observed 0; April is after as_of -> NA, not 0.
    assert cells[("2025-02", 1)] == 0.0
    assert cells[("2025-02", 2)] is pd.NA
    # Mar cohort {d}: only offset 0 is observed.
    assert cells[("2025-03", 0)] == 1.0
    assert cells[("2025-03", 1)] is pd.NA and cells[("2025-03", 2)] is pd.NA
    # retained is NA wherever rate is; cohort sizes are 2, 1, 1
    assert table["retained"].isna().equals(table["rate"].isna())
    assert table.groupby("cohort")["customers"].first().tolist() == [2, 1, 1]
    # March holds as_of (Mar 15): observed but incomplete; Jan and Feb are complete
    done = {f"{r.period:%Y-%m}": r.complete for r in table.itertuples() if r.retained is not pd.NA}
    assert done == {"2025-01": True, "2025-02": True, "2025-03": False}


def test_unbounded_differs_from_n_period(orders):
    table = retention.cohort_retention(orders, kind="unbounded")
    cells = _cells(table)
    # Jan cohort: at offset 1 both a and b ordered in Feb *or later* (b came back in Mar): 2/2,
    # where n-period retention is 1/2; unbounded never increases with the offset.
    assert cells[("2025-01", 1)] == 1.0 and cells[("2025-01", 2)] == 1.0
    assert cells[("2025-02", 1)] == 0.0
    assert cells[("2025-02", 2)] is pd.NA
    for _, rates in table.dropna(subset=["rate"]).groupby("cohort")["rate"]:
        assert rates.is_monotonic_decreasing


def test_cohort_grain_and_dtypes(orders):
    table = retention.cohort_retention(orders)
    # a rectangle: 3 cohorts x offsets 0..2, one row per cohort x offset
    assert len(table) == 9
    assert not table.duplicated(["cohort", "offset"]).any()
    assert str(table["retained"].dtype) == "Int64" and str(table["rate"].dtype) == "Float64"
    assert table["period"].tolist() == [
        c + pd.DateOffset(months=o) for c, o in zip(table["cohort"], table["offset"], strict=True)
    ]


def test_as_of_drops_later_orders_and_closes_the_period(orders):
    table = retention.cohort_retention(orders, as_of="2025-02-28")
    cells = _cells(table)
    # d (March) is not a buyer yet; offsets run 0..1 only; Feb ends on as_of -> complete.
    assert sorted({k[0] for k in cells}) == ["2025-01", "2025-02"]
    assert cells == {
        ("2025-01", 0): 1.0,
        ("2025-01", 1): 0.5,
        ("2025-02", 0): 1.0,
        ("2025-02", 1): pd.NA,
    }
    assert table["complete"].tolist() == [True, True, True, False]


def test_weekly_cohorts_use_iso_weeks():
    # Sunday 2025-01-05 23:30 and Monday 2025-01-06 00:10 (UTC) are in different ISO weeks.
    orders = _orders([("o1", "a", "2025-01-05 23:30"), ("o2", "a", "2025-01-06 00:10")])
    table = retention.cohort_retention(orders, period="week")
    assert table["cohort"].tolist() == [pd.Timestamp("2024-12-30")] * 2
    assert table["rate"].tolist() == [1.0, 1.0]


def test_timezone_moves_orders_into_the_local_month():
    # 2025-01-31 20:00 UTC is 2025-02-01 03:00 in Jakarta (UTC+7): a February cohort there.
    orders = _orders([("o1", "a", "2025-01-31 20:00")])
    utc = retention.cohort_retention(orders)
    local = retention.cohort_retention(orders, timezone="Asia/Jakarta")
    assert utc["cohort"].tolist() == [pd.Timestamp("2025-01-01")]
    assert local["cohort"].tolist() == [pd.Timestamp("2025-02-01")]
    with pytest.raises(ValueError, match="IANA"):
        retention.cohort_retention(orders, timezone="Mars/Olympus")


def test_repeat_purchase_rate(orders):
    rate = retention.repeat_purchase_rate(orders).iloc[0]
    # >= 2 distinct orders: a (3), b (2), d (2 at the same instant); c has 1 -> 3 of 4
    assert (rate["buyers"], rate["repeat_buyers"], rate["censored"]) == (4, 3, 0)
    assert rate["rate"] == pytest.approx(0.75)
    assert rate["within_days"] is pd.NA


def test_repeat_within_days_censors_recent_buyers(orders):
    rate = retention.repeat_purchase_rate(orders, within_days=30).iloc[0]
    # as_of Mar 15 -> a 30-day window is fully observed only for first orders up to Feb 14:
    # a, b, c are eligible, d (first Mar 2) is censored. a repeated after 24 days (Jan 10 ->
    # Feb 3), b after 54 days (too late), c never: 1 of 3.
    assert (rate["buyers"], rate["repeat_buyers"], rate["censored"]) == (3, 1, 1)
    assert rate["rate"] == pytest.approx(1 / 3)
    # within 0 days: only d's second order (same instant, tie broken by order_id) qualifies
    same_day = retention.repeat_purchase_rate(orders, within_days=0).iloc[0]
    assert (same_day["buyers"], same_day["repeat_buyers"]) == (4, 1)
    with pytest.raises(ValueError, match="within_days"):
        retention.repeat_purchase_rate(orders, within_days=-1)


def test_lifecycle_statuses(orders):
    table = retention.lifecycle(orders)
    got = {(f"{r.period:%Y-%m}", r.status): r.customers for r in table.itertuples()}
    expected = {
        # Jan: a and b buy for the first time
        ("2025-01", "new"): 2,
        ("2025-01", "returning"): 0,
        ("2025-01", "resurrected"): 0,
        ("2025-01", "dormant"): 0,
        # Feb: c is new, a bought in Jan and Feb (returning), b bought before but not now
        ("2025-02", "new"): 1,
        ("2025-02", "returning"): 1,
        ("2025-02", "resurrected"): 0,
        ("2025-02", "dormant"): 1,
        # Mar: d new, a returning, b back after skipping Feb (resurrected), c dormant
        ("2025-03", "new"): 1,
        ("2025-03", "returning"): 1,
        ("2025-03", "resurrected"): 1,
        ("2025-03", "dormant"): 1,
    }
    assert got == expected
    # grain: one row per period x status; every buyer has one status per period
    assert not table.duplicated(["period", "status"]).any()
    assert table.groupby("period")["customers"].sum().tolist() == [2, 3, 4]
    assert list(table["status"].cat.categories) == list(retention.LIFECYCLE_STATUSES)


def test_lifecycle_keeps_periods_without_orders():
    # a buys in Jan and Apr: Feb and Mar have no orders at all but still appear (a dormant)
    orders = _orders([("o1", "a", "2025-01-10"), ("o2", "a", "2025-04-10")])
    wide = retention.lifecycle(orders).pivot(index="period", columns="status", values="customers")
    assert wide["dormant"].tolist() == [0, 1, 1, 0]
    assert wide["resurrected"].tolist() == [0, 0, 0, 1]


def test_inputs_not_mutated_and_engine_equals_frame(orders):
    before = orders.copy()
    from_frame = retention.cohort_retention(orders)
    retention.repeat_purchase_rate(orders, within_days=7)
    retention.lifecycle(orders, period="week")
    pd.testing.assert_frame_equal(orders, before)
    # the same SQL runs over an engine, and over a differently named view
    pd.testing.assert_frame_equal(retention.cohort_retention(engine_for(orders=orders)), from_frame)
    other = retention.cohort_retention(engine_for(shop_orders=orders), table="shop_orders")
    pd.testing.assert_frame_equal(other, from_frame)


def test_no_orders_warns_and_returns_empty_tables(orders):
    empty = orders.iloc[:0]
    with pytest.warns(UserWarning, match="no orders"):
        table = retention.cohort_retention(empty)
    assert table.empty and list(table.columns) == list(retention._COHORT_COLUMNS)
    with pytest.warns(UserWarning, match="no orders"):
        assert retention.lifecycle(empty).empty
    with pytest.warns(UserWarning, match="no orders"):
        rate = retention.repeat_purchase_rate(empty).iloc[0]
    assert rate["buyers"] == 0 and pd.isna(rate["rate"])
    # orders exist, but none up to as_of
    with pytest.warns(UserWarning, match="up to 2024-12-31"):
        assert retention.cohort_retention(orders, as_of="2024-12-31").empty


def test_single_order_customers():
    # nobody ever comes back: offset 0 is 100%, every observed later cell 0 (not NA)
    orders = _orders([("o1", "a", "2025-01-10"), ("o2", "b", "2025-02-10")])
    table = retention.cohort_retention(orders, kind="unbounded")
    assert _cells(table) == {
        ("2025-01", 0): 1.0,
        ("2025-01", 1): 0.0,
        ("2025-02", 0): 1.0,
        ("2025-02", 1): pd.NA,
    }
    assert retention.repeat_purchase_rate(orders)["rate"].tolist() == [0.0]


def test_all_orders_on_one_day():
    orders = _orders([("o1", "a", "2025-03-01 10:00"), ("o2", "b", "2025-03-01 18:00")])
    for period in ("week", "month"):
        table = retention.cohort_retention(orders, period=period)
        # one cohort, offset 0 only, everybody retained in their own period
        assert len(table) == 1
        assert table[["offset", "customers", "retained"]].iloc[0].tolist() == [0, 2, 2]
    lifecycle = retention.lifecycle(orders)
    assert lifecycle.set_index("status")["customers"].to_dict() == {
        "new": 2,
        "returning": 0,
        "resurrected": 0,
        "dormant": 0,
    }


def test_bad_arguments(orders):
    with pytest.raises(ValueError, match="period"):
        retention.cohort_retention(orders, period="year")
    with pytest.raises(ValueError, match="kind"):
        retention.cohort_retention(orders, kind="rolling")
    with pytest.raises(ValueError, match="as_of"):
        retention.lifecycle(orders, as_of="last week")
    with pytest.raises(ValueError, match="plain identifier"):
        retention.cohort_retention(engine_for(orders=orders), table='orders"; DROP TABLE x; --')
    with pytest.raises(ValueError, match="cannot read table 'sales'"):
        retention.cohort_retention(engine_for(orders=orders), table="sales")
    with pytest.raises(ValueError, match="lacks column.*order_id"):
        retention.cohort_retention(orders.drop(columns="order_id"))


def test_plots_draw_the_tables(orders):
    fig = retention.plot_cohort_heatmap(retention.cohort_retention(orders))
    z = fig.data[0].z
    # 3 cohorts x 3 offsets; unobserved cells are blank (None), observed zeros stay 0
    assert len(z) == 3 and z[1][2] is None and z[1][1] == 0.0
    assert fig.layout.title.text and fig.layout.xaxis.title.text
    fig = retention.plot_lifecycle(retention.lifecycle(orders))
    assert [t.name for t in fig.data] == list(retention.LIFECYCLE_STATUSES)
    assert list(fig.data[3].y) == [0, -1, -1]  # dormant drawn below zero


def test_plots_in_bahasa_indonesia(orders):
    fig = retention.plot_cohort_heatmap(retention.cohort_retention(orders), language="id")
    assert fig.layout.title.text == "Retensi kohort (kosong: belum teramati)"
    assert fig.layout.xaxis.title.text == "periode sejak pembelian pertama"
    assert fig.layout.yaxis.title.text == "kohort (pembelian pertama)"
    assert fig.data[0].colorbar.title.text == "retensi"
    # a title given by the caller is kept as it is
    own = retention.plot_cohort_heatmap(
        retention.cohort_retention(orders), title="T", language="id"
    )
    assert own.layout.title.text == "T"
    fig = retention.plot_lifecycle(retention.lifecycle(orders), language="id")
    # new, returning, resurrected, dormant, in the order of LIFECYCLE_STATUSES
    assert [t.name for t in fig.data] == ["baru", "berulang", "aktif kembali", "tidak aktif"]
    assert fig.data[3].hovertemplate.endswith(" tidak aktif<extra></extra>")
    assert fig.layout.yaxis.title.text == "pelanggan"


# ---------------------------------------------------------------------------------------------
# Planted truth (synthetic client, 3,000 customers).
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_orders(synth_client) -> pd.DataFrame:
    return synth_client.engine.query("SELECT order_id, customer_id, ts FROM orders")


def test_churned_customers_have_lower_unbounded_retention(synth_client, synth_orders):
    # Churned customers stop buying after their churn time, so fewer of them order in month
    # n or later. Compare the pooled unbounded retention at offsets 1 and 2 (observed cells only).
    churned = set(synth_client.truth.loc[synth_client.truth["churned"], "customer_id"])
    pooled = {}
    for flag in (True, False):
        sub = synth_orders[synth_orders["customer_id"].isin(churned) == flag]
        table = retention.cohort_retention(
            sub, kind="unbounded", as_of="2025-06-30", timezone="Asia/Jakarta"
        )
        for offset in (1, 2):
            cells = table[(table["offset"] == offset) & table["retained"].notna()]
            pooled[flag, offset] = cells["retained"].sum() / cells["customers"].sum()
    assert pooled[True, 1] < pooled[False, 1] - 0.1
    assert pooled[True, 2] < pooled[False, 2] - 0.1


def test_lifecycle_counts_add_up_to_buyers_so_far(synth_client, synth_orders):
    table = retention.lifecycle(synth_client.engine, timezone="Asia/Jakarta")
    # independent count: customers whose first order (local month) is in or before the period
    local = synth_orders["ts"].dt.tz_convert("Asia/Jakarta").dt.tz_localize(None)
    first = local.groupby(synth_orders["customer_id"]).min().dt.to_period("M").dt.start_time
    per_period = table.groupby("period")["customers"].sum()
    expected = [int((first <= p).sum()) for p in per_period.index]
    assert per_period.tolist() == expected
    assert expected[-1] == synth_orders["customer_id"].nunique()
    # the synthetic window is Jan..Jun 2025 in Jakarta time: six complete months
    assert [f"{p:%Y-%m}" for p in per_period.index] == [f"2025-0{m}" for m in range(1, 7)]


def test_synth_cohorts_run_without_warnings(synth_client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weekly = retention.cohort_retention(synth_client.engine, period="week")
    # every observed n-period rate is a share; offset 0 is 100% by definition
    observed = weekly["rate"].dropna()
    assert observed.between(0, 1).all()
    assert (weekly.loc[weekly["offset"] == 0, "rate"] == 1).all()
