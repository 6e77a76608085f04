"""The customer x product matrix of journeylib.recommend.interactions on hand-made orders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.engine import engine_for
from journeylib.recommend import interactions, product_categories
from journeylib.sql import TimestampTypeError


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4"],
            "customer_id": ["a", "a", "a", "b", "c"],
            "product_id": ["x", "y", "x", "y", "z"],
            "ts": pd.to_datetime(
                [
                    "2025-01-01 10:00",
                    "2025-01-01 10:00",
                    "2025-01-03 23:59",
                    "2025-01-04 00:00",
                    "2025-01-02 08:00",
                ],
                utc=True,
            ),
            "quantity": [1.0, 2.0, 1.0, 1.0, 1.0],
            "revenue": [10.0, 5.0, 10.0, 5.0, 3.0],
        }
    )


def test_all_orders_binary_and_order_counts():
    orders = _orders()
    before = orders.copy()
    got = interactions(engine_for(orders=orders))
    # rows: customers sorted; columns: products sorted; 1 = bought
    assert got.customers.tolist() == ["a", "b", "c"]
    assert got.products.tolist() == ["x", "y", "z"]
    np.testing.assert_array_equal(got.matrix.toarray(), [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    # "orders": a bought x in two orders (o1, o2)
    counts = interactions(engine_for(orders=orders), value="orders")
    np.testing.assert_array_equal(counts.matrix.toarray(), [[2, 1, 0], [0, 1, 0], [0, 0, 1]])
    assert counts.as_of is None and counts.dropped_lines == 0
    pd.testing.assert_frame_equal(orders, before)  # the input is not modified
    frame = got.to_frame()
    assert len(frame) == 4 and set(frame.columns) == {"customer_id", "product_id", "value"}


def test_cut_off_is_the_end_of_the_as_of_day_and_since_the_start_of_its_day():
    eng = engine_for(orders=_orders())
    # b's only line is at 00:00 on 4 January: after the end of 3 January, so b has no row;
    # a's line at 23:59 on 3 January counts
    got = interactions(eng, as_of="2025-01-03", value="orders")
    assert got.customers.tolist() == ["a", "c"]
    assert got.products.tolist() == ["x", "y", "z"]
    np.testing.assert_array_equal(got.matrix.toarray(), [[2, 1, 0], [0, 0, 1]])
    # from the start of 2 January: a's lines of 1 January (x and y in o1) are left out
    got = interactions(eng, as_of="2025-01-03", since="2025-01-02")
    assert got.products.tolist() == ["x", "z"]
    np.testing.assert_array_equal(got.matrix.toarray(), [[1, 0], [0, 1]])


def test_recency_weights_halve_every_half_life():
    got = interactions(engine_for(orders=_orders()), as_of="2025-01-03", half_life_days=1.0)
    m = got.matrix.toarray()
    # ages to the end of 3 January: a-x last bought 23:59 on the 3rd (1 minute), a-y at 10:00
    # on the 1st (2 days 14 hours), c-z at 08:00 on the 2nd (1 day 16 hours)
    np.testing.assert_allclose(m[0, 0], 0.5 ** (1 / 1440), rtol=1e-6)
    np.testing.assert_allclose(m[0, 1], 0.5 ** (2 + 14 / 24), rtol=1e-6)
    np.testing.assert_allclose(m[1, 2], 0.5 ** (1 + 16 / 24), rtol=1e-6)


def test_fixed_index_drops_and_counts_pairs_outside_it():
    got = interactions(
        engine_for(orders=_orders()), customers=np.array(["c", "a"]), products=np.array(["x"])
    )
    # rows and columns in the given order; a-y, b-y and c-z are outside: 3 pairs dropped
    assert got.customers.tolist() == ["c", "a"]
    np.testing.assert_array_equal(got.matrix.toarray(), [[0], [1]])
    assert got.dropped_lines == 3
    assert got.rows(["a", "zz", "c"]).tolist() == [1, -1, 0]


def test_bad_arguments_are_refused_clearly():
    eng = engine_for(orders=_orders())
    with pytest.raises(ValueError, match="since .* is after as_of"):
        interactions(eng, as_of="2025-01-01", since="2025-01-02")
    with pytest.raises(ValueError, match="half_life_days needs as_of"):
        interactions(eng, half_life_days=7)
    with pytest.raises(ValueError, match="as_of must be a date"):
        interactions(eng, as_of="soon")
    with pytest.raises(ValueError, match="value"):
        interactions(eng, value="revenue")
    text_ts = _orders().assign(ts=lambda d: d["ts"].astype(str))
    with pytest.raises(TimestampTypeError):
        interactions(engine_for(orders=text_ts))
    with pytest.raises(ValueError, match="lacks column"):
        interactions(engine_for(orders=_orders().drop(columns="order_id")))


def test_no_orders_gives_an_empty_matrix():
    got = interactions(engine_for(orders=_orders().iloc[:0]))
    assert got.shape == (0, 0)


def test_product_categories_codes_and_unknowns():
    products = pd.DataFrame({"product_id": ["x", "y"], "category": ["fruit", None]})
    codes, labels = product_categories(engine_for(products=products), np.array(["z", "y", "x"]))
    # z has no products row and y no category: -1; x is in the only category
    assert labels.tolist() == ["fruit"]
    assert codes.tolist() == [-1, -1, 0]
    # no products table at all: every product unknown
    codes, labels = product_categories(engine_for(orders=_orders()), np.array(["x"]))
    assert codes.tolist() == [-1] and labels.size == 0
