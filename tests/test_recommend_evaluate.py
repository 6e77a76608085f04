"""Time split, relevant products and ranking metrics of journeylib.recommend.evaluate."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pydantic import ValidationError
from text_tables import same_fields

from journeylib.config import RecommendSpec
from journeylib.engine import engine_for
from journeylib.recommend import (
    RecommendDataError,
    TimeSplit,
    TopN,
    customer_metrics,
    evaluate_topn,
    holdout,
    offline_evaluation,
    plot_evaluation,
    plot_weight_curve,
    time_split,
)

D = 1 / math.log2(3)  # the NDCG discount of rank 2


def _orders() -> pd.DataFrame:
    """Training days up to 8 January, test window 9-10 January (test_days=2, as_of 10 Jan).

    a: x (1 Jan), y (5 Jan); in the test x again and z (new to a)
    b: y (2 Jan); in the test w, a product nobody bought before
    c: x and z (3 Jan); nothing in the test
    d: first order in the test (y): a cold customer
    e: an order after the cut-off (ignored)
    """
    rows = [
        ("o1", "a", "x", "2025-01-01"),
        ("o2", "a", "y", "2025-01-05"),
        ("o3", "b", "y", "2025-01-02"),
        ("o4", "c", "x", "2025-01-03"),
        ("o4", "c", "z", "2025-01-03"),
        ("o5", "a", "x", "2025-01-09"),
        ("o6", "a", "z", "2025-01-10"),
        ("o7", "b", "w", "2025-01-09"),
        ("o8", "d", "y", "2025-01-10"),
        ("o9", "e", "x", "2025-01-11"),
    ]
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "ts"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True) + pd.Timedelta(hours=12)
    return df


SPLIT = TimeSplit(dt.date(2025, 1, 8), dt.date(2025, 1, 9), dt.date(2025, 1, 10))


def test_time_split_and_validation_window():
    eng = engine_for(orders=_orders())
    assert time_split(eng, test_days=2, as_of="2025-01-10") == SPLIT
    # default as_of: the last order day (11 January)
    assert time_split(eng, test_days=2).test_end == dt.date(2025, 1, 11)
    assert SPLIT.test_days == 2
    # the validation split is the window of the same length just before the test window
    assert SPLIT.before() == TimeSplit(
        dt.date(2025, 1, 6), dt.date(2025, 1, 7), dt.date(2025, 1, 8)
    )
    with pytest.raises(ValueError, match="test_days must be a positive integer"):
        time_split(eng, test_days=0)
    with pytest.raises(RecommendDataError, match="orders table is empty"):
        time_split(engine_for(orders=_orders().iloc[:0]), test_days=2)


def test_holdout_relevant_products_by_hand():
    ho = holdout(engine_for(orders=_orders()), SPLIT)
    assert ho.train.customers.tolist() == ["a", "b", "c"]
    assert ho.train.products.tolist() == ["x", "y", "z"]
    # w first sells in the test window: a column after the training products
    assert ho.new_products.tolist() == ["w"]
    # relevant = bought in the test window and not before: a -> z (x is a repeat), b -> w, c -> none
    rel = ho.relevant.toarray()
    np.testing.assert_array_equal(rel, [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert ho.evaluated.tolist() == [0, 1]
    # d's first order is in the test window: cold, relevant y
    assert ho.cold_customers.tolist() == ["d"]
    np.testing.assert_array_equal(ho.cold_relevant.toarray(), [[0, 1, 0, 0]])
    # without exclusion a's repeat of x is relevant too
    keep = holdout(engine_for(orders=_orders()), SPLIT, exclude_bought=False)
    np.testing.assert_array_equal(keep.relevant.toarray()[0], [1, 0, 1, 0])


def test_customer_metrics_by_hand():
    items = np.array([[0, 1, 2], [3, -1, -1], [4, 5, 6]])
    rel = sp.csr_matrix(np.array([[0, 1, 0, 0, 0, 1, 0], [0] * 7, [0, 0, 0, 0, 1, 1, 0]]))
    got = customer_metrics(items, rel)
    # row 0: relevant {1, 5}, one hit at rank 2: precision 1/3, recall 1/2,
    #        NDCG = (1/log2 3) / (1 + 1/log2 3)
    # row 1: nothing relevant: recall and NDCG undefined (NaN), precision 0
    # row 2: relevant {4, 5} at ranks 1 and 2: perfect
    assert got["hits"].tolist() == [1, 0, 2]
    np.testing.assert_allclose(got["precision"], [1 / 3, 0, 2 / 3])
    np.testing.assert_allclose(got["recall"], [0.5, np.nan, 1.0])
    np.testing.assert_allclose(got["ndcg"], [D / (1 + D), np.nan, 1.0])
    assert got["hit_rate"].tolist() == [1.0, 0.0, 1.0]


def _slow_metrics(items: np.ndarray, rel: np.ndarray) -> list[tuple]:
    out = []
    for row, r in zip(items, rel, strict=True):
        relevant = set(np.flatnonzero(r))
        hits = [1 if i in relevant else 0 for i in row]
        dcg = sum(h / math.log2(rank + 1) for rank, h in enumerate(hits, start=1))
        idcg = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(row), len(relevant)) + 1))
        out.append((sum(hits) / len(row), sum(hits) / len(relevant), dcg / idcg))
    return out


def test_customer_metrics_match_a_slow_reference():
    rng = np.random.default_rng(5)
    rel = (rng.random((200, 30)) < 0.1).astype(float)
    rel[rel.sum(axis=1) == 0, 0] = 1
    items = np.array([rng.choice(30, size=10, replace=False) for _ in range(200)])
    got = customer_metrics(items, sp.csr_matrix(rel))
    expected = np.array(_slow_metrics(items, rel))
    np.testing.assert_allclose(got[["precision", "recall", "ndcg"]].to_numpy(), expected)


def test_evaluate_topn_pairs_the_difference_by_customer():
    rel = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]))
    good = TopN(np.array([[0], [1], [0], [0]]), np.zeros((4, 1)), np.zeros((4, 1), np.int8))
    base = TopN(np.array([[0], [0], [0], [0]]), np.zeros((4, 1)), np.zeros((4, 1), np.int8))
    table = evaluate_topn({"good": good, "base": base}, rel, n_catalog=3, baseline="base")
    t = table.set_index(["model", "metric"])
    # recall@1: good hits customers 0, 1, 3 (3/4), base 0 and 3 (2/4); differences 0,1,0,0
    assert t.loc[("good", "recall"), "value"] == 0.75
    assert t.loc[("base", "recall"), "value"] == 0.5
    assert t.loc[("good", "recall"), "diff_vs_baseline"] == 0.25
    sd = np.std([0, 1, 0, 0], ddof=1) / 2
    np.testing.assert_allclose(
        t.loc[("good", "recall"), "diff_ci_high"], 0.25 + 1.96 * sd, rtol=1e-3
    )
    # coverage: good shows products 0 and 1 of 3, base only 0
    assert t.loc[("good", "coverage"), "value"] == pytest.approx(2 / 3)
    assert t.loc[("base", "coverage"), "value"] == pytest.approx(1 / 3)
    assert table["customers"].eq(4).all()
    assert len(table) == 2 * 5  # one row per model x metric
    fig = plot_evaluation(table)
    assert len(fig.data) == 2  # one bar trace per model
    with pytest.raises(ValueError, match="baseline 'nope'"):
        evaluate_topn({"good": good}, rel, n_catalog=3, baseline="nope")


def test_offline_evaluation_by_hand():
    spec = RecommendSpec(k=2, test_days=2, min_item_support=1)
    ev = offline_evaluation(engine_for(orders=_orders()), spec, as_of="2025-01-10")
    assert ev.split == SPLIT and ev.popularity_weight == 0.0 and ev.weight_curve is None
    t = ev.table.set_index(["population", "model", "metric"])["value"]
    # popularity (buyers x 2, y 2, z 1: x, y, z): a bought x, y -> [z]: hit at rank 1;
    # b bought y -> [x, z]: misses w
    pop = ("customers with orders", "popularity")
    assert t[(*pop, "precision")] == pytest.approx((1 / 2 + 0) / 2)
    assert t[(*pop, "recall")] == pytest.approx(0.5)
    assert t[(*pop, "ndcg")] == pytest.approx(0.5)
    assert t[(*pop, "coverage")] == pytest.approx(2 / 3)
    # cold d gets the global order x, y: y relevant at rank 2
    cold = ("new customers", "popularity")
    assert t[(*cold, "recall")] == 1.0
    assert t[(*cold, "ndcg")] == pytest.approx(D)
    # item-kNN: a {x, y} -> z (similar to x through c); b {y} -> x (through a), then z
    knn = ("customers with orders", "item_knn")
    assert t[(*knn, "recall")] == pytest.approx(0.5)
    assert set(ev.table["metric"]) == {"precision", "recall", "ndcg", "hit_rate", "coverage"}


def test_offline_evaluation_refuses_windows_without_data():
    eng = engine_for(orders=_orders())
    with pytest.raises(RecommendDataError, match="no orders up to"):
        offline_evaluation(eng, RecommendSpec(test_days=30), as_of="2025-01-10")
    # auto: the validation window 7-8 January holds no order
    spec = RecommendSpec(k=2, test_days=2, popularity_weight="auto")
    with pytest.raises(RecommendDataError, match="validation window"):
        offline_evaluation(eng, spec, as_of="2025-01-10")


def test_messages_and_notes_in_indonesian():
    eng = engine_for(orders=_orders())
    # 30 test days up to 10 January: the training data would end on 11 December, before the
    # first order (1 January)
    with pytest.raises(RecommendDataError) as caught:
        offline_evaluation(eng, RecommendSpec(test_days=30), as_of="2025-01-10")
    assert str(caught.value) == (
        "no orders up to 2024-12-11 to learn from (test window 2024-12-12..2025-01-10); choose a "
        "shorter test_days or a later as_of"
    )
    assert caught.value.text("id") == (
        "tidak ada pesanan hingga 2024-12-11 untuk dipelajari (periode uji 2024-12-12..2025-01-10);"
        " pilih test_days yang lebih pendek atau as_of yang lebih akhir"
    )
    assert caught.value.text() == str(caught.value)
    assert RecommendDataError("a plain message").text("id") == "a plain message"
    # d's first order falls in the test window (a cold customer); the persona fallback is asked
    # for but the engine has no persona assignments: a note says so, in the language asked for
    spec = RecommendSpec(k=2, test_days=2, min_item_support=1)
    ev = offline_evaluation(eng, spec, as_of="2025-01-10", personas=True, language="id")
    assert ev.notes == [
        "penetapan persona tidak ditemukan: pelanggan baru dievaluasi dengan produk terlaris "
        "secara keseluruhan"
    ]
    assert offline_evaluation(eng, spec, as_of="2025-01-10", personas=True).notes == [
        "no persona assignments: cold customers evaluated on global popularity"
    ]
    assert plot_evaluation(ev.table, language="id").layout.title.text == (
        "Evaluasi offline pada k = 2"
    )
    assert plot_evaluation(ev.table).layout.title.text == "Offline evaluation at k = 2"


def test_weight_curve_plot():
    curve = pd.DataFrame(
        {"popularity_weight": [0.0, 0.5, 1.0], "recall": [0.2, 0.3, 0.25],
         "ci_low": [0.1, 0.2, 0.15], "ci_high": [0.3, 0.4, 0.35]}
    )  # fmt: skip
    fig = plot_weight_curve(curve, k=10, language="id")
    line = fig.data[0]
    assert list(line.x) == [0.0, 0.5, 1.0] and list(line.y) == [0.2, 0.3, 0.25]
    # the error bars reach the interval: 0.3 - 0.2 = 0.1 above and below the first point
    assert line.error_y.array[0] == pytest.approx(0.1)
    assert line.error_y.arrayminus[0] == pytest.approx(0.1)
    assert fig.layout.title.text == "Recall@10 validasi menurut bobot produk terlaris"
    assert line.hovertemplate.startswith("bobot %{x:.1f}: recall@10 %{y:.1%}")
    en = plot_weight_curve(curve, k=10)
    assert en.layout.title.text == "Validation recall@10 by popularity weight"


def test_recommend_spec_validation():
    assert RecommendSpec().popularity_weight == 0.0
    assert RecommendSpec(popularity_weight="auto").popularity_weight == "auto"
    for bad in ({"popularity_weight": 1.5}, {"similarity": "pearson"}, {"k": 0}, {"x": 1}):
        with pytest.raises(ValidationError):
            RecommendSpec(**bad)


def test_every_text_exists_in_both_languages_with_thesame_fields():
    from journeylib.recommend import evaluate

    same_fields(evaluate._PLOT_TEXT)
    same_fields(evaluate._MESSAGES)
