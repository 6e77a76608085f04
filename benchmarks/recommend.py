"""Recommendation benchmark stages (issue 7, notebook ``50_recommendations``).

Stages (group ``recommendations``; registered by importing this module, which
:mod:`benchmarks.run` and :mod:`benchmarks.report` do)::

    recommend_10k         generated 1M customers x 10,000 products: ItemKNN fit + top-10 of
                          every customer + the tidy table (the issue's target: < 2 minutes)
    recommend_orders      the data set's real orders (96 products): interactions + ItemKNN and
                          popularity fits + top-10 of every customer of the customers table
    recommend_evaluation  the data set's offline evaluation (time split, config defaults)

``recommend_10k`` does not read the data set: it draws its own customer x product matrix
(:func:`generate`, seed :data:`SEED`) with ``--customers`` rows (1M by default) and
:data:`N_PRODUCTS` columns, outside the timing (``generate`` phase, reported apart). Each
customer buys ``1 + Poisson(4)`` products drawn from a Zipf-like popularity
(``p(rank r) ~ 1 / r``, ranks shuffled over the columns), and :data:`N_PAIRS` planted pairs of
mid-popular products: a buyer of one also buys the other with probability 0.5 (the stage
reports how many pairs come out as each other's most similar product). The timed part is
``ItemKNN(similarity="cosine", neighbours=50, min_item_support=2).fit`` (``fit``),
``recommend(X, k=10)`` for every customer (``recommend``) and ``topn_table`` (``table``: one
row per customer x rank, 10M rows).

The other two read the processed tables of the data set through the config's engine
(``ctx.engine()``) with the benchmark config (``synth.yaml``: ``as_of`` 2025-06-30), whose
``recommend`` section is absent: :class:`journeylib.config.RecommendSpec` defaults. There are no
persona assignments in the benchmark folders, so customers without orders get the global
popularity.

This module imports only the standard library at the top: :mod:`benchmarks.run` imports it in
every interpreter, including the comparison venvs, where journeylib is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # python benchmarks/recommend.py ...: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.personas import _mark  # noqa: E402
from benchmarks.stages import Context, _impl, stage  # noqa: E402

GROUP = "recommendations"
SEED = 20261123
N_PRODUCTS = 10_000
N_PAIRS = 20
MEAN_PRODUCTS = 5.0
K = 10


def generate(n_customers: int, n_products: int = N_PRODUCTS, *, seed: int = SEED):
    """A sparse 0/1 customers x products matrix with power-law popularity and planted pairs.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        The matrix and the planted pairs as an ``(N_PAIRS, 2)`` array of column numbers.
    """
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per_customer = 1 + rng.poisson(MEAN_PRODUCTS - 1, n_customers)
    p = 1.0 / np.arange(1, n_products + 1)
    p /= p.sum()
    column_of_rank = rng.permutation(n_products)
    rows = np.repeat(np.arange(n_customers), per_customer)
    cols = column_of_rank[rng.choice(n_products, size=rows.size, p=p)]
    # pairs among the products ranked 100-139 by popularity (bought by ~0.5% of customers)
    pairs = column_of_rank[100 : 100 + 2 * N_PAIRS].reshape(N_PAIRS, 2)
    partner = np.full(n_products, -1)
    partner[pairs[:, 0]], partner[pairs[:, 1]] = pairs[:, 1], pairs[:, 0]
    add = (partner[cols] >= 0) & (rng.random(rows.size) < 0.5)
    rows = np.concatenate([rows, rows[add]])
    cols = np.concatenate([cols, partner[cols[add]]])
    X = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_customers, n_products)
    )
    X.sum_duplicates()
    X.data[:] = 1
    return X, pairs


def _top_summary(top) -> dict:
    import numpy as np

    return {
        "rows": int(top.items.shape[0]),
        "k": int(top.items.shape[1]),
        "slots_from_model": int((top.source == 0).sum()),
        "slots_from_popularity_fill": int((top.source == 1).sum()),
        "empty_slots": int((top.source == -1).sum()),
        "distinct_products": int(np.unique(top.items[top.items >= 0]).size),
        "items_checksum": int(top.items.astype(np.int64).sum()),
    }


@stage("recommend_10k", group=GROUP, needs="none")
def recommend_10k(ctx: Context) -> dict:
    """Generated --customers x 10,000 products: ItemKNN fit + top-10 for every customer + the
    tidy table (generation outside the timing)."""
    import numpy as np

    rec, ctx.info["impl_recommend"] = _impl(
        "journeylib.recommend", ["ItemKNN", "topn_table", "TopN"]
    )
    with ctx.timed("generate_seconds"):
        X, pairs = generate(ctx.customers)
    _mark(ctx, "generate")
    customers = np.array([f"c{i}" for i in range(X.shape[0])], dtype=object)
    products = np.array([f"p{j}" for j in range(X.shape[1])], dtype=object)
    model = rec.ItemKNN(similarity="cosine", neighbours=50, min_item_support=2)
    with ctx.timed():
        with ctx.timed("fit_seconds"):
            model.fit(X)
        _mark(ctx, "fit")
        with ctx.timed("recommend_seconds"):
            top = model.recommend(X, K)
        _mark(ctx, "recommend")
        with ctx.timed("table_seconds"):
            table = rec.topn_table(top, customers, products)
        _mark(ctx, "table")
    sim = model.similarity_
    found = 0
    for a, b in pairs:
        for i, j in ((a, b), (b, a)):
            row = sim[i]
            found += bool(row.nnz) and int(row.indices[np.argmax(row.data)]) == j
    return {
        "customers": int(X.shape[0]),
        "products": int(X.shape[1]),
        "interactions": int(X.nnz),
        "similarity_entries": int(sim.nnz),
        "planted_pairs_top1": f"{found} of {2 * len(pairs)}",
        "top": _top_summary(top),
        "table_rows": int(len(table)),
        "table_mb": round(table.memory_usage(deep=False).sum() / 2**20, 1),
    }


@stage("recommend_orders", group=GROUP)
def recommend_orders(ctx: Context) -> dict:
    """interactions(as_of) + ItemKNN (config defaults) + popularity + top_n of every customer of
    the customers table (customers without orders: global popularity)."""
    import numpy as np

    rec, ctx.info["impl_recommend"] = _impl(
        "journeylib.recommend", ["interactions", "ItemKNN", "PopularityRecommender", "top_n"]
    )
    config = ctx.config()
    spec = config.recommend
    ctx.info["spec"] = spec.model_dump(mode="json")
    engine = ctx.engine()
    try:
        with ctx.timed():
            with ctx.timed("interactions_seconds"):
                train = rec.interactions(
                    engine,
                    as_of=config.effective_as_of,
                    value=spec.interaction,
                    half_life_days=spec.half_life_days,
                )
            _mark(ctx, "interactions")
            with ctx.timed("customers_seconds"):
                customers = engine.query("SELECT customer_id FROM customers")["customer_id"]
                customers = customers.astype(object).to_numpy()
            with ctx.timed("fit_seconds"):
                weight = spec.popularity_weight if spec.popularity_weight != "auto" else 0.0
                model = rec.ItemKNN(
                    similarity=spec.similarity,
                    neighbours=spec.neighbours,
                    min_item_support=spec.min_item_support,
                    popularity_weight=weight,
                ).fit(train)
                fallback = rec.PopularityRecommender().fit(train)
            with ctx.timed("top_n_seconds"):
                table = rec.top_n(
                    model,
                    train,
                    k=spec.k,
                    customers=customers,
                    exclude_bought=spec.exclude_bought,
                    fallback=fallback,
                )
            _mark(ctx, "top_n")
    finally:
        engine.close()
    sources = table["source"].value_counts()
    return {
        "as_of": str(train.as_of),
        "customers": int(len(customers)),
        "customers_with_orders": int(train.shape[0]),
        "products": int(train.shape[1]),
        "interactions": int(train.matrix.nnz),
        "table_rows": int(len(table)),
        "rows_per_source": {str(k): int(v) for k, v in sources.items()},
        "customers_with_k": int(
            (table.groupby("customer_id", observed=True).size() == spec.k).sum()
        ),
        "mean_score": round(float(np.nanmean(table["score"].to_numpy())), 6),
    }


@stage("recommend_evaluation", group=GROUP)
def recommend_evaluation(ctx: Context) -> dict:
    """offline_evaluation(engine, config.recommend, as_of=config.effective_as_of): time split,
    item-kNN vs global popularity on customers with orders, popularity on new customers."""
    rec, ctx.info["impl_recommend"] = _impl("journeylib.recommend", ["offline_evaluation"])
    config = ctx.config()
    engine = ctx.engine()
    try:
        with ctx.timed():
            ev = rec.offline_evaluation(engine, config.recommend, as_of=config.effective_as_of)
    finally:
        engine.close()
    _mark(ctx, "evaluation")
    t = ev.table
    return {
        "split": {k: str(v) for k, v in vars(ev.split).items()},
        "popularity_weight": ev.popularity_weight,
        "train_shape": list(ev.holdout.train.shape),
        "table": [
            {
                "model": r.model,
                "population": r.population,
                "metric": r.metric,
                "value": round(float(r.value), 4),
                "diff_vs_baseline": None
                if r.diff_vs_baseline != r.diff_vs_baseline
                else round(float(r.diff_vs_baseline), 4),
                "customers": int(r.customers),
            }
            for r in t.itertuples(index=False)
        ],
    }
