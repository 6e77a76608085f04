"""ItemKNN, PopularityRecommender and the top-N table on tiny hand-computed matrices.

The matrix used throughout (customers x products, 1 = bought)::

         p0 p1 p2 p3
    u0    1  1  .  .
    u1    1  1  1  .
    u2    .  1  1  .
    u3    .  .  .  1

Buyers per product (support): p0 2, p1 3, p2 2, p3 1, so the popularity order is p1, p0, p2,
p3 (p0 and p2 tie on 2 buyers: the lower column first). Co-purchases: p0-p1 2 customers, p0-p2
1, p1-p2 2, p3 with nobody.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

from journeylib.recommend import (
    SOURCES,
    Interactions,
    ItemKNN,
    PopularityRecommender,
    top_n,
    topn_table,
)
from journeylib.recommend._base import TopN

X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=float)
COS01 = 2 / math.sqrt(2 * 3)  # 2 shared buyers / sqrt(2 buyers x 3 buyers)
COS02 = 1 / math.sqrt(2 * 2)
COS12 = 2 / math.sqrt(3 * 2)


def _knn(**kw) -> ItemKNN:
    return ItemKNN(min_item_support=1, **kw).fit(sp.csr_matrix(X))


def _row(*products: int) -> sp.csr_matrix:
    r = np.zeros((1, 4))
    r[0, list(products)] = 1
    return sp.csr_matrix(r)


# ---- similarities -----------------------------------------------------------------------------
def test_cosine_and_jaccard_similarities_by_hand():
    cos = _knn(similarity="cosine").similarity_.toarray()
    expected = np.array(
        [[0, COS01, COS02, 0], [COS01, 0, COS12, 0], [COS02, COS12, 0, 0], [0, 0, 0, 0]]
    )
    np.testing.assert_allclose(cos, expected, rtol=1e-6)
    # Jaccard: shared buyers / buyers of either: p0-p1 2/3, p0-p2 1/3, p1-p2 2/3
    jac = _knn(similarity="jaccard").similarity_.toarray()
    expected = np.array([[0, 2 / 3, 1 / 3, 0], [2 / 3, 0, 2 / 3, 0], [1 / 3, 2 / 3, 0, 0], [0] * 4])
    np.testing.assert_allclose(jac, expected, rtol=1e-6)


def _bm25_reference(x: np.ndarray, k1: float, b: float) -> np.ndarray:
    """The documented BM25 similarity, with loops (slow and obvious)."""
    n_users, n_items = x.shape
    length = x.sum(axis=0)
    avg = length[length > 0].mean()
    w = np.zeros_like(x)
    for u in range(n_users):
        idf = math.log(n_items / (x[u] > 0).sum())
        for i in range(n_items):
            if x[u, i] > 0:
                norm = 1 - b + b * length[i] / avg
                w[u, i] = x[u, i] * (k1 + 1) / (x[u, i] + k1 * norm) * idf
    out = np.zeros((n_items, n_items))
    for i in range(n_items):
        for j in range(n_items):
            if i != j:
                out[i, j] = sum(w[u, i] * w[u, j] for u in range(n_users))
    return out


def test_bm25_similarity_matches_a_slow_reference():
    got = _knn(similarity="bm25", bm25_k1=1.2, bm25_b=0.75).similarity_.toarray()
    np.testing.assert_allclose(got, _bm25_reference(X, 1.2, 0.75), rtol=1e-5)
    # u1 bought 3 of 4 products (idf log(4/3)) and weighs less than u0 and u2 (log 2): the
    # p0-p1 similarity rests on u0 and u1, p1-p2 on u1 and u2, p0-p2 on u1 alone
    assert got[0, 2] < got[0, 1]


def test_neighbours_keep_the_most_similar_and_ties_go_to_the_more_popular():
    sim = _knn(neighbours=1).similarity_.toarray()
    # p0 keeps p1 (0.816 > 0.5); p1's two neighbours tie at 2/sqrt(6): p0 and p2 both have 2
    # buyers, so the lower column (p0) wins; p2 keeps p1; p3 has none
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 0], expected[2, 1] = COS01, COS01, COS12
    np.testing.assert_allclose(sim, expected, rtol=1e-6)


def test_min_item_support_removes_rarely_bought_products():
    model = ItemKNN(min_item_support=3).fit(sp.csr_matrix(X))
    # only p1 has 3 buyers: no pair of products has support, nothing is similar
    assert model.similarity_.nnz == 0
    top = model.recommend(_row(0), k=2)
    # every slot comes from popularity (source 1): p1, then p2 (p0 was bought)
    assert top.items.tolist() == [[1, 2]] and top.source.tolist() == [[1, 1]]


# ---- recommend ---------------------------------------------------------------------------------
def test_top_n_by_hand_with_exclusion_and_popularity_fill():
    top = _knn().recommend(sp.csr_matrix(X), k=2)
    # u0 {p0,p1}: p2 scores cos02 + cos12; p3 is similar to nothing -> popularity fill
    # u1 {p0,p1,p2}: only p3 is left -> fill; then nothing: padding (-1)
    # u2 {p1,p2}: p0 scores cos01 + cos02, then fill p3
    # u3 {p3}: no similar product -> popularity p1, p0
    assert top.items.tolist() == [[2, 3], [3, -1], [0, 3], [1, 0]]
    assert top.source.tolist() == [[0, 1], [1, -1], [0, 1], [1, 1]]
    np.testing.assert_allclose(top.scores[0, 0], COS02 + COS12, rtol=1e-6)
    np.testing.assert_allclose(top.scores[2, 0], COS01 + COS02, rtol=1e-6)
    assert np.isnan(top.scores[0, 1])  # fill has no model score


def test_bought_products_may_be_recommended_when_not_excluded():
    top = _knn().recommend(_row(0, 1), k=3, exclude_bought=False)
    # p2: cos02 + cos12; p0 (voted by p1) and p1 (voted by p0) tie at cos01: the more
    # popular p1 first; a product never votes for itself
    assert top.items.tolist() == [[2, 1, 0]]
    np.testing.assert_allclose(top.scores[0], [COS02 + COS12, COS01, COS01], rtol=1e-6)


def test_pruned_neighbours_vote_only_for_their_top():
    top = _knn(neighbours=1).recommend(_row(0, 1), k=2)
    # p0 votes for p1 and p1 for p0, both bought: no candidate left, all from popularity
    assert top.items.tolist() == [[2, 3]] and top.source.tolist() == [[1, 1]]


def test_values_weigh_the_votes():
    x = X.copy()
    x[1, 2] = 3.0  # u1 bought p2 three times ("orders" interactions)
    model = ItemKNN(min_item_support=1).fit(sp.csr_matrix(x))
    # cosine on values: norms sqrt(2), sqrt(3), sqrt(1 + 9); p0.p2 = 1*3, p1.p2 = 1*3 + 1*1
    sim = model.similarity_.toarray()
    np.testing.assert_allclose(sim[0, 2], 3 / math.sqrt(2 * 10), rtol=1e-6)
    np.testing.assert_allclose(sim[1, 2], 4 / math.sqrt(3 * 10), rtol=1e-6)
    # a customer's vote is their value times the similarity
    row = sp.csr_matrix(np.array([[0.0, 0.0, 2.0, 0.0]]))
    top = model.recommend(row, k=1)
    np.testing.assert_allclose(top.scores[0, 0], 2 * sim[2, 1], rtol=1e-6)


def test_popularity_weight_blends_normalised_scores():
    top = _knn(popularity_weight=0.5).recommend(_row(1, 2), k=2)
    # u2 {p1,p2}: item-kNN p0 = cos01 + cos02, divided by the row's largest (itself) = 1;
    # popularity p0 2/3 of the most bought (p1, 3 buyers), p3 1/3; p3 has no item-kNN score
    assert top.items.tolist() == [[0, 3]]
    np.testing.assert_allclose(top.scores[0], [0.5 * 1 + 0.5 * 2 / 3, 0.5 * 1 / 3], rtol=1e-6)
    assert top.source.tolist() == [[0, 0]]
    # weight 1 is popularity alone: the same lists as the popularity recommender
    knn = _knn(popularity_weight=1.0).recommend(sp.csr_matrix(X), k=3)
    pop = PopularityRecommender().fit(sp.csr_matrix(X)).recommend(sp.csr_matrix(X), k=3)
    np.testing.assert_array_equal(knn.items, pop.items)


def test_category_cap_reranks_and_back_fills():
    model = PopularityRecommender().fit(sp.csr_matrix(X))
    empty = sp.csr_matrix((1, 4))
    cats = np.array([0, 0, 0, 1])  # p0-p2 category A, p3 category B
    # popularity order p1, p0, p2, p3; at most one per category: p1 (A), p3 (B)
    top = model.recommend(empty, k=2, categories=cats, max_per_category=1)
    assert top.items.tolist() == [[1, 3]]
    # k = 3 with only two categories: the capped p0 back-fills in score order
    top = model.recommend(empty, k=3, categories=cats, max_per_category=1)
    assert top.items.tolist() == [[1, 3, 0]]
    # unknown categories (-1) are never capped
    top = model.recommend(empty, k=3, categories=np.array([-1, -1, 0, 0]), max_per_category=1)
    assert top.items.tolist() == [[1, 0, 2]]
    # the same rule after item-kNN: u3 {p3} has no similar product, its pool is p1, p0, p2
    # (popularity fill); with p0, p1 in A and p2, p3 in B and one per category: p1, p2
    knn = _knn().recommend(_row(3), k=2, categories=np.array([0, 0, 1, 1]), max_per_category=1)
    assert knn.items.tolist() == [[1, 2]]


def test_recommend_never_builds_a_dense_matrix_and_chunks_agree(monkeypatch):
    rng = np.random.default_rng(3)
    x = sp.random(500, 40, density=0.08, random_state=rng, format="csr")
    model = ItemKNN(neighbours=5).fit(x)
    whole = model.recommend(x, k=5)
    import journeylib.recommend.itemknn as itemknn

    monkeypatch.setattr(itemknn, "CHUNK_ENTRIES", 50)  # many small chunks
    chunked = model.recommend(x, k=5)
    np.testing.assert_array_equal(whole.items, chunked.items)
    np.testing.assert_array_equal(whole.source, chunked.source)
    # bought products never come back
    bought = x.toarray() > 0
    items = whole.items
    assert not any(bought[r, i] for r in range(items.shape[0]) for i in items[r] if i >= 0)


def test_slow_reference_top_n_on_random_data():
    """Dense, obvious re-implementation of the documented scoring (ties: popularity)."""
    rng = np.random.default_rng(11)
    x = (rng.random((60, 12)) < 0.25).astype(float)
    model = ItemKNN(neighbours=4, min_item_support=2).fit(sp.csr_matrix(x))
    got = model.recommend(sp.csr_matrix(x), k=4)
    support = (x > 0).sum(axis=0)
    norms = np.sqrt((x**2).sum(axis=0))
    sim = np.zeros((12, 12))
    for i in range(12):
        for j in range(12):
            if i != j and support[i] >= 2 and support[j] >= 2 and (x[:, i] * x[:, j]).sum() > 0:
                sim[i, j] = (x[:, i] * x[:, j]).sum() / (norms[i] * norms[j])
    pop_rank = {p: r for r, p in enumerate(sorted(range(12), key=lambda p: (-support[p], p)))}
    kept = np.zeros_like(sim)
    for i in range(12):
        best = sorted(
            (j for j in range(12) if sim[i, j] > 0), key=lambda j: (-sim[i, j], pop_rank[j])
        )
        kept[i, best[:4]] = sim[i, best[:4]]
    for u in range(60):
        score = x[u] @ kept
        cand = [j for j in range(12) if score[j] > 0 and x[u, j] == 0]
        cand.sort(key=lambda j: (-round(score[j], 5), pop_rank[j]))
        fill = [j for j in sorted(range(12), key=pop_rank.get) if x[u, j] == 0 and j not in cand]
        expected = (cand + [j for j in fill if support[j] > 0])[:4]
        assert got.items[u][: len(expected)].tolist() == expected, u


def test_similar_items_by_label():
    train = Interactions(
        sp.csr_matrix(X, dtype=np.float32),
        np.array(["u0", "u1", "u2", "u3"], dtype=object),
        np.array(["bread", "milk", "butter", "soap"], dtype=object),
    )
    model = ItemKNN(min_item_support=1).fit(train)
    got = model.similar_items("milk", k=3)
    # milk ~ bread and butter tie at 2/sqrt(6): bread first (same buyers, lower column); soap
    # shares no buyer and is not listed
    assert got["similar_product_id"].tolist() == ["bread", "butter"]
    assert got["rank"].tolist() == [1, 2]
    np.testing.assert_allclose(got["similarity"], [COS01, COS12], rtol=1e-6)
    assert (got["product_id"] == "milk").all()
    with pytest.raises(KeyError, match="not in the fitted catalogue"):
        model.similar_items("beer")


@parametrize_with_checks([ItemKNN(min_item_support=1), PopularityRecommender()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_estimator_contract_and_bad_input():
    model = ItemKNN()
    assert model.get_params()["neighbours"] == 50  # __init__ stores parameters only
    assert not hasattr(model, "similarity_")
    with pytest.raises(Exception, match="not fitted"):
        model.recommend(sp.csr_matrix(X))
    x = sp.csr_matrix(X)
    before = x.copy()
    assert ItemKNN().fit(x) is not None
    assert (x != before).nnz == 0  # the input is not modified
    with pytest.raises(ValueError, match="Negative values"):
        ItemKNN().fit(sp.csr_matrix(-X))
    with pytest.raises(ValueError, match="NaN"):
        ItemKNN().fit(np.where(X > 0, np.nan, 0))
    with pytest.raises(ValueError, match="similarity must be"):
        ItemKNN(similarity="pearson").fit(x)
    with pytest.raises(ValueError, match="neighbours"):
        ItemKNN(neighbours=0).fit(x)
    with pytest.raises(ValueError, match="popularity_weight"):
        ItemKNN(popularity_weight=1.5).fit(x)
    fitted = _knn()
    with pytest.raises(ValueError, match="3 product columns but the model was fitted on 4"):
        fitted.recommend(sp.csr_matrix((1, 3)))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        fitted.recommend(x, k=0)


def test_one_product_catalogue():
    one = sp.csr_matrix(np.array([[1.0], [0.0], [1.0]]))
    model = ItemKNN(min_item_support=1).fit(one)
    assert model.similarity_.nnz == 0
    top = model.recommend(one, k=3)
    # buyers have nothing left; the customer without the product gets it from popularity
    assert top.items.tolist() == [[-1, -1, -1], [0, -1, -1], [-1, -1, -1]]
    assert top.source.tolist() == [[-1, -1, -1], [1, -1, -1], [-1, -1, -1]]


# ---- popularity ---------------------------------------------------------------------------------
GROUP_X = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 0], [0, 1, 1], [0, 1, 0]], dtype=float)
GROUPS = ["g1", "g1", "g2", "g2", None]


def test_popularity_by_persona_and_global_fallback():
    # global buyers: p0 2, p1 3, p2 2 -> p1, p0, p2; g1: p0 2, p2 1; g2: p1 2, p2 1
    model = PopularityRecommender(by="persona", min_group_customers=2)
    model.fit(sp.csr_matrix(GROUP_X), groups=GROUPS)
    assert model.groups_ == ["g1", "g2"]
    assert model.group_size_.tolist() == [2, 2]
    cold = sp.csr_matrix((4, 3))
    top = model.recommend(cold, k=3, groups=["g1", "g2", None, "g3"])
    # g1: p0 (2 of 2 buyers), p2 (1 of 2), then p1 (never bought in g1) from the global order
    assert top.items[0].tolist() == [0, 2, 1] and top.source[0].tolist() == [0, 0, 1]
    np.testing.assert_allclose(top.scores[0, :2], [1.0, 0.5])
    # g2: p1, p2, then p0 from the global order
    assert top.items[1].tolist() == [1, 2, 0]
    # no persona and an unknown persona: the global order, scored by the share of customers
    assert top.items[2].tolist() == [1, 0, 2] == top.items[3].tolist()
    np.testing.assert_allclose(top.scores[2], [3 / 5, 2 / 5, 2 / 5])
    # personas smaller than min_group_customers use the global order
    small = PopularityRecommender(by="persona", min_group_customers=3)
    small.fit(sp.csr_matrix(GROUP_X), groups=GROUPS)
    assert small.groups_ == []
    assert small.recommend(cold, k=1, groups=["g1"] * 4).items[:, 0].tolist() == [1] * 4


def test_popularity_needs_groups_by_persona():
    with pytest.raises(ValueError, match="needs groups="):
        PopularityRecommender(by="persona").fit(sp.csr_matrix(GROUP_X))
    with pytest.raises(ValueError, match="groups has 2 entries but X has 5 rows"):
        PopularityRecommender(by="persona").fit(sp.csr_matrix(GROUP_X), groups=["a", "b"])
    with pytest.raises(ValueError, match="by must be"):
        PopularityRecommender(by="segment").fit(sp.csr_matrix(GROUP_X))


# ---- the tidy table -------------------------------------------------------------------------------
def test_top_n_table_for_warm_and_cold_customers():
    train = Interactions(
        sp.csr_matrix(X, dtype=np.float32),
        np.array(["u0", "u1", "u2", "u3"], dtype=object),
        np.array(["p0", "p1", "p2", "p3"], dtype=object),
    )
    model = ItemKNN(min_item_support=1).fit(train)
    fallback = PopularityRecommender(by="persona", min_group_customers=1).fit(
        train, groups=["a", "a", "b", "b"]
    )
    table = top_n(
        model, train, k=2, customers=["u2", "new1", "new2"], fallback=fallback,
        groups=["b", "a", None],
    )  # fmt: skip
    # u2 as by hand above: p0 (item_knn), p3 (popularity fill); new1 has no orders: persona a
    # bought p0 and p1 twice each (tie: the globally more popular p1 first); new2 no persona
    assert table["customer_id"].astype(str).tolist() == ["u2", "u2", "new1", "new1", "new2", "new2"]
    assert table["product_id"].astype(str).tolist() == ["p0", "p3", "p1", "p0", "p1", "p0"]
    assert table["source"].astype(str).tolist() == [
        "item_knn", "popularity", "persona_popularity", "persona_popularity", "popularity",
        "popularity",
    ]  # fmt: skip
    assert table["rank"].tolist() == [1, 2, 1, 2, 1, 2]
    # one row per customer x rank
    assert not table.duplicated(["customer_id", "rank"]).any()
    with pytest.raises(ValueError, match="more than once"):
        top_n(model, train, customers=["u0", "u0"], fallback=fallback)
    with pytest.raises(ValueError, match="1 customer\\(s\\) have no orders"):
        top_n(model, train, customers=["new1"])


def test_top_n_leaves_out_padding():
    train = Interactions(
        sp.csr_matrix(np.array([[1.0, 1.0]])), np.array(["a"], object), np.array(["x", "y"], object)
    )
    table = top_n(ItemKNN(min_item_support=1).fit(train), train, k=3)
    # a bought both products: nothing left to recommend, no rows
    assert len(table) == 0
    assert list(table.columns) == ["customer_id", "rank", "product_id", "score", "source"]
    assert isinstance(table, pd.DataFrame)


def test_topn_table_against_a_cell_by_cell_reference_with_gaps_anywhere():
    # padding (-1) anywhere in a row, not only at its end; the reference walks the cells
    rng = np.random.default_rng(3)
    n, k = 300, 7
    items = rng.integers(-1, 20, (n, k))
    scores, labels = rng.random((n, k)), rng.integers(0, 3, (n, k)).astype(np.int8)
    source = rng.integers(-1, 2, (n, k)).astype(np.int8)
    customers = np.array([f"c{i}" for i in range(n)], dtype=object)
    products = np.array([f"p{j}" for j in range(20)], dtype=object)
    for given in (None, labels):
        table = topn_table(TopN(items, scores, source), customers, products, source_labels=given)
        expected = [
            (customers[r], c + 1, products[items[r, c]], scores[r, c],
             SOURCES[(0 if source[r, c] == 0 else 1) if given is None else given[r, c]])
            for r in range(n) for c in range(k) if items[r, c] >= 0
        ]  # fmt: skip
        got = list(
            zip(
                table["customer_id"].astype(str), table["rank"], table["product_id"].astype(str),
                table["score"], table["source"].astype(str), strict=True,
            )
        )  # fmt: skip
        assert got == expected
        assert table["rank"].dtype == np.int64


def _persona_top_products_slow(recs: pd.DataFrame, persona_of: pd.Series, missing: str, top: int):
    """The notebook's former pandas code: every row tagged with its persona, then grouped."""
    tagged = recs[["customer_id", "product_id"]].assign(
        persona_label=recs["customer_id"].map(persona_of).astype(object).fillna(missing)
    )
    out = (
        tagged.groupby(["persona_label", "product_id"], observed=True)
        .size()
        .reset_index(name="customers")
    )
    size = tagged.groupby("persona_label")["customer_id"].nunique()
    out["share"] = out["customers"] / out["persona_label"].map(size)
    out["rank"] = (
        out.groupby("persona_label")["customers"]
        .rank(method="first", ascending=False)
        .astype("int64")
    )
    return out[out["rank"] <= top].sort_values(["persona_label", "rank"], ignore_index=True)


def test_persona_top_products_by_hand_and_against_the_row_by_row_reference(monkeypatch):
    from journeylib.recommend import persona_top_products, topn

    recs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "c", "d"],
            "product_id": ["p1", "p2", "p1", "p3", "p2", "p3", "p3"],
        }
    )
    personas = pd.Series({"a": "Hunters", "b": "Hunters", "c": "Loyal"})  # d has none
    got = persona_top_products(recs, personas, missing="(no persona)", top=2)
    # Hunters (a, b): p1 twice, p2 and p3 once each (tie: p2 first); Loyal (c): p2, p3; d: p3
    assert got[["persona_label", "product_id", "customers", "rank"]].values.tolist() == [
        ["(no persona)", "p3", 1, 1],
        ["Hunters", "p1", 2, 1],
        ["Hunters", "p2", 1, 2],
        ["Loyal", "p2", 1, 1],
        ["Loyal", "p3", 1, 2],
    ]
    assert got["share"].tolist() == [1.0, 1.0, 0.5, 1.0, 1.0]
    rng = np.random.default_rng(8)
    n = 3_000
    ids = [f"c{i:05d}" for i in range(n)]
    recs = pd.DataFrame(
        {
            "customer_id": pd.Categorical(np.repeat(ids, 4)),
            "product_id": [f"p{v:03d}" for v in rng.integers(0, 60, 4 * n)],
        }
    ).drop_duplicates(ignore_index=True)
    personas = pd.Series(rng.choice(["A", "B", "C"], n), index=ids)[rng.random(n) < 0.8]
    for top in (1, 5):
        got = persona_top_products(recs, personas, missing="(none)", top=top)
        want = _persona_top_products_slow(recs, personas, "(none)", top)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # counted in slices of 1,000 of the ~12,000 rows, product ids categorical: the same
    monkeypatch.setattr(topn, "_COUNT_SLICE", 1_000)
    sliced = recs.assign(product_id=recs["product_id"].astype("category"))
    got = persona_top_products(sliced, personas, missing="(none)", top=5)
    want = _persona_top_products_slow(recs, personas, "(none)", 5)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
