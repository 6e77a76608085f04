"""Journey paths: hand-computed tiny journeys, a slow reference on real data, planted truth."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from event_frames import journeys

from journeylib import paths
from journeylib.paths import END, OTHER, START


@pytest.fixture
def shop() -> pd.DataFrame:
    # c1 home list cart | c2 home list home | c3 home search | c4 list | c5 home home list
    return journeys(
        [
            ("c1", 0, "home"), ("c1", 1, "list"), ("c1", 2, "cart"),
            ("c2", 0, "home"), ("c2", 1, "list"), ("c2", 2, "home"),
            ("c3", 0, "home"), ("c3", 1, "search"),
            ("c4", 0, "list"),
            ("c5", 0, "home"), ("c5", 1, "home"), ("c5", 2, "list"),
        ]
    )  # fmt: skip


def cells(table: pd.DataFrame) -> dict[tuple[int, str], int]:
    return {(s, e): c for s, e, c in table[["step", "event", "customers"]].itertuples(index=False)}


# ---- step matrix -----------------------------------------------------------------------------


def test_step_matrix_counts_and_cumulative_end(shop):
    before = shop.copy()
    sm = paths.step_matrix(shop, steps=3)
    # no collapsing: c5 is home home list. step 1: home x4 (c1 c2 c3 c5), list x1 (c4);
    # step 2: list c1 c2, search c3, home c5, c4 ended; step 3: cart c1, home c2, list c5,
    # ended c3 c4 -- "(end)" is cumulative, like retentioneering's ENDED padding
    assert cells(sm) == {
        (1, "home"): 4, (1, "list"): 1, (1, END): 0,
        (2, "list"): 2, (2, "search"): 1, (2, "home"): 1, (2, END): 1,
        (3, "cart"): 1, (3, "home"): 1, (3, "list"): 1, (3, END): 2,
    }  # fmt: skip
    assert sm.groupby("step")["share"].sum().tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert sm.loc[(sm["step"] == 1) & (sm["event"] == "home"), "share"].item() == 0.8
    assert not sm.duplicated(["step", "event"]).any()  # grain: one row per step x event
    pd.testing.assert_frame_equal(shop, before)  # input never mutated


def test_step_matrix_collapse_anchor_and_backward(shop):
    # collapsing turns c5 into home list: step 2 has list x3 now, home none
    sm = cells(paths.step_matrix(shop, steps=2, collapse_repeats=True))
    assert sm[(2, "list")] == 3 and (2, "home") not in sm
    # anchor "list": the path starts at the first list (step 1 = the anchor itself); only the
    # four customers with a list count. c1 list cart, c2 list home, c4 list, c5 list
    anchored = paths.step_matrix(shop, anchor="list", steps=2)
    assert cells(anchored) == {(1, "list"): 4, (1, END): 0, (2, "cart"): 1, (2, "home"): 1,
                               (2, END): 2}  # fmt: skip
    assert anchored["share"].max() == 1.0
    # backward from each customer's last event, step 2 is the event before it:
    # c1 cart<-list, c2 home<-list, c3 search<-home, c4 list<-nothing, c5 list<-home
    back = cells(paths.step_matrix(shop, steps=2, direction="backward"))
    assert back[(1, "cart")] == 1 and back[(1, "list")] == 2
    assert back[(2, "list")] == 2 and back[(2, "home")] == 2
    assert back[(2, START)] == 1  # c4 has nothing before its only event


def test_step_matrix_thresh_groups_rare_events_and_wide(shop):
    sm = paths.step_matrix(shop, steps=3, thresh=0.3)
    # max shares: home 0.8, list 0.4, search 0.2, cart 0.2 -> search and cart are "(other)"
    assert cells(sm)[(2, OTHER)] == 1 and cells(sm)[(3, OTHER)] == 1
    wide = paths.step_matrix_wide(sm)
    assert wide.index[-2:].tolist() == [OTHER, END]
    assert wide.sum().tolist() == pytest.approx([1.0, 1.0, 1.0])
    fig = paths.plot_step_matrix(sm)
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "step"
    fig = paths.plot_step_matrix(sm, language="id")
    assert fig.layout.title.text == "Porsi pelanggan pada setiap langkah jalurnya"
    assert fig.layout.xaxis.title.text == "langkah" and fig.data[0].colorbar.title.text == "porsi"
    assert fig.data[0].hovertemplate.startswith("langkah %{x}")
    # the node names stay as they are (the report's text refers to them)
    assert list(fig.data[0].y)[-2:] == [OTHER, END]


def test_ties_broken_by_order_column_then_event_name():
    # both events at the same second: by name "add_to_cart" sorts before "view_item";
    # the export's own row number puts view_item first
    ev = journeys([("a", 0, "view_item"), ("a", 0, "add_to_cart")])
    ev["seq"] = [1, 2]
    by_name = cells(paths.step_matrix(ev, steps=2))
    assert by_name[(1, "add_to_cart")] == 1 and by_name[(2, "view_item")] == 1
    by_seq = cells(paths.step_matrix(ev, steps=2, order_col="seq"))
    assert by_seq[(1, "view_item")] == 1 and by_seq[(2, "add_to_cart")] == 1


def test_single_event_customer_ends_at_step_2():
    ev = journeys([("solo", 0, "home")])
    assert cells(paths.step_matrix(ev, steps=2)) == {(1, "home"): 1, (1, END): 0, (2, END): 1}
    links = paths.sankey_links(ev, steps=2)
    assert links[["step", "source", "target", "customers"]].values.tolist() == [[1, "home", END, 1]]


def test_anchor_that_never_occurs_warns_and_is_empty(shop):
    with pytest.warns(UserWarning, match="'purchase' never occurs"):
        sm = paths.step_matrix(shop, anchor="purchase")
    assert sm.empty and list(sm.columns) == ["step", "event", "customers", "share"]
    with pytest.warns(UserWarning, match="never occurs"):
        assert paths.sankey_links(shop, anchor="purchase").empty
    with pytest.warns(UserWarning, match="never occurs"):
        assert paths.path_variants(shop, anchor="purchase").empty


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, "steps must be an integer"),
        ({"direction": "sideways"}, "direction must be"),
        ({"table": "events; DROP TABLE events"}, "plain identifier"),
        ({"event_col": "page"}, "has no column"),
        ({"thresh": 2.0}, "thresh must be"),
    ],
)
def test_step_matrix_bad_inputs(shop, kwargs, match):
    with pytest.raises(ValueError, match=match):
        paths.step_matrix(shop, **kwargs)


def test_string_timestamps_are_refused(shop):
    with pytest.raises(ValueError, match="must be a timestamp"):
        paths.step_matrix(shop.assign(ts=shop["ts"].astype(str)))


def test_missing_table_is_a_clear_error(shop):
    from journeylib.engine import engine_for

    with pytest.raises(ValueError, match="'stage_events' is not available"):
        paths.step_matrix(engine_for(events=shop), table="stage_events")


# ---- Sankey ----------------------------------------------------------------------------------


def test_sankey_forward_with_other_and_end(shop):
    links = paths.sankey_links(shop, steps=3, top_n=1)
    # collapsed paths: c1 home list cart | c2 home list home | c3 home search | c4 list | c5
    # home list. Top 1 node per step: step 1 home (4 vs list 1), step 2 list (3 vs search 1),
    # step 3 cart (1, tie with home broken by name); the rest is "(other)", "(end)" never.
    got = {(s, a, b): c for s, a, b, c in links[["step", "source", "target", "customers"]].values}
    assert got == {
        (1, "home", "list"): 3, (1, "home", OTHER): 1, (1, OTHER, END): 1,
        (2, "list", "cart"): 1, (2, "list", OTHER): 1, (2, "list", END): 1, (2, OTHER, END): 1,
    }  # fmt: skip
    assert links.groupby("step")["customers"].sum().tolist() == [5, 4]  # c4 stopped at step 2
    assert set(links["direction"]) == {"forward"}
    assert not links.duplicated(["step", "source", "target"]).any()
    fig = paths.plot_sankey(links)
    assert "1: home" in fig.data[0].node.label and fig.layout.title.text


def test_sankey_min_share_and_no_collapse(shop):
    # min_share 0.3 of 5 customers keeps nodes with >= 2: step 2 list (2), home/search -> other
    links = paths.sankey_links(shop, steps=2, collapse_repeats=False, min_share=0.3)
    got = {(a, b): c for a, b, c in links[["source", "target", "customers"]].values}
    assert got == {("home", "list"): 2, ("home", OTHER): 2, (OTHER, END): 1}


def test_sankey_backward_from_first_purchase():
    ev = journeys(
        [
            ("c1", 0, "home"), ("c1", 1, "list"), ("c1", 2, "cart"),
            ("c6", 0, "list"), ("c6", 1, "cart"), ("c6", 2, "home"), ("c6", 3, "cart"),
            ("c7", 0, "home"),
        ]
    )  # fmt: skip
    links = paths.sankey_links(ev, anchor="cart", direction="backward", steps=3)
    # steps count back from each customer's *first* cart (c6's second cart is ignored);
    # c6 has nothing before its list, so it reaches "(start)"; c7 never carts: not counted
    got = {(s, a, b): (c, sh) for s, a, b, c, sh in
           links[["step", "source", "target", "customers", "share"]].values}  # fmt: skip
    assert got == {
        (1, "cart", "list"): (2, 1.0),
        (2, "list", "home"): (1, 0.5),
        (2, "list", START): (1, 0.5),
    }
    fig = paths.plot_sankey(links)
    assert "3: home" in fig.data[0].node.label and "before" in fig.layout.title.text
    fig = paths.plot_sankey(links, language="id")
    assert fig.layout.title.text == "Perjalanan menjelang event acuan"
    assert paths.plot_sankey(links, title="Mine", language="id").layout.title.text == "Mine"


# ---- path variants ---------------------------------------------------------------------------


@pytest.fixture
def buyers() -> pd.DataFrame:
    return journeys(
        [
            ("a", 0, "v"), ("a", 10, "c"), ("a", 20, "buy"),
            ("b", 0, "v"), ("b", 20, "c"), ("b", 40, "buy"), ("b", 50, "v"),
            ("c", 0, "v"), ("c", 5, "c"),
            ("d", 0, "v"), ("d", 1, "v"), ("d", 2, "c"), ("d", 3, "x"), ("d", 2 * 1440, "buy"),
            ("e", 0, "v"),
        ]
    )  # fmt: skip


def test_path_variants_conversion_lift_duration(buyers):
    before = buyers.copy()
    pv = paths.path_variants(buyers, conversion_event="buy", max_steps=3)
    # variants cut at the first buy (inclusive) or after 3 collapsed events: a, b "v > c > buy";
    # c "v > c"; d "v > c > x" (d buys two days later: a converter); e "v".
    # 3 of 5 convert -> baseline 0.6; lift = rate / 0.6.
    got = pv.set_index("variant")
    assert pv["variant"].tolist() == ["v > c > buy", "v", "v > c", "v > c > x"]
    assert got["customers"].tolist() == [2, 1, 1, 1]
    assert got["conversion_rate"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert got["baseline_rate"].unique().tolist() == [0.6]
    assert got.loc["v > c > buy", "lift"] == pytest.approx(1 / 0.6)
    # durations first -> last event of the variant: a 20 min, b 40 min -> median 30 min
    assert got.loc["v > c > buy", "median_duration"] == pd.Timedelta(minutes=30)
    assert got.loc["v > c > x", "median_duration"] == pd.Timedelta(minutes=3)
    assert got.loc["v > c > x", "n_steps"] == 3
    assert not pv["variant"].duplicated().any()
    pd.testing.assert_frame_equal(buyers, before)


def test_path_variants_window_and_top_n(buyers):
    # within one day of the path start d's purchase (day 2) no longer counts: baseline 2/5
    pv = paths.path_variants(buyers, conversion_event="buy", max_steps=3, window_days=1, top_n=2)
    assert len(pv) == 2 and pv["baseline_rate"].iloc[0] == pytest.approx(0.4)
    assert pv["share"].tolist() == [0.4, 0.2]
    with pytest.raises(ValueError, match="window_days"):
        paths.path_variants(buyers, window_days=0)


# ---- real data: retentioneering simple_shop --------------------------------------------------


def reference_step_matrix(df: pd.DataFrame, steps: int, collapse: bool) -> dict:
    """Plain loop over customers: retentioneering's StepMatrix with ENDED padding."""
    counts: Counter = Counter()
    ordered = df.sort_values(["user_id", "timestamp", "event"], kind="stable")
    for _, g in ordered.groupby("user_id", sort=False):
        seq = g["event"].tolist()
        if collapse:
            seq = [e for i, e in enumerate(seq) if i == 0 or seq[i - 1] != e]
        for k in range(1, steps + 1):
            counts[(k, seq[k - 1] if k <= len(seq) else END)] += 1
    return dict(counts)


@pytest.mark.shared_data
@pytest.mark.parametrize("collapse", [False, True])
def test_step_matrix_matches_slow_reference_on_simple_shop(shared_datasets, collapse):
    df = pd.read_csv(shared_datasets / "retentioneering_simple_shop" / "simple-onlineshop.csv")
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    sm = paths.step_matrix(
        df, steps=12, collapse_repeats=collapse, customer_col="user_id", ts_col="timestamp"
    )
    got = {k: v for k, v in cells(sm).items() if v > 0}
    assert got == reference_step_matrix(df, 12, collapse)
    assert sm.loc[sm["step"].eq(1), "customers"].sum() == 3751  # every user starts a path


# ---- planted truth ---------------------------------------------------------------------------


def test_variants_with_add_to_cart_convert_above_baseline(synth_client):
    pv = paths.path_variants(synth_client.engine, max_steps=4, top_n=50)
    # the most common early journey that reaches the cart (but has not bought yet) converts
    # above the baseline: carts are the planted consideration -> decision step
    carts = pv.loc[
        pv["variant"].str.contains("add_to_cart") & ~pv["variant"].str.contains("purchase")
    ]
    assert len(carts) and carts["customers"].iloc[0] >= 10
    assert carts["conversion_rate"].iloc[0] > carts["baseline_rate"].iloc[0]
    assert carts["lift"].iloc[0] > 1.5
    # baseline: customers with a purchase event among customers with events
    bought = synth_client.engine.scalar(
        "SELECT COUNT(DISTINCT customer_id) FROM events WHERE event = 'purchase'"
    )
    everyone = synth_client.engine.scalar("SELECT COUNT(DISTINCT customer_id) FROM events")
    assert pv["baseline_rate"].iloc[0] == pytest.approx(bought / everyone)


def test_step_matrix_fast_path_equals_general_sql(synth_client):
    """The processed events carry ``event_seq`` (ingest numbers each customer's events by ts,
    then event name). The plain step matrix reads it instead of re-sorting; it must give exactly
    what the general path numbering gives on the same events without that column."""
    engine = synth_client.engine
    assert "event_seq" in engine.query("SELECT * FROM events LIMIT 0").columns
    fast = paths.step_matrix(engine, steps=12)
    plain = engine.query("SELECT customer_id, ts, event, session_id FROM events")
    general = paths.step_matrix(plain, steps=12)
    pd.testing.assert_frame_equal(fast, general)
    # and the numbering itself: 1..n per customer in (ts, event) order, by an independent sort
    ev = engine.query("SELECT customer_id, ts, event, event_seq FROM events")
    ev = ev.sort_values(["customer_id", "ts", "event"], kind="stable")
    expected = ev.groupby("customer_id").cumcount() + 1
    assert (ev["event_seq"].to_numpy() == expected.to_numpy()).all()


def test_sankey_and_step_matrix_in_passes_over_customer_ranges_equal_one_query(
    synth_client, in_passes
):
    """Above 30M events the path windows run per range of customers: the links and the step
    counts (customers, one path each) add up to exactly the one-query tables."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    kwargs = [
        {"steps": 5},
        {"steps": 4, "anchor": "purchase", "direction": "backward"},
    ]
    one = [paths.sankey_links(engine, **k) for k in kwargs]
    # collapse_repeats: the general path numbering, not the ingest's event_seq shortcut
    matrix = paths.step_matrix(engine, steps=6, collapse_repeats=True)
    calls = in_passes(int(engine.scalar("SELECT COUNT(*) FROM events")) // 4)
    for k, expected in zip(kwargs, one, strict=True):
        pd.testing.assert_frame_equal(paths.sankey_links(engine, **k), expected, check_exact=True)
    pd.testing.assert_frame_equal(
        paths.step_matrix(engine, steps=6, collapse_repeats=True), matrix, check_exact=True
    )
    assert len(calls) == 3 and min(calls) >= 4  # every one in four passes or more
    assert one[0]["customers"].sum() > 1000 and (one[1]["step"] > 1).any()


def test_path_variants_in_passes_over_customer_ranges_equal_one_query(synth_client, same_in_passes):
    """Above 30M events each customer's variant is worked out per range of customers; the
    counts, conversion, lift and median durations equal one query's, with and without an anchor
    and a conversion window."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)

    def tables() -> list[pd.DataFrame]:
        return [
            paths.path_variants(engine, top_n=15),
            paths.path_variants(engine, anchor="view_item", window_days=7, top_n=15),
        ]

    parts, calls = same_in_passes(engine, tables)
    assert len(calls) == 2
    # without an anchor every customer with an event has a variant
    customers = engine.scalar("SELECT COUNT(DISTINCT customer_id) FROM events")
    assert parts[0]["share"].iloc[0] == parts[0]["customers"].iloc[0] / customers
    assert parts[0]["customers"].is_monotonic_decreasing and len(parts[0]) == 15
