"""Notebook 50_recommendations executed with papermill: the synthetic client (with persona and
churn tables next to the processed tables, the category cap and ``popularity_weight: auto``),
tiny clients for the edge cases (a one-product catalogue with customers who never ordered, no
orders at all) and the shared groceries data through its example config.

The saved tables are what the report shows and the client loads into their tools, so the tests
assert on them: one action per customer, value at stake recomputed from the planted churn table,
an export without identifying columns, at most k products per customer and none already bought,
and an evaluation table with both models.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from notebook_runs import output_table, run_notebook

NOTEBOOK = "50_recommendations"
EXPORT_COLUMNS = ["customer_id", "action", "action_label", "channel", "reason"]
NO_ACTION = "(no action)"
_table = output_table


def _check_actions(out: Path, customers: set[str]) -> pd.DataFrame:
    """One action per customer; summary, unmatched counts and export agree with it."""
    actions = _table(out, "customer_actions")
    assert actions["customer_id"].is_unique and set(actions["customer_id"]) == customers
    summary = _table(out, "action_summary").set_index("action")
    counts = actions["action"].value_counts()
    assert summary["customers"].sum() == len(actions)
    assert summary.loc[summary["customers"] > 0, "customers"].to_dict() == counts.to_dict()
    unmatched = int((actions["action"] == NO_ACTION).sum())
    assert summary.loc[NO_ACTION, "customers"] == unmatched
    assert _table(out, "customers_without_action")["customers"].sum() == unmatched
    # the e-mail export: every customer with an action, the agreed columns and nothing else
    export = pd.read_csv(out / "tables" / "next_best_actions.csv", dtype=str, keep_default_na=False)
    assert export.columns.tolist() == EXPORT_COLUMNS
    with_action = actions[actions["action"] != NO_ACTION]
    assert sorted(export["customer_id"]) == sorted(with_action["customer_id"])
    assert (export["reason"] != "").all() and (export["action_label"] != "").all()
    rules = _table(out, "playbook_rules")
    assert rules["priority"].tolist() == list(range(1, len(rules) + 1))
    return actions


def _check_recommendations(out: Path, customers: set[str], bought: pd.DataFrame, k: int):
    """At most k products per customer, ranked 1..n, none already bought, everyone listed who
    has a product left."""
    recs = _table(out, "product_recommendations")
    recs["customer_id"] = recs["customer_id"].astype(str)
    recs["product_id"] = recs["product_id"].astype(str)
    assert not recs.duplicated(["customer_id", "rank"]).any()
    assert not recs.duplicated(["customer_id", "product_id"]).any()
    per = recs.groupby("customer_id")["rank"].agg(["size", "max"])
    assert (per["size"] <= k).all() and (per["size"] == per["max"]).all()  # ranks 1..n
    assert set(per.index) <= customers
    clash = recs.merge(bought, on=["customer_id", "product_id"])
    assert clash.empty, f"{len(clash)} recommendations of products already bought"
    csv = pd.read_csv(out / "tables" / "product_recommendations.csv", dtype={"customer_id": str})
    assert len(csv) == len(recs)
    return recs


def _bought(engine, day: str) -> pd.DataFrame:
    """Customer x product pairs ordered before the end of ``day`` (an independent query)."""
    return engine.query(
        "SELECT DISTINCT CAST(customer_id AS VARCHAR) AS customer_id, "
        "CAST(product_id AS VARCHAR) AS product_id FROM orders "
        f"WHERE ts < TIMESTAMPTZ '{day} 00:00:00+00' + INTERVAL 1 DAY"
    ).astype(str)


# ---- the synthetic client ----------------------------------------------------------------------
@pytest.mark.slow
def test_notebook_on_the_synthetic_client(synth_client, repo_root, tmp_path):
    from journeylib.config import load_config
    from journeylib.io import prepare, write_table

    cfg = yaml.safe_load(Path(synth_client.config_path).read_text())
    cfg["output"] = {
        "processed_dir": str(tmp_path / "processed"),
        "reports_dir": str(tmp_path / "reports"),
    }
    cfg["recommend"] = {"k": 10, "max_per_category": 3, "popularity_weight": "auto"}
    cfg["recommend"]["min_persona_customers"] = 10
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    config = load_config(tmp_path / "config.yaml")
    prepare(config)
    processed = config.processed_dir
    # what the personas and churn pages would have written: the planted personas, and a churn
    # table made up here (p = 0.8 for the planted churners, else 0.1; value = 100 per order)
    truth = synth_client.truth
    names = sorted(truth["persona"].unique())
    personas = pd.DataFrame(
        {
            "customer_id": truth["customer_id"],
            "persona": truth["persona"].map({p: i + 1 for i, p in enumerate(names)}),
            "persona_label": truth["persona"],
        }
    )
    write_table(personas, processed / "persona_assignments.parquet")
    risk = pd.DataFrame(
        {
            "customer_id": truth["customer_id"],
            "churn_probability": np.where(truth["churned"], 0.8, 0.1),
            "value": 100.0 * truth["n_orders"],
        }
    )
    write_table(risk, processed / "churn_at_risk.parquet")

    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    engine = synth_client.engine
    everyone = set(engine.query("SELECT customer_id FROM customers")["customer_id"].astype(str))

    # ---- next best action
    actions = _check_actions(out, everyone)
    planted = risk.set_index("customer_id")
    p = actions["customer_id"].map(planted["churn_probability"])
    value = actions["customer_id"].map(planted["value"])
    # value at stake per action = sum of the planted p x value of its customers
    expected = (p * value).groupby(actions["action"]).sum(min_count=1)
    summary = _table(out, "action_summary").set_index("action")
    for action, stake in expected.dropna().items():
        assert summary.loc[action, "value_at_stake"] == pytest.approx(stake)
    # win_back (first rule): high risk (p 0.8 >= 0.5) and among the 20% most valuable buyers
    positive = np.sort(value[value > 0].to_numpy())[::-1]
    cut = positive[math.ceil(0.2 * len(positive)) - 1]  # value of the last high-value customer
    win_back = actions["rule"] == "win_back"
    assert win_back.any()
    assert (p[win_back] == 0.8).all() and (value[win_back] >= cut).all()
    assert win_back[(p == 0.8) & (value > cut)].all()
    assert "observational, not an experiment" in text
    assert "**Export for the e-mail tool:**" in text and "no e-mail address" in text
    uplift = _table(out, "cart_recovery_uplift")
    assert uplift["contacted"].tolist() == [True, False] and uplift["carts"].sum() > 0

    # ---- product recommendations
    bought = _bought(engine, "2025-06-30")
    recs = _check_recommendations(out, everyone, bought, k=10)
    # 96 products and nobody bought 86: everyone gets a full list
    assert set(recs["customer_id"]) == everyone and (recs.groupby("customer_id").size() == 10).all()
    # diversity: at most 3 products of one category in a list (8 categories: always possible)
    products = engine.query("SELECT product_id, name, category FROM products").astype(str)
    per_category = recs[["customer_id", "product_id"]].merge(products, on="product_id")
    assert per_category.groupby(["customer_id", "category"]).size().max() <= 3
    # name and category from the product table
    named = recs.merge(products, on="product_id", suffixes=("", "_product"))
    assert (named["name"].astype(str) == named["name_product"]).all()
    assert (named["category"].astype(str) == named["category_product"]).all()
    # buyers start with item-kNN; customers without orders get their persona's best sellers
    buyers = set(bought["customer_id"])
    first = recs[recs["rank"] == 1].set_index("customer_id")["source"].astype(str)
    assert (first[first.index.isin(buyers)] == "item_knn").mean() > 0.9
    cold = set(first[~first.index.isin(buyers)])
    assert cold <= {"persona_popularity", "popularity"} and "persona_popularity" in cold

    # per persona: the five products recommended to most of its customers, counted here again
    by_persona = _table(out, "recommendations_by_persona")
    label = personas.set_index("customer_id")["persona_label"]
    tagged = recs.assign(persona_label=recs["customer_id"].map(label).fillna("(no persona)"))
    recount = tagged.groupby(["persona_label", "product_id"]).size()
    got = by_persona.set_index(["persona_label", "product_id"])["customers"]
    assert (got == recount.reindex(got.index)).all()
    assert (by_persona.groupby("persona_label")["rank"].max() <= 5).all()
    top_count = recount.groupby(level=0).max()
    firsts = by_persona[by_persona["rank"] == 1].set_index("persona_label")["customers"]
    assert (firsts == top_count.reindex(firsts.index)).all()
    assert set(names) <= set(by_persona["persona_label"])

    # similar products: the planted partners of a best seller are among its neighbours
    similar = _table(out, "similar_products")
    groups = [set(g) for g in synth_client.effects["co_purchase_groups"]]
    for sku, rows in similar.groupby("product_id"):
        partners = set().union(*(g for g in groups if sku in g)) - {sku}
        if partners:
            assert partners & set(rows["similar_product_id"]), sku

    # ---- evaluation: both models on the customers with orders, new customers apart
    evaluation = _table(out, "recommend_evaluation")
    warm = evaluation[evaluation["population"] == "customers with orders"]
    assert set(warm["model"]) == {"item_knn", "popularity"}
    assert set(warm["metric"]) == {"precision", "recall", "ndcg", "hit_rate", "coverage"}
    assert warm["value"].between(0, 1).all() and (warm["k"] == 10).all()
    cold_models = set(evaluation.loc[evaluation["population"] == "new customers", "model"])
    assert cold_models == {"popularity", "persona_popularity"}
    curve = _table(out, "popularity_weight_curve")
    assert len(curve) == 11 and curve["chosen"].sum() == 1
    assert "chose a weight of" in text and "recall@10" in text


# ---- edge cases on tiny clients -----------------------------------------------------------------
def _tiny_config(tmp_path: Path, files: dict[str, str], **extra: object) -> dict:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in files.items():
        (raw / name).write_text(text, encoding="utf-8")
    sources = {
        "customers": {"path": "customers.csv", "columns": {"customer_id": "id"}},
        "events": {
            "path": "events.csv",
            "columns": {"customer_id": "cid", "ts": "ts", "event": "event", "channel": "ch"},
        },
    }
    if "orders.csv" in files:
        sources["orders"] = {
            "path": "orders.csv",
            "columns": {
                "order_id": "order_id",
                "customer_id": "cid",
                "ts": "ts",
                "product_id": "sku",
                "quantity": "qty",
                "revenue": "revenue",
            },
        }
    return {
        "client": "tiny_reco",
        "data": {
            "raw_dir": str(raw),
            "window": {"start": "2025-01-01", "end": "2025-06-30"},
            "sources": sources,
        },
        "privacy": {"allow_demo_key": True},
        **extra,
    }


CUSTOMERS = "id\na\nb\nc\nd\ne\nf\n"
EVENTS = (
    "cid,ts,event,ch\n"
    "a,2025-06-20 10:00:00,page_view,direct\n"
    "d,2025-06-25 10:00:00,view_item,direct\n"
    "d,2025-06-25 10:05:00,add_to_cart,direct\n"
    "e,2025-01-05 10:00:00,page_view,direct\n"
)


@pytest.mark.slow
def test_notebook_with_a_one_product_catalogue_and_customers_without_orders(repo_root, tmp_path):
    # a, b and c bought the only product (P1) in March; d, e and f never ordered
    orders = (
        "order_id,cid,ts,sku,qty,revenue\n"
        "o1,a,2025-03-01 10:00:00,P1,1,10\n"
        "o2,b,2025-03-02 10:00:00,P1,1,10\n"
        "o3,c,2025-03-03 10:00:00,P1,2,20\n"
    )
    files = {"customers.csv": CUSTOMERS, "events.csv": EVENTS, "orders.csv": orders}
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, _tiny_config(tmp_path, files))
    actions = _check_actions(out, set(_table(out, "customer_actions")["customer_id"]))
    assert len(actions) == 6
    recs = _table(out, "product_recommendations")
    # the buyers have nothing left (their bought product is excluded); the others get P1
    assert len(recs) == 3 and set(recs["product_id"].astype(str)) == {"P1"}
    assert (recs["rank"] == 1).all() and (recs["source"].astype(str) == "popularity").all()
    assert "**The catalogue holds a single product**" in text
    assert "3 customers get no product" in text
    # no order in the last 30 days: nothing to test the recommendations on
    assert "**The recommendations could not be evaluated offline:**" in text
    assert not (out / "tables" / "recommend_evaluation.parquet").exists()


@pytest.mark.slow
def test_notebook_without_orders_skips_the_products_in_bahasa_indonesia(repo_root, tmp_path):
    files = {"customers.csv": CUSTOMERS, "events.csv": EVENTS}
    cfg = _tiny_config(tmp_path, files, report={"language": "id"})
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    actions = _check_actions(out, set(_table(out, "customer_actions")["customer_id"]))
    assert len(actions) == 6
    # d left a cart five days before the cut-off: the cart recovery rule, worded in Indonesian
    assert "Email pengingat keranjang belanja" in set(actions["action_label"])
    assert "**Tidak ada pesanan sebelum tanggal batas:**" in text
    assert "**Ekspor untuk alat email:**" in text
    assert "uplift pemulihan keranjang tidak diestimasi" in text
    assert not (out / "tables" / "product_recommendations.parquet").exists()
    # the row of customers without an action is worded in Indonesian too (its key stays)
    summary = _table(out, "action_summary").set_index("action")
    assert summary.loc["(no action)", "action_label"] == "(tanpa tindakan)"


@pytest.mark.slow
def test_notebook_refuses_a_client_without_any_activity_or_cut_off(repo_root, tmp_path):
    import papermill

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    cfg = {
        "client": "customers_only",
        "data": {
            "raw_dir": str(raw),
            "sources": {"customers": {"path": "customers.csv", "columns": {"customer_id": "id"}}},
        },
        "privacy": {"allow_demo_key": True},
    }
    # no events, orders or feedback and no cut-off: a clear error, not a crash deep inside
    with pytest.raises(papermill.PapermillExecutionError, match="nothing to recommend from"):
        run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)


# ---- the shared groceries data, through its example config only ---------------------------------
@pytest.mark.slow
@pytest.mark.shared_data
def test_notebook_on_the_groceries_data(shared_datasets, repo_root, tmp_path, monkeypatch):
    from journeylib.engine import DuckDBEngine

    cfg = yaml.safe_load(
        (repo_root / "configs" / "examples" / "groceries_recommend.yaml").read_text()
    )
    cfg["data"]["raw_dir"] = str(shared_datasets / "groceries_basket")
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)  # the demo key, as the example allows
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    engine = DuckDBEngine(tmp_path / "processed" / "groceries_recommend")
    members = set(engine.query("SELECT customer_id FROM customers")["customer_id"].astype(str))
    assert len(members) == 3898
    # every member has bought: each gets an action (no events: no carts, no stages beyond orders)
    actions = _check_actions(out, members)
    assert (actions["action"] != NO_ACTION).all()
    assert text.count("Every customer matches a rule.") == 1 and "left out" not in text
    assert "No churn scores were found" in text and "not estimated" in text
    recs = _check_recommendations(out, members, _bought(engine, "2015-12-30"), k=10)
    # 167 products: everyone has at least 10 left
    assert set(recs["customer_id"]) == members and len(recs) == 10 * len(members)
    assert "name" not in recs.columns  # no product table: the ids are the names
    evaluation = _table(out, "recommend_evaluation")
    warm = evaluation[evaluation["population"] == "customers with orders"]
    assert set(warm["model"]) == {"item_knn", "popularity"} and (warm["customers"] > 1000).all()
    curve = _table(out, "popularity_weight_curve")
    assert len(curve) == 11 and curve["chosen"].sum() == 1
    assert "chose a weight of" in text
    assert not (out / "tables" / "recommendations_by_persona.parquet").exists() or (
        set(_table(out, "recommendations_by_persona")["persona_label"]) == {"(all customers)"}
    )


# ---- the demo config runs the page after the churn page ----------------------------------------
def test_demo_config_runs_recommendations_after_churn(repo_root):
    from journeylib.config import load_config

    notebooks = load_config(repo_root / "configs" / "demo.yaml").notebooks
    assert notebooks.index("40_churn") + 1 == notebooks.index(NOTEBOOK)
    assert (repo_root / "notebooks" / f"{NOTEBOOK}.ipynb").is_file()
