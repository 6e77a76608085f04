"""The customer feature table: a hand-worked shop, no leakage past as_of, planted truth."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from journeylib import features as F
from journeylib.engine import engine_for
from journeylib.sql import TimestampTypeError
from journeylib.stages import StageModel

AS_OF = "2025-03-10"  # cut-off: rows before 2025-03-11 00:00 UTC count
NAN = float("nan")


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _frame(rows: list[tuple], columns: list[str], ts: str = "ts") -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    df[ts] = pd.to_datetime(df[ts], utc=True).astype("datetime64[us, UTC]")
    return df


def _events(rows: list[tuple]) -> pd.DataFrame:
    return _frame(rows, ["customer_id", "ts", "event", "session_id", "channel", "device"])


def _orders(rows: list[tuple]) -> pd.DataFrame:
    cols = ["order_id", "customer_id", "ts", "product_id", "quantity", "revenue"]
    return _frame(rows, cols)


def _feedback(rows: list[tuple]) -> pd.DataFrame:
    return _frame(rows, ["customer_id", "ts", "kind", "score"])


def _customers(rows: list[tuple]) -> pd.DataFrame:
    return _frame(rows, ["customer_id", "first_seen"], ts="first_seen")


# The shop. a: loyal multi-channel buyer; b: browser with a social post; c: CRM record only;
# d: anonymous visitor (events only); e: signs up after the cut-off; f: orders only (offline).
CUSTOMERS = _customers(
    [("a", "2025-01-01 00:00"), ("b", "2025-03-01 00:00"), ("c", None), ("e", "2025-04-01 00:00")]
)
EVENTS = _events(
    [
        ("a", "2025-03-01 10:00", "page_view", "a1", "email", "mobile"),
        ("a", "2025-03-01 10:05", "view_item", "a1", "email", "mobile"),
        ("a", "2025-03-01 10:10", "add_to_cart", "a1", "email", "mobile"),
        ("a", "2025-03-01 10:15", "purchase", "a1", "email", "mobile"),  # a1: cart bought
        ("a", "2025-03-05 09:00", "page_view", "a2", "direct", "desktop"),
        ("a", "2025-03-05 09:01", "add_to_cart", "a2", "direct", "desktop"),
        ("a", "2025-03-05 09:02", "checkout_error", "a2", "direct", "desktop"),  # a2: abandoned
        ("a", "2025-03-10 23:00", "page_view", "a3", "email", "mobile"),  # on as_of itself
        ("a", "2025-03-10 23:30", "contact_support", "a3", "email", "mobile"),
        ("b", "2025-03-02 12:00", "page_view", "b1", "social", "tablet"),
        ("b", "2025-03-02 12:01", "view_item", "b1", "social", "tablet"),
        ("b", "2025-03-02 18:00", "view_item", "b2", "social", "mobile"),  # same day
        ("d", "2025-03-09 08:00", "page_view", "d1", "paid_search", "mobile"),
    ]
)
ORDERS = _orders(
    [
        ("O1", "a", "2025-03-01 10:15", "P1", 2.0, 200.0),  # unit price 100
        ("O1", "a", "2025-03-01 10:15", "P2", 1.0, 50.0),
        ("O2", "a", "2025-03-08 12:00", "P3", 1.0, 30.0),
        ("O3", "f", "2025-02-15 12:00", "P1", 1.0, 80.0),  # P1 at 80: a discount
    ]
)
FEEDBACK = _feedback(
    [
        ("a", "2025-03-02 09:00", "nps", 9.0),
        ("a", "2025-03-09 09:00", "nps", 6.0),
        ("a", "2025-03-03 09:00", "csat", 4.0),
        ("a", "2025-03-04 09:00", "review", 5.0),
        ("b", "2025-03-03 10:00", "social", None),  # a post: activity, but no score
    ]
)
# typical (geometric mean) list price: home sqrt(100 * 25) = 50, toys sqrt(30 * 120) = 60
PRODUCTS = pd.DataFrame(
    {
        "product_id": ["P1", "P2", "P3", "P4", "P5"],
        "category": ["home", "home", "toys", "toys", "Baby & Kids"],
        "price": [100.0, 25.0, 30.0, 120.0, 10.0],
    }
)
TABLES = {
    "customers": CUSTOMERS,
    "events": EVENTS,
    "orders": ORDERS,
    "feedback": FEEDBACK,
    "products": PRODUCTS,
}


def _engine(**tables: pd.DataFrame):
    return engine_for(**{**TABLES, **tables})


@pytest.fixture(scope="module")
def feats() -> pd.DataFrame:
    return F.customer_features(_engine(), as_of=AS_OF).set_index("customer_id")


def _check(feats: pd.DataFrame, expected: dict[str, dict[str, float]]) -> None:
    for col, by_customer in expected.items():
        got = feats[col].to_dict()
        assert set(got) == set(by_customer), col
        for cust, want in by_customer.items():
            if isinstance(want, float) and math.isnan(want):
                assert pd.isna(got[cust]), (col, cust, got[cust])
            else:
                assert got[cust] == pytest.approx(want), (col, cust, got[cust])


def test_grain_rows_and_column_order(feats):
    # every CRM customer known by the cut-off (c has no first_seen: kept), the anonymous visitor
    # d and the orders-only f; e signs up on 2025-04-01, after the cut-off, so is not there yet
    assert feats.index.tolist() == ["a", "b", "c", "d", "f"]
    groups = F.feature_dictionary(feats.columns)["group"].tolist()
    assert groups == sorted(groups, key=F.FEATURE_GROUPS.index)  # grouped, in group order
    assert feats.attrs["as_of"] == "2025-03-10"


def test_rfm_by_hand(feats):
    # a: orders O1 (2 lines, 250) and O2 (30): 2 orders, 280 in total, 140 per order; the last
    # order is 2025-03-08 12:00, 2.5 days before the end of 2025-03-10.
    # f: one order of 80 on 2025-02-15 12:00: 13.5 days to 1 March + 10 = 23.5 days.
    # b, c, d never ordered: recency and AOV undefined (NaN), frequency and spend truly 0.
    _check(
        feats,
        {
            "rfm_recency_days": {"a": 2.5, "b": NAN, "c": NAN, "d": NAN, "f": 23.5},
            "rfm_frequency": {"a": 2, "b": 0, "c": 0, "d": 0, "f": 1},
            "rfm_monetary": {"a": 280.0, "b": 0.0, "c": 0.0, "d": 0.0, "f": 80.0},
            "rfm_avg_order_value": {"a": 140.0, "b": NAN, "c": NAN, "d": NAN, "f": 80.0},
            "rfm_has_ordered": {"a": 1, "b": 0, "c": 0, "d": 0, "f": 1},
        },
    )
    assert feats["rfm_frequency"].dtype == "int64"


def test_engagement_by_hand(feats):
    # a: sessions a1, a2, a3 with 4 + 3 + 2 = 9 events (3 per session) on 3 days; first seen
    #    1 Jan (CRM) -> 31 + 28 + 10 = 69 days; last activity 23:30 on as_of: 30 min = 1/48 day.
    # b: b1 and b2 both on 2 March: 2 sessions, 3 events, 1 active day; first seen 1 March
    #    -> 10 days; last activity is the social post on 3 March 10:00 -> 7 days 14 h.
    # c: nothing at all: counts 0, durations undefined.
    # d: one event on 9 March 08:00 -> 1 day 16 h for both tenure and inactivity.
    # f: no events (0 sessions, events per session undefined); first and last seen at its order.
    _check(
        feats,
        {
            "engagement_sessions": {"a": 3, "b": 2, "c": 0, "d": 1, "f": 0},
            "engagement_events": {"a": 9, "b": 3, "c": 0, "d": 1, "f": 0},
            "engagement_events_per_session": {"a": 3.0, "b": 1.5, "c": NAN, "d": 1.0, "f": NAN},
            "engagement_active_days": {"a": 3, "b": 1, "c": 0, "d": 1, "f": 0},
            "engagement_tenure_days": {"a": 69.0, "b": 10.0, "c": NAN, "d": 40 / 24, "f": 23.5},
            "engagement_days_since_last_activity": {
                "a": 1 / 48,
                "b": 7 + 14 / 24,
                "c": NAN,
                "d": 40 / 24,
                "f": 23.5,
            },
        },
    )


def test_days_between_sessions_by_hand(feats):
    # a: sessions start 1 Mar 10:00, 5 Mar 09:00, 10 Mar 23:00: 9 days 13 h over 2 gaps.
    # b: b1 12:00 and b2 18:00 on 2 March: 6 h = 0.25 day over 1 gap.
    # d has one session: a gap is undefined (NaN), as it is for c and f without sessions.
    _check(
        feats,
        {
            "engagement_days_between_sessions": {
                "a": (9 + 13 / 24) / 2,
                "b": 0.25,
                "c": NAN,
                "d": NAN,
                "f": NAN,
            }
        },
    )


def test_browse_mix_and_price_level_by_hand():
    # Events carrying a product_id show interest before (or without) buying. Typical list
    # prices: home sqrt(100 * 25) = 50, toys sqrt(30 * 120) = 60 (the PRODUCTS table).
    # a looks at P1 (home, 100 -> 2.0), P2 (home, 25 -> 0.5) and P4 (toys, 120 -> 2.0), and at an
    #   unknown product P9 (counted, but no category or price): shares home 2/3, toys 1/3;
    #   price level = geometric mean (2.0 * 0.5 * 2.0) ** (1/3) = 2 ** (1/3).
    # b looks at P3 twice (toys, 30 -> 0.5): toys 1.0, price level 0.5.
    # d has an event without a product: 0 product events, shares and price level undefined.
    ev = _events(
        [
            ("a", "2025-03-01 10:00", "view_item", "a1", "email", "mobile"),
            ("a", "2025-03-01 10:01", "view_item", "a1", "email", "mobile"),
            ("a", "2025-03-01 10:02", "add_to_cart", "a1", "email", "mobile"),
            ("a", "2025-03-01 10:03", "view_item", "a1", "email", "mobile"),
            ("a", "2025-03-01 10:04", "page_view", "a1", "email", "mobile"),
            ("b", "2025-03-02 12:00", "view_item", "b1", "social", "tablet"),
            ("b", "2025-03-02 12:01", "view_item", "b1", "social", "tablet"),
            ("d", "2025-03-09 08:00", "page_view", "d1", "paid_search", "mobile"),
            ("d", "2025-03-12 08:00", "view_item", "d2", "paid_search", "mobile"),  # too late
        ]
    )
    ev["product_id"] = ["P1", "P2", "P4", "P9", None, "P3", "P3", None, "P1"]
    got = F.customer_features(_engine(events=ev), as_of=AS_OF, include="browse").set_index(
        "customer_id"
    )
    _check(
        got,
        {
            "browse_product_events": {"a": 4, "b": 2, "c": 0, "d": 0, "f": 0},
            "browse_category_share_home": {"a": 2 / 3, "b": 0.0, "c": NAN, "d": NAN, "f": NAN},
            "browse_category_share_toys": {"a": 1 / 3, "b": 1.0, "c": NAN, "d": NAN, "f": NAN},
            "browse_category_share_baby_kids": {"a": 0.0, "b": 0.0, "c": NAN, "d": NAN, "f": NAN},
            "browse_price_index": {"a": 2 ** (1 / 3), "b": 0.5, "c": NAN, "d": NAN, "f": NAN},
        },
    )
    docs = F.feature_dictionary(got.columns).set_index("name")
    assert docs.loc["browse_category_share_toys", "group"] == "browse"
    # events without product_id (the hand-worked shop): no browse columns, nothing made up
    plain = F.customer_features(_engine(), as_of=AS_OF, include="browse")
    assert not any(c.startswith("browse_") for c in plain.columns)


def test_channel_and_device_mix_by_hand(feats):
    # a: 2 of 3 sessions by email (a1, a3), 1 direct; 2 on mobile, 1 on desktop.
    # b: both sessions social; b1 on tablet, b2 on mobile. d: one paid_search mobile session.
    # c and f have no sessions: every share is undefined (NaN), not 0.
    share = {c: feats[f"channel_share_{c}"] for c in ("email", "direct", "social", "paid_search")}
    assert share["email"].tolist()[:2] == pytest.approx([2 / 3, 0.0])
    assert share["direct"]["a"] == pytest.approx(1 / 3)
    assert share["social"]["b"] == 1.0 and share["paid_search"]["d"] == 1.0
    channels = feats[[f"channel_share_{c}" for c in F.CHANNELS]]
    devices = feats[[f"device_share_{d}" for d in F.DEVICES]]
    for mix in (channels, devices):
        assert mix.loc[["a", "b", "d"]].sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
        assert mix.loc[["c", "f"]].isna().all(axis=None)
    _check(
        feats,
        {
            "device_share_mobile": {"a": 2 / 3, "b": 0.5, "c": NAN, "d": 1.0, "f": NAN},
            "device_share_desktop": {"a": 1 / 3, "b": 0.0, "c": NAN, "d": 0.0, "f": NAN},
            "device_share_tablet": {"a": 0.0, "b": 0.5, "c": NAN, "d": 0.0, "f": NAN},
        },
    )


def test_funnel_depth_and_abandoned_carts_by_hand(feats):
    # steps view_item=1, add_to_cart=2, begin_checkout=3, purchase=4. a reached purchase (4);
    # b only viewed items (1); d only landed (0). a had carts in a1 and a2; a1 was bought in the
    # session, a2 was not: 1 abandoned cart. f's order has no events: the event funnel says 0.
    _check(
        feats,
        {
            "funnel_depth": {"a": 4, "b": 1, "c": 0, "d": 0, "f": 0},
            "funnel_cart_sessions": {"a": 2, "b": 0, "c": 0, "d": 0, "f": 0},
            "funnel_abandoned_carts": {"a": 1, "b": 0, "c": 0, "d": 0, "f": 0},
        },
    )


def test_product_mix_and_price_level_by_hand(feats):
    # a: lines P1, P2 (home) and P3 (toys): shares 2/3, 1/3, 0 for "Baby & Kids"; 4 units and
    #    3 lines over 2 orders; unit price / category typical price: 100/50 = 2, 50/50 = 1,
    #    30/60 = 0.5 -> geometric mean (2 * 1 * 0.5) ** (1/3) = 1.
    # f: one line of P1 at 80 -> 80/50 = 1.6 (a discounted buy of a pricier product).
    # b, c, d: no orders -> shares, basket sizes and price level undefined; 0 distinct products.
    _check(
        feats,
        {
            "product_category_share_home": {"a": 2 / 3, "b": NAN, "c": NAN, "d": NAN, "f": 1.0},
            "product_category_share_toys": {"a": 1 / 3, "b": NAN, "c": NAN, "d": NAN, "f": 0.0},
            "product_category_share_baby_kids": {
                "a": 0.0,
                "b": NAN,
                "c": NAN,
                "d": NAN,
                "f": 0.0,
            },
            "product_distinct_products": {"a": 3, "b": 0, "c": 0, "d": 0, "f": 1},
            "product_items_per_order": {"a": 2.0, "b": NAN, "c": NAN, "d": NAN, "f": 1.0},
            "product_lines_per_order": {"a": 1.5, "b": NAN, "c": NAN, "d": NAN, "f": 1.0},
            "product_price_index": {"a": 1.0, "b": NAN, "c": NAN, "d": NAN, "f": 1.6},
        },
    )


def test_satisfaction_by_hand(feats):
    # a: NPS 9 and 6 (mean 7.5, one promoter of two answers), CSAT 4, review 5: 4 answers.
    # b: a social post only: no scored answer (0) and every mean undefined.
    # there is no sentiment column in this feedback table, so no sentiment feature.
    _check(
        feats,
        {
            "satisfaction_responses": {"a": 4, "b": 0, "c": 0, "d": 0, "f": 0},
            "satisfaction_nps_mean": {"a": 7.5, "b": NAN, "c": NAN, "d": NAN, "f": NAN},
            "satisfaction_nps_promoter_share": {"a": 0.5, "b": NAN, "c": NAN, "d": NAN, "f": NAN},
            "satisfaction_csat_mean": {"a": 4.0, "b": NAN, "c": NAN, "d": NAN, "f": NAN},
            "satisfaction_review_mean": {"a": 5.0, "b": NAN, "c": NAN, "d": NAN, "f": NAN},
        },
    )
    assert "satisfaction_sentiment_mean" not in feats.columns


def test_sentiment_only_when_the_feedback_has_a_sentiment_column():
    fb = FEEDBACK.assign(sentiment=[0.5, -0.5, 1.0, np.nan, -1.0])
    out = F.customer_features(_engine(feedback=fb), as_of=AS_OF, include=["satisfaction"])
    # a: mean of 0.5, -0.5, 1.0 (the review has none); b: its post scored -1
    assert out.set_index("customer_id")["satisfaction_sentiment_mean"].to_dict() == {
        "a": pytest.approx(1 / 3),
        "b": -1.0,
        "c": pytest.approx(NAN, nan_ok=True),
        "d": pytest.approx(NAN, nan_ok=True),
        "f": pytest.approx(NAN, nan_ok=True),
    }


def test_friction_counts_and_untracked_events(feats):
    # checkout_error (a2) and contact_support (a3) occur before the cut-off: counts, 0 a true 0.
    # payment_error, delivery_late and return_request never occur: not tracked, NaN for everyone.
    _check(
        feats,
        {
            "friction_checkout_error": {"a": 1, "b": 0, "c": 0, "d": 0, "f": 0},
            "friction_contact_support": {"a": 1, "b": 0, "c": 0, "d": 0, "f": 0},
        },
    )
    for event in ("payment_error", "delivery_late", "return_request"):
        assert feats[f"friction_{event}"].isna().all()
    own = F.customer_features(
        _engine(), as_of=AS_OF, include=["friction"], friction_events=["page_view"]
    )
    assert own.columns.tolist() == ["customer_id", "friction_page_view"]
    assert own["friction_page_view"].tolist() == [3, 1, 0, 1, 0]  # a1, a2, a3 each land


def test_no_leakage_rows_after_as_of_change_nothing(feats):
    """Rows dated after the cut-off, in every dated table, must not move any feature."""
    after = {
        "customers": pd.concat([CUSTOMERS, _customers([("g", "2025-03-12 00:00")])]),
        "events": pd.concat(
            [
                EVENTS,
                _events(
                    [
                        # exactly at the cut-off instant: already the next day
                        ("a", "2025-03-11 00:00", "purchase", "a4", "email", "desktop"),
                        ("b", "2025-03-12 09:00", "delivery_late", "b3", "direct", "mobile"),
                        ("d", "2025-03-20 09:00", "payment_error", "d2", "direct", "mobile"),
                        ("g", "2025-03-15 09:00", "page_view", "g1", "social", "mobile"),
                    ]
                ),
            ]
        ),
        "orders": pd.concat(
            [
                ORDERS,
                _orders(
                    [
                        ("O4", "b", "2025-03-11 00:00", "P4", 1.0, 120.0),
                        ("O5", "a", "2025-03-20 08:00", "P5", 3.0, 30.0),
                    ]
                ),
            ]
        ),
        "feedback": pd.concat(
            [
                FEEDBACK,
                _feedback(
                    [("a", "2025-03-11 00:00", "nps", 0.0), ("g", "2025-03-16 10:00", "csat", 1.0)]
                ),
            ]
        ),
    }
    # the catalogue has no dates: it is the same in both (a new category would add a column)
    later = F.customer_features(_engine(**after), as_of=AS_OF).set_index("customer_id")
    pd.testing.assert_frame_equal(later, feats)
    # the later rows are really there: a day later they count
    moved = F.customer_features(_engine(**after), as_of="2025-03-11").set_index("customer_id")
    assert moved.loc["a", "engagement_sessions"] == 4 and moved.loc["b", "rfm_frequency"] == 1


def test_rows_on_the_as_of_day_count_and_the_day_before_does_not_see_them():
    day_before = F.customer_features(_engine(), as_of="2025-03-09").set_index("customer_id")
    # a3 (2025-03-10 23:00-23:30) is gone: 2 sessions; contact_support has not happened yet
    # anywhere, so it is untracked as of then; d's event on 9 March 08:00 still counts
    assert day_before.loc["a", "engagement_sessions"] == 2
    assert day_before["friction_contact_support"].isna().all()
    assert day_before.loc["d", "engagement_events"] == 1
    assert day_before.loc["a", "engagement_tenure_days"] == pytest.approx(68.0)


def test_as_of_none_is_the_last_day_holding_data():
    # the last dated row is e's sign-up on 2025-04-01: all data, measured to the end of that day
    everything = F.customer_features(_engine())
    assert everything.attrs["as_of"] == "2025-04-01"
    assert "e" in everything["customer_id"].tolist()
    pd.testing.assert_frame_equal(everything, F.customer_features(_engine(), as_of="2025-04-01"))


def test_stage_model_adds_the_furthest_stage(feats):
    out = F.customer_features(_engine(), as_of=AS_OF, stage_model=StageModel())
    # default stages: a is an NPS promoter (advocacy, 5; it also repeated within 90 days);
    # b viewed items (consideration, 2); d only landed (awareness, 1); f ordered offline
    # (decision, 3, from the order signal); c has no signal at all (0)
    stage = out.set_index("customer_id")["funnel_stage_no"].to_dict()
    assert stage == {"a": 5, "b": 2, "c": 0, "d": 1, "f": 3}
    assert (
        out.columns.get_loc("funnel_stage_no") == out.columns.get_loc("funnel_abandoned_carts") + 1
    )
    pd.testing.assert_frame_equal(
        out.drop(columns="funnel_stage_no").set_index("customer_id"), feats
    )


def test_include_selects_groups_without_changing_rows(feats):
    rfm = F.customer_features(_engine(), as_of=AS_OF, include=["rfm"]).set_index("customer_id")
    assert rfm.columns.tolist() == [
        "rfm_recency_days",
        "rfm_frequency",
        "rfm_monetary",
        "rfm_avg_order_value",
        "rfm_has_ordered",
    ]
    pd.testing.assert_frame_equal(rfm, feats[rfm.columns])
    # without the products table there are no category columns and no price level
    prod = F.customer_features(
        engine_for(orders=ORDERS, customers=CUSTOMERS), as_of=AS_OF, include="product"
    )
    assert prod.columns.tolist() == [
        "customer_id",
        "product_distinct_products",
        "product_items_per_order",
        "product_lines_per_order",
        "product_price_index",
    ]
    assert prod["product_price_index"].isna().all()
    assert prod["customer_id"].tolist() == ["a", "b", "c", "f"]  # no events table: no d


def test_feature_dictionary_documents_every_column(feats):
    table = F.feature_dictionary()
    assert table.columns.tolist() == ["name", "group", "description", "unit", "missing"]
    assert table["name"].is_unique and set(table["group"]) == set(F.FEATURE_GROUPS)
    assert table[["description", "unit", "missing"]].ne("").all(axis=None)
    docs = F.feature_dictionary(feats.reset_index().columns)
    assert docs["name"].tolist() == feats.columns.tolist()
    assert docs.loc[docs["name"] == "product_category_share_home", "group"].item() == "product"
    with pytest.raises(KeyError, match="not in the feature dictionary"):
        F.feature_dictionary(["customer_id", "shoe_size"])


def test_feature_dictionary_in_indonesian(feats):
    en = F.feature_dictionary()
    table = F.feature_dictionary(language="id")
    # same rows, names and groups; every unit, meaning and description has an Indonesian text
    # (none is the English one, except the formulas made of column names)
    assert table[["name", "group"]].equals(en[["name", "group"]])
    for col in ("unit", "missing", "description"):
        same = table[col] == en[col]
        assert set(table.loc[same, "name"]) <= {
            "rfm_avg_order_value",
            "engagement_events_per_session",
        }, col
    docs = F.feature_dictionary(feats.reset_index().columns, language="id").set_index("name")
    assert docs.loc["rfm_recency_days", "unit"] == "hari"
    assert docs.loc["product_category_share_home", "missing"] == (
        "NaN: tidak ada baris pesanan dengan kategori yang dikenal"
    )
    assert docs.loc["channel_share_email", "description"].startswith(
        "porsi sesi pelanggan dari email"
    )
    # a client's own column keeps its texts; the input is not modified
    own = pd.DataFrame(
        {"name": ["income"], "unit": ["IDR"], "missing": ["x"], "description": ["y"]}
    )
    assert F.localise_dictionary(own, "id").equals(own)
    # short names: noun first, family members by name, other/blank in words, events as words
    assert F.feature_short_name("rfm_avg_order_value") == "nilai pesanan"
    assert F.feature_short_name("product_category_share_home") == "porsi home"
    assert F.feature_short_name("browse_category_share_blank") == "porsi kategori tanpa nama"
    assert F.feature_short_name("device_share_other") == "porsi perangkat lainnya"
    assert F.feature_short_name("friction_delivery_late") == "delivery late"
    assert F.feature_short_name("rfm_frequency", language="en") is None
    assert F.group_name("browse", language="id") == "penjelajahan produk"
    assert F.group_name("tenure_months", language="id") == "tenure_months"
    with pytest.raises(ValueError, match="language"):
        F.feature_dictionary(language="fr")


def test_inputs_are_not_mutated_and_runs_are_identical():
    copies = {k: v.copy() for k, v in TABLES.items()}
    first = F.customer_features(_engine(), as_of=AS_OF)
    for name, df in TABLES.items():
        pd.testing.assert_frame_equal(df, copies[name])
    pd.testing.assert_frame_equal(first, F.customer_features(_engine(), as_of=AS_OF))


def test_customers_without_any_activity_get_zero_counts_and_nan_elsewhere():
    # empty activity tables: every count is a true 0, every rate, share and duration NaN, and
    # every friction event untracked; the reference day is the last sign-up (1 April)
    out = F.customer_features(
        _engine(events=EVENTS.iloc[:0], orders=ORDERS.iloc[:0], feedback=FEEDBACK.iloc[:0]),
        as_of=dt.date(2025, 4, 1),
    ).set_index("customer_id")
    assert out.index.tolist() == ["a", "b", "c", "e"]
    docs = F.feature_dictionary(out.columns).set_index("name")
    counts = [c for c in out.columns if docs.loc[c, "missing"].startswith("never missing")]
    assert out[counts].eq(0).all(axis=None)
    rest = out.drop(columns=[*counts, "engagement_tenure_days"])
    assert rest.isna().all(axis=None)
    # tenure from the CRM sign-up alone: a 1 Jan -> 91 days, e signed up on as_of -> 1 day
    assert out["engagement_tenure_days"].to_dict() == {
        "a": 91.0,
        "b": 32.0,
        "c": pytest.approx(NAN, nan_ok=True),
        "e": 1.0,
    }


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(ValueError, match="include must be one of"):
        F.customer_features(_engine(), include=["rfm", "shoe_size"])
    with pytest.raises(ValueError, match="as_of must be a date"):
        F.customer_features(_engine(), as_of="yesterday-ish")
    with pytest.raises(ValueError, match="must differ"):
        F.customer_features(_engine(), cart_event="purchase")
    with pytest.raises(ValueError, match="funnel must be a list"):
        F.customer_features(_engine(), funnel="view_item")
    with pytest.raises(TimestampTypeError, match="'ts' of table 'events'"):
        F.customer_features(_engine(events=EVENTS.assign(ts=EVENTS["ts"].astype(str))))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['device'\]"):
        F.customer_features(_engine(events=EVENTS.drop(columns="device")))
    # without device the other groups still work
    ok = F.customer_features(
        _engine(events=EVENTS.drop(columns="device")), as_of=AS_OF, include=["engagement"]
    )
    assert ok["engagement_sessions"].tolist() == [3, 2, 0, 1, 0]
    with pytest.raises(ValueError, match="cannot read table 'orders'"):
        F.customer_features(engine_for(events=EVENTS), include=["rfm"])


# ---- the planted truth -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_feats(synth_client) -> pd.DataFrame:
    c = synth_client
    return F.customer_features(c.engine, as_of=c.config.effective_as_of, config=c.config)


def test_synth_counts_equal_the_planted_truth(synth_client, synth_feats):
    # one row per customer of the customers table (CRM + anonymous visitors), unique
    ids = synth_client.engine.query("SELECT customer_id FROM customers ORDER BY 1")["customer_id"]
    assert synth_feats["customer_id"].tolist() == ids.tolist()
    t = synth_client.truth.merge(synth_feats, on="customer_id", how="left", validate="1:1")
    # every planted order and web session falls in the data window, which ends on as_of
    assert (t["rfm_frequency"] == t["n_orders"]).all()
    assert (t["rfm_has_ordered"] == (t["n_orders"] > 0)).all()
    assert (t["engagement_sessions"] == t["n_web_sessions"]).all()
    for event in ("payment_error", "delivery_late", "return_request"):
        assert (t[f"friction_{event}"] == t[f"n_{event}"]).all(), event
    # the truth counts sessions with a checkout error; the checkout incident repeats the error
    # within a session (loops), so the event count is equal outside the incident and larger in it
    calm = ~t["incident_exposed"]
    assert (t.loc[calm, "friction_checkout_error"] == t.loc[calm, "n_checkout_error"]).all()
    assert (t["friction_checkout_error"] >= t["n_checkout_error"]).all()


def test_synth_personas_leave_their_planted_signatures(synth_client, synth_feats):
    t = synth_client.truth.merge(synth_feats, on="customer_id")
    mean = t.groupby("persona").mean(numeric_only=True)
    median = t.groupby("persona").median(numeric_only=True)
    # b2b resellers buy in bulk (Poisson 1.5 extra lines and large quantities)
    assert mean["product_items_per_order"].idxmax() == "b2b_reseller_bulk"
    assert mean["product_lines_per_order"].idxmax() == "b2b_reseller_bulk"
    # price elasticity -0.6 (prefers expensive SKUs) vs 1.2 (cheapest)
    price = median["product_price_index"]
    assert price.idxmax() == "loyal_premium_desktop"
    assert price.idxmin() == "mobile_bargain_hunter"
    # channel and device mixes: 40% marketplace, 32% social + 28% paid social, 30% WhatsApp
    assert mean["channel_share_marketplace"].idxmax() == "marketplace_casual"
    assert mean["channel_share_social"].idxmax() == "social_young_browser"
    assert mean["channel_share_whatsapp"].idxmax() == "b2b_reseller_bulk"
    desktop = mean["device_share_desktop"].sort_values()
    assert set(desktop.index[-2:]) == {"loyal_premium_desktop", "b2b_reseller_bulk"}
    # satisfaction latent mean 0.7: the most satisfied reviewers
    assert mean["satisfaction_review_mean"].idxmax() == "loyal_premium_desktop"


def test_synth_config_friction_events_and_no_leakage_on_real_data(synth_client, synth_feats):
    c = synth_client
    friction = [col for col in synth_feats.columns if col.startswith("friction_")]
    # the config's three, then the two defaults it lacks
    assert friction == [f"friction_{e}" for e in F.DEFAULT_FRICTION_EVENTS]
    assert (
        F.feature_dictionary(synth_feats.columns)["name"].tolist()
        == synth_feats.columns[1:].tolist()
    )
    # features as of 30 April from the full tables equal those from tables cut at 30 April
    as_of = "2025-04-30"
    cutoff = _ts("2025-05-01")
    cut = {}
    for name in ("events", "orders", "feedback", "customers", "products"):
        df = c.engine.query(f"SELECT * FROM {name}")
        col = {"customers": "first_seen", "products": None}.get(name, "ts")
        cut[name] = df if col is None else df[df[col].isna() | (df[col] < cutoff)]
    full = F.customer_features(c.engine, as_of=as_of, config=c.config)
    pd.testing.assert_frame_equal(
        full, F.customer_features(engine_for(**cut), as_of=as_of, config=c.config)
    )
    assert len(full) < len(synth_feats)  # later sign-ups are not there yet


def test_the_table_built_in_passes_over_customer_ranges_equals_one_query(synth_client, synth_feats):
    c = synth_client
    events = int(c.engine.scalar("SELECT COUNT(*) FROM events"))
    # a pass per 1/5 of the events: 5 ranges of pseudonyms, each its own query, stacked
    parts = F.customer_features(
        c.engine, as_of=c.config.effective_as_of, config=c.config, pass_events=events // 5 + 1
    )
    pd.testing.assert_frame_equal(parts, synth_feats)
    # every range held customers (pseudonyms are uniform hex), so the passes really ran
    first = synth_feats["customer_id"].str[0]
    assert first.isin(["0", "1", "2", "3"]).any() and first.isin(["c", "d", "e", "f"]).any()


def test_query_per_customer_runs_one_query_per_range_in_order():
    from journeylib.engine import query_per_customer

    ids = [f"{k:02x}" for k in range(256)]
    eng = engine_for(t=pd.DataFrame({"customer_id": ids[::-1], "n": range(256)}))
    seen = []

    def select(where: str) -> str:
        seen.append(where)
        return f"SELECT customer_id, n FROM t WHERE {where} ORDER BY customer_id"

    out = query_per_customer(eng, select, events=1000, pass_events=250)
    assert seen == [
        "customer_id < '4'",
        "customer_id >= '4' AND customer_id < '8'",
        "customer_id >= '8' AND customer_id < 'c'",
        "customer_id >= 'c'",
    ]
    assert out["customer_id"].tolist() == ids
    assert out["n"].tolist() == list(range(255, -1, -1))
    seen.clear()
    query_per_customer(eng, select, events=1000)  # under the default: one query of everyone
    assert seen == ["TRUE"]


def test_the_table_is_kept_per_processed_folder_and_cut_off(synth_client, tmp_path, monkeypatch):
    """Notebooks 30 and 40 and the playbook ask for the same table: computed once per processed
    folder and options, read back equal (dtypes and attrs too), computed again when anything
    it depends on changes."""
    import shutil

    from journeylib.engine import CACHE_DIR, DuckDBEngine

    folder = tmp_path / "processed"
    shutil.copytree(synth_client.config.processed_dir, folder)
    shutil.rmtree(folder / CACHE_DIR, ignore_errors=True)
    config = synth_client.config
    fresh = F.customer_features(DuckDBEngine(folder), as_of="2025-05-31", config=config)
    assert len(list((folder / CACHE_DIR).glob("customer_features-*.parquet"))) == 1
    computed = []
    real = F._table
    monkeypatch.setattr(F, "_table", lambda *a: computed.append(1) or real(*a))
    # a notebook writes its output beside the processed tables: the kept table still holds
    pd.DataFrame({"customer_id": ["x"], "persona": [1]}).to_parquet(
        folder / "persona_assignments.parquet"
    )
    again = F.customer_features(DuckDBEngine(folder), as_of="2025-05-31", config=config)
    assert computed == []
    pd.testing.assert_frame_equal(again, fresh, check_exact=True)
    assert again.attrs == fresh.attrs == {"as_of": "2025-05-31"}
    # another cut-off, other groups, other friction events, a changed file, a registered frame
    F.customer_features(DuckDBEngine(folder), as_of="2025-04-30", config=config)
    F.customer_features(DuckDBEngine(folder), as_of="2025-05-31", include=["rfm"], config=config)
    F.customer_features(
        DuckDBEngine(folder), as_of="2025-05-31", config=config, friction_events=["x"]
    )
    (folder / "feedback.parquet").touch()
    F.customer_features(DuckDBEngine(folder), as_of="2025-05-31", config=config)
    engine = DuckDBEngine(folder)
    engine.register("orders", pd.read_parquet(folder / "orders.parquet").head(10))
    F.customer_features(engine, as_of="2025-05-31", config=config)
    assert computed == [1] * 5


def test_columns_are_read_alone_from_the_kept_table(synth_client, tmp_path, monkeypatch):
    """``columns`` returns those columns of the whole table (in its order, attrs kept), both
    when the table is computed and kept and when the kept file is read for them alone."""
    import shutil

    import pyarrow.parquet as pq

    from journeylib.engine import CACHE_DIR, DuckDBEngine

    folder = tmp_path / "processed"
    shutil.copytree(synth_client.config.processed_dir, folder)
    shutil.rmtree(folder / CACHE_DIR, ignore_errors=True)
    config = synth_client.config
    wanted = ["rfm_monetary", "customer_id", "satisfaction_nps_mean", "no_such_column"]
    first = F.customer_features(
        DuckDBEngine(folder), as_of="2025-05-31", config=config, columns=wanted
    )
    assert list(first.columns) == ["customer_id", "rfm_monetary", "satisfaction_nps_mean"]
    (kept_file,) = (folder / CACHE_DIR).glob("customer_features-*.parquet")
    assert len(pq.read_schema(kept_file).names) > 30  # the whole table was kept
    read = []
    real_read = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: read.append(k) or real_read(*a, **k))
    monkeypatch.setattr(F, "_table", lambda *a: pytest.fail("computed again"))
    again = F.customer_features(
        DuckDBEngine(folder), as_of="2025-05-31", config=config, columns=wanted
    )
    assert read[-1]["columns"] == list(first.columns)
    whole = F.customer_features(DuckDBEngine(folder), as_of="2025-05-31", config=config)
    pd.testing.assert_frame_equal(again, whole[list(first.columns)], check_exact=True)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert again.attrs == first.attrs == {"as_of": "2025-05-31"}


def test_a_result_asked_for_at_once_is_computed_once(tmp_path):
    """Notebooks running at once (report.workers) ask for the same kept table: the first
    computes it while the other waits, then reads it."""
    import threading
    import time

    from journeylib.engine import DuckDBEngine, kept

    folder = tmp_path / "processed"
    folder.mkdir()
    pd.DataFrame(
        {"customer_id": ["a", "b"], "ts": pd.to_datetime(["2025-01-01"] * 2, utc=True)}
    ).to_parquet(folder / "events.parquet")
    calls, results = [], []

    def compute():
        calls.append(1)
        time.sleep(0.5)  # the other thread asks meanwhile
        return pd.DataFrame({"customer_id": ["a", "b"], "n": [1, 2]})

    def ask():  # each in its own engine, as in two notebooks
        results.append(kept(DuckDBEngine(folder), "demo", ("k",), compute, tables=("events",)))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert len(results) == 2
    pd.testing.assert_frame_equal(results[0], results[1])
    assert results[0]["n"].tolist() == [1, 2]


def test_engines_run_without_partitioned_execution():
    """DuckDB's partitioned_execution splits an aggregate over the sorted events into branches
    that each read the whole file under a filter (21 branches and 14x the time at 10M
    customers, benchmarks/README.md; it needs about 20M rows to appear, too many for a unit
    test): every engine turns it off, keeping optimizers already off and skipping names this
    DuckDB does not have."""
    import duckdb

    from journeylib.engine import DuckDBEngine, _disable_optimizers

    con = duckdb.connect()
    known = {r[0] for r in con.execute("SELECT name FROM duckdb_optimizers()").fetchall()}
    con.execute("SET disabled_optimizers = 'top_n'")
    _disable_optimizers(con, ["partitioned_execution", "no_such_optimizer"])
    setting = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    expected = {"top_n"} | ({"partitioned_execution"} & known)
    assert set(setting.split(",")) == expected
    if "partitioned_execution" in known:
        eng = DuckDBEngine(None)
        assert (
            eng.scalar("SELECT current_setting('disabled_optimizers')") == "partitioned_execution"
        )


def test_query_per_customer_narrows_the_named_tables_per_pass_but_never_a_registered_frame():
    from journeylib.engine import DuckDBEngine, query_per_customer

    ids = [f"{k:02x}" for k in range(256)]
    eng = DuckDBEngine(None)
    eng._con.execute(  # a folder's table: a view in the main schema
        "CREATE VIEW t AS SELECT format('{:02x}', i) AS customer_id, i AS n FROM range(256) r(i)"
    )
    eng._tables.append("t")
    sql = "SELECT customer_id, SUM(n) AS n, COUNT(*) OVER () AS seen FROM t GROUP BY 1 ORDER BY 1"
    out = query_per_customer(eng, sql, events=1000, pass_events=250, tables=["t"])
    assert out["customer_id"].tolist() == ids and out["n"].tolist() == list(range(256))
    assert out["seen"].tolist() == [64] * 256  # each pass saw a quarter of the customers
    assert int(eng.scalar("SELECT COUNT(*) FROM t")) == 256  # views dropped
    eng.register("t", pd.DataFrame({"customer_id": ids, "n": range(256)}))
    out = query_per_customer(eng, sql, events=1000, pass_events=250, tables=["t"])
    assert out["seen"].tolist() == [256] * 256  # a frame stands in: one query
    assert int(eng.scalar("SELECT COUNT(*) FROM t")) == 256


def test_a_pseudonym_sample_in_passes_is_the_full_table_below_the_bound(synth_client, synth_feats):
    c = synth_client
    events = int(c.engine.scalar("SELECT COUNT(*) FROM events"))
    # 30% of the customers in passes: some passes hold none of them (ranges above the bound)
    part = F.customer_features(
        c.engine, as_of=c.config.effective_as_of, config=c.config, fraction=0.3,
        pass_events=events // 20,
    )  # fmt: skip
    bound = f"{round(0.3 * 16**4):04x}"
    expected = synth_feats[synth_feats["customer_id"].str[:4] < bound].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected, check_exact=True)
    assert 0.2 < len(part) / len(synth_feats) < 0.4
