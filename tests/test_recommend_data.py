"""Recommendations on data nobody here designed (groceries) and on the planted synthetic truth.

* The shared ``groceries_basket/Groceries_dataset.csv`` through
  ``configs/examples/groceries_recommend.yaml``: ingest facts and the popularity baseline checked
  against an independent parse of the CSV written here, then item-kNN (popularity weight chosen
  on the validation window before the test window) against the popularity baseline on the
  90-day time split.
* The synthetic client: the planted co-purchase groups (``_truth/effects.json``) must be each
  other's most similar products, and every customer gets a full top-k.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from example_clients import ingest_example

from journeylib.engine import get_engine
from journeylib.recommend import (
    ItemKNN,
    PopularityRecommender,
    interactions,
    offline_evaluation,
    top_n,
)

EXAMPLE = Path("configs") / "examples" / "groceries_recommend.yaml"
GROCERIES = Path("groceries_basket") / "Groceries_dataset.csv"


def _raw_groceries(path: Path) -> pd.DataFrame:
    """The CSV read with the csv module: distinct (member, day, item) lines, days parsed, item
    names trimmed as the loader trims text ("cream cheese " has a trailing space)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    day = {d: dt.datetime.strptime(d, "%d-%m-%Y").date() for d in {r["Date"] for r in rows}}
    lines = {(r["Member_number"], day[r["Date"]], r["itemDescription"].strip()) for r in rows}
    df = pd.DataFrame(sorted(lines), columns=["member", "day", "item"])
    df.attrs["raw_rows"] = len(rows)
    return df


@pytest.fixture(scope="module")
def groceries(repo_root, shared_datasets, tmp_path_factory):
    """The example config ingested into a temporary folder."""
    if not (shared_datasets / GROCERIES).is_file():
        pytest.skip(f"{GROCERIES} not found under {shared_datasets}")
    tmp = tmp_path_factory.mktemp("groceries_recommend")
    config, _, result = ingest_example(repo_root, EXAMPLE, shared_datasets / GROCERIES.parent, tmp)
    engine = get_engine(config)
    evaluation = offline_evaluation(engine, config.recommend)
    train = interactions(engine)
    engine.close()
    return {
        "config": config,
        "result": result,
        "evaluation": evaluation,
        "train": train,
        "raw": _raw_groceries(shared_datasets / GROCERIES),
    }


@pytest.mark.shared_data
def test_groceries_ingest_through_the_mapping(groceries):
    raw, result, train = groceries["raw"], groceries["result"], groceries["train"]
    # 38,765 CSV lines, 759 exact repeats dropped: 38,006 order lines; 3,898 members
    assert raw.attrs["raw_rows"] == 38_765
    assert result.tables["orders"] == len(raw) == 38_006
    assert result.tables["customers"] == raw["member"].nunique() == 3_898
    notices = {(n["table"], n["check"]): n["count"] for n in result.manifest["notices"]}
    assert notices[("orders", "duplicate rows")] == 38_765 - 38_006
    # the matrix: every member x item they bought at least once; product ids are the names
    assert train.shape == (3_898, raw["item"].nunique()) == (3_898, 167)
    assert train.matrix.nnz == len(raw.drop_duplicates(["member", "item"]))
    assert train.products.tolist() == sorted(raw["item"].unique())


def _reference_popularity_recall(raw: pd.DataFrame, test_days: int, k: int) -> tuple[float, int]:
    """Popularity recall@k on the time split, from the CSV with plain pandas and loops."""
    end = raw["day"].max()
    start = end - dt.timedelta(days=test_days - 1)
    train, test = raw[raw["day"] < start], raw[raw["day"] >= start]
    buyers = train.groupby("item")["member"].nunique()
    ranking = sorted(buyers.index, key=lambda item: (-buyers[item], item))
    bought = train.groupby("member")["item"].agg(set)
    later = test.groupby("member")["item"].agg(set)
    recalls = []
    for member, items in bought.items():
        relevant = later.get(member, set()) - items
        if not relevant:
            continue
        top = [item for item in ranking if item not in items][:k]
        recalls.append(len(relevant & set(top)) / len(relevant))
    return float(np.mean(recalls)), len(recalls)


@pytest.mark.shared_data
def test_groceries_popularity_baseline_matches_an_independent_reference(groceries):
    spec = groceries["config"].recommend
    table = groceries["evaluation"].table
    row = table[
        (table["model"] == "popularity")
        & (table["population"] == "customers with orders")
        & (table["metric"] == "recall")
    ].iloc[0]
    expected, customers = _reference_popularity_recall(groceries["raw"], spec.test_days, spec.k)
    assert row["customers"] == customers
    assert row["value"] == pytest.approx(expected, abs=1e-12)


def _results(groceries) -> pd.Series:
    table = groceries["evaluation"].table
    table = table[table["population"] == "customers with orders"]
    return table.set_index(["model", "metric"])


@pytest.mark.shared_data
def test_groceries_itemknn_is_as_good_as_popularity_and_tuned_on_validation_only(groceries):
    ev = groceries["evaluation"]
    spec = groceries["config"].recommend
    # the popularity weight was chosen on the validation window, which ends before the test
    # window starts (never on the test window)
    assert spec.popularity_weight == "auto"
    assert ev.weight_curve is not None and ev.weight_curve["chosen"].sum() == 1
    assert ev.popularity_weight == float(
        ev.weight_curve.loc[ev.weight_curve["chosen"], "popularity_weight"].iloc[0]
    )
    assert ev.split.before().test_end < ev.split.test_start
    t = _results(groceries)
    knn, pop = t.loc[("item_knn", "recall")], t.loc[("popularity", "recall")]
    # both evaluated on the same customers; item-kNN is not significantly worse than
    # popularity (the paired 95% interval of the difference reaches above 0) ...
    assert knn["customers"] == pop["customers"] > 1000
    assert knn["diff_ci_high"] > 0
    # ... and recommends more of the catalogue
    assert t.loc[("item_knn", "coverage"), "value"] > t.loc[("popularity", "coverage"), "value"]


@pytest.mark.shared_data
def test_groceries_purchases_carry_no_signal_beyond_popularity(groceries):
    """Why item-kNN cannot beat popularity here: knowing that a member bought a product before
    the test window does not make them likelier to buy it (or anything else) in it than the
    product's popularity says. Per product, P(buy in test | bought before) / P(buy in test |
    not bought before), weighted by buyers, is 1 within a few percent (real grocery data shows
    strong repeat buying)."""
    raw = groceries["raw"]
    start = raw["day"].max() - dt.timedelta(days=groceries["config"].recommend.test_days - 1)
    before = (
        raw[raw["day"] < start].groupby(["member", "item"]).size().gt(0).unstack(fill_value=False)
    )
    after = (
        raw[raw["day"] >= start].groupby(["member", "item"]).size().gt(0).unstack(fill_value=False)
    )
    members = before.index.intersection(after.index)
    items = before.columns.intersection(after.columns)
    b = before.loc[members, items].to_numpy()
    a = after.loc[members, items].to_numpy()
    with_ = (a & b).sum(axis=0) / np.maximum(b.sum(axis=0), 1)
    without = (a & ~b).sum(axis=0) / np.maximum((~b).sum(axis=0), 1)
    weight = b.sum(axis=0)
    ratio = (with_ * weight).sum() / (without * weight).sum()
    assert 0.9 < ratio < 1.1


@pytest.mark.shared_data
@pytest.mark.xfail(
    strict=True,
    reason="issue 7 acceptance not met on groceries: item-kNN ties the popularity baseline on "
    "recall@10 (see test_groceries_purchases_carry_no_signal_beyond_popularity)",
)
def test_groceries_itemknn_beats_popularity_on_recall_at_10(groceries):
    t = _results(groceries)
    assert t.loc[("item_knn", "recall"), "value"] > t.loc[("popularity", "recall"), "value"]


# ---------------------------------------------------------------------------------------------
# synthetic data: the planted co-purchase structure
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_orders(synth_client):
    return interactions(synth_client.engine)


@pytest.mark.parametrize("similarity", ["cosine", "bm25", "jaccard"])
def test_synthetic_co_purchase_groups_are_each_others_most_similar(
    synth_client, synth_orders, similarity
):
    groups = synth_client.effects["co_purchase_groups"]  # the planted truth
    model = ItemKNN(similarity=similarity).fit(synth_orders)
    found = total = 0
    for group in groups:
        for sku in group:
            partners = set(group) - {sku}
            # a product in a group of n has n - 1 partners: they should be its top n - 1
            top = model.similar_items(sku, k=len(partners))["similar_product_id"]
            found += len(partners & set(top))
            total += len(partners)
    assert total == 22 + 2  # 10 groups: one triple (6 ordered pairs) and nine pairs (18)
    assert found / total >= 0.9


def test_synthetic_top_n_for_every_customer(synth_client, synth_orders):
    engine, truth = synth_client.engine, synth_client.truth
    customers = engine.query("SELECT customer_id FROM customers ORDER BY customer_id")[
        "customer_id"
    ]
    customers = customers.astype(object).to_numpy()
    persona = truth.set_index("customer_id")["persona"].reindex(customers).to_numpy(object)
    train_groups = (
        pd.Series(persona, index=customers).reindex(synth_orders.customers).to_numpy(object)
    )
    model = ItemKNN().fit(synth_orders)
    fallback = PopularityRecommender(by="persona", min_group_customers=10).fit(
        synth_orders, groups=train_groups
    )
    table = top_n(model, synth_orders, k=10, customers=customers, fallback=fallback, groups=persona)
    # one row per customer x rank, ten for everyone (96 products, nobody bought 86)
    assert len(table) == 10 * len(customers)
    assert not table.duplicated(["customer_id", "rank"]).any()
    # nobody is recommended a product they bought
    bought = synth_orders.to_frame()[["customer_id", "product_id"]].astype(str)
    clash = table[["customer_id", "product_id"]].astype(str).merge(bought)
    assert clash.empty
    # customers with orders get item-kNN first; customers without get their persona's ranking
    warm = table["customer_id"].astype(str).isin(set(synth_orders.customers))
    assert (table.loc[warm & (table["rank"] == 1), "source"] == "item_knn").all()
    cold_sources = set(table.loc[~warm, "source"].astype(str))
    assert (
        cold_sources <= {"persona_popularity", "popularity"}
        and "persona_popularity" in cold_sources
    )
