"""Personas from a plain customer attribute table (bring-your-own features, issue 5).

:func:`journeylib.features.attribute_features` on a tiny hand-made customers table, then the
shared ``persona_clustering/marketing_data.csv`` through ``configs/examples/marketing_personas.yaml``:
ingest (the messy `` Income `` column read by the mapping), personas fitted as the config says,
and facts about the data checked against an independent parse of the CSV written here.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from example_clients import ingest_example
from notebook_runs import run_notebook

from journeylib.engine import engine_for, get_engine
from journeylib.features import attribute_features
from journeylib.personas import persona_inputs, persona_model
from journeylib.privacy import DEMO_KEY

EXAMPLE = Path("configs") / "examples" / "marketing_personas.yaml"
MARKETING = Path("persona_clustering") / "marketing_data.csv"


# ---------------------------------------------------------------------------------------------
# attribute_features on hand-made customers
# ---------------------------------------------------------------------------------------------
def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c3", "c1", "c2"],
            "income": [52_000.0, np.nan, 31_500.0],
            "kids": pd.array([2, pd.NA, 0], dtype="Int64"),
            "vip": pd.array([True, False, pd.NA], dtype="boolean"),
            "tier": ["gold", "silver", "gold"],
            "first_seen": pd.to_datetime(["2024-01-02", "2024-03-04", None], utc=True),
            "identified": [True, True, True],
        }
    )


def test_attribute_features_defaults_to_every_numeric_attribute():
    cust = _customers()
    before = cust.copy()
    out = attribute_features(engine_for(customers=cust))
    # one row per customer, sorted by id; numeric and yes/no columns in table order; the text
    # tier, the first_seen timestamp and ingest's bookkeeping flag `identified` are left out
    assert out.columns.tolist() == ["customer_id", "income", "kids", "vip"]
    assert out["customer_id"].tolist() == ["c1", "c2", "c3"]
    # nothing is filled in: c1's income and kids stay missing; booleans are 0/1, c2's unknown
    np.testing.assert_array_equal(out["income"].to_numpy(), [np.nan, 31_500.0, 52_000.0])
    np.testing.assert_array_equal(out["kids"].to_numpy(dtype=float), [np.nan, 0.0, 2.0])
    np.testing.assert_array_equal(out["vip"].to_numpy(dtype=float), [0.0, np.nan, 1.0])
    pd.testing.assert_frame_equal(cust, before)  # the input is not modified


def test_attribute_features_returns_the_requested_columns_in_order():
    out = attribute_features(engine_for(customers=_customers()), columns=["vip", "income"])
    assert out.columns.tolist() == ["customer_id", "vip", "income"]
    # a boolean column without missing values comes back as integers 0/1
    out = attribute_features(
        engine_for(customers=_customers()[["customer_id", "identified"]]), columns=["identified"]
    )
    assert out["identified"].tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["income", "salary"], r"not columns of the customers table: \['salary'\]"),
        (["tier"], r"column 'tier' is text or a category, not a number or yes/no value"),
        (["first_seen"], r"column 'first_seen' is a date or timestamp"),
        (["income", "income"], r"listed more than once: \['income'\]"),
        (["customer_id"], r"customer_id is always returned"),
        ("income", r"columns must be a list of column names"),
    ],
)
def test_attribute_features_refuses_unknown_and_non_numeric_columns(columns, message):
    with pytest.raises(ValueError, match=message) as info:
        attribute_features(engine_for(customers=_customers()), columns=columns)
    # the column is named, its values never are (they may be personal data)
    assert "gold" not in str(info.value) and "silver" not in str(info.value)


def test_attribute_features_needs_one_row_per_customer():
    cust = pd.DataFrame({"customer_id": ["a", "a", None], "x": [1.0, 2.0, 3.0]})
    # two rows for customer a (one repeat) and one row without an id
    with pytest.raises(ValueError, match=r"1 row\(s\) without customer_id, 1 repeated"):
        attribute_features(engine_for(customers=cust))
    with pytest.raises(ValueError, match="lacks column"):
        attribute_features(engine_for(customers=pd.DataFrame({"id": ["a"]})))


# ---------------------------------------------------------------------------------------------
# the shared marketing_data.csv through the example config
# ---------------------------------------------------------------------------------------------
def _pseudonym(raw_id: str) -> str:
    """Independent HMAC-SHA256 pseudonym (20 hex digits) with the public demo key."""
    return hmac.new(DEMO_KEY.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:20]


def _raw_marketing(path: Path) -> pd.DataFrame:
    """The CSV read with the csv module: Income parsed by hand, total spend summed by hand."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    spend_columns = [
        "MntWines",
        "MntFruits",
        "MntMeatProducts",
        "MntFishProducts",
        "MntSweetProducts",
        "MntGoldProds",
    ]
    income = []
    for r in rows:
        text = re.sub(r"[$,\s]", "", r[" Income "])  # "$84,835.00 " -> "84835.00"
        income.append(float(text) if text else np.nan)
    return pd.DataFrame(
        {
            "customer_id": [_pseudonym(r["ID"]) for r in rows],
            "income": income,
            "total_spend": [sum(int(r[c]) for c in spend_columns) for r in rows],
        }
    )


@pytest.fixture(scope="module")
def marketing(repo_root, shared_datasets, tmp_path_factory):
    """The example config ingested into a temporary folder, and its attribute table."""
    if not (shared_datasets / MARKETING).is_file():
        pytest.skip(f"{MARKETING} not found under {shared_datasets}")
    tmp = tmp_path_factory.mktemp("marketing_personas")
    # the example's raw_dir is the shared folder, resolved against the project root
    config, path, result = ingest_example(
        repo_root, EXAMPLE, shared_datasets / MARKETING.parent, tmp
    )
    engine = get_engine(config)
    features = attribute_features(engine)
    engine.close()
    return {
        "config": config,
        "config_path": path,
        "result": result,
        "features": features,
        "raw": _raw_marketing(shared_datasets / MARKETING),
    }


def _fit(config, features):
    X = persona_inputs(features, config.personas)
    return persona_model(config.personas, seed=config.seed, features=features).fit(X), X


@pytest.fixture(scope="module")
def fitted(marketing):
    return _fit(marketing["config"], marketing["features"])


@pytest.mark.shared_data
def test_marketing_ingest_reads_income_through_the_mapping(marketing):
    raw, features, result = marketing["raw"], marketing["features"], marketing["result"]
    # one row per CSV data row (2,240), no events/orders/feedback: they are written empty
    assert result.tables == {"customers": len(raw), "events": 0, "orders": 0, "feedback": 0}
    assert len(features) == len(raw) == 2240
    # 24 blank incomes, read as missing by the money type and counted as a notice
    assert int(raw["income"].isna().sum()) == 24
    assert int(features["income"].isna().sum()) == 24
    notice = [n for n in result.manifest["notices"] if n["column"] == "income"]
    assert [(n["check"], n["count"]) for n in notice] == [("blank value", 24)]
    # every parsed income equals the hand parse (same customers through the pseudonym)
    got = features.set_index("customer_id")["income"].reindex(raw["customer_id"])
    np.testing.assert_array_equal(got.to_numpy(), raw["income"].to_numpy())
    # the clustered columns are all numeric attributes of the table
    assert set(marketing["config"].personas.attribute_columns) <= set(features.columns)


@pytest.mark.shared_data
def test_marketing_personas_are_chosen_stable_and_deterministic(marketing, fitted):
    config, features = marketing["config"], marketing["features"]
    model, X = fitted
    spec = config.personas
    assert X.columns.tolist() == ["customer_id", *spec.attribute_columns]  # no activity column
    assert spec.k_min <= model.n_personas_ <= spec.k_max
    # the stability table: one row per candidate k, exactly one chosen, a score per persona
    sel = model.selection_
    assert sel["k"].tolist() == list(range(spec.k_min, spec.k_max + 1))
    assert sel["chosen"].sum() == 1 and sel.loc[sel["chosen"], "k"].item() == model.n_personas_
    assert sel["stability"].between(0, 1).all()
    assert model.persona_stability_.index.tolist() == list(range(1, model.n_personas_ + 1))
    if not model.unstable_:
        assert model.persona_stability_.min() >= spec.min_stability
    # every customer assigned exactly once
    assigned = model.assign(X)
    assert len(assigned) == len(features) and assigned["customer_id"].is_unique
    assert assigned["persona"].between(1, model.n_personas_).all()
    # determinism: a second fit with the same seed gives every customer the same persona
    again, _ = _fit(config, features)
    np.testing.assert_array_equal(again.labels_, model.labels_)


@pytest.mark.shared_data
def test_marketing_big_spenders_earn_more(marketing, fitted):
    model, X = fitted
    labels = pd.DataFrame({"customer_id": X["customer_id"], "persona": model.labels_})
    # total spend and income from the hand parse of the CSV, joined through the pseudonym
    by_persona = marketing["raw"].merge(labels, on="customer_id").groupby("persona")
    spend = by_persona["total_spend"].mean()
    income = by_persona["income"].mean()  # the 24 missing incomes are left out of the mean
    # in this table spend grows with income: the persona that spends most on average earns
    # more on average than the persona that spends least
    assert income[spend.idxmax()] > income[spend.idxmin()]


# ---------------------------------------------------------------------------------------------
# the same notebook as for event data, on the attribute table
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.shared_data
def test_personas_notebook_runs_on_the_attribute_table(
    repo_root, shared_datasets, tmp_path, monkeypatch
):
    if not (shared_datasets / MARKETING).is_file():
        pytest.skip(f"{MARKETING} not found under {shared_datasets}")
    cfg = yaml.safe_load((repo_root / EXAMPLE).read_text(encoding="utf-8"))
    cfg["data"]["raw_dir"] = str(shared_datasets / MARKETING.parent)
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)  # the kernel inherits the environment
    out, text = run_notebook(repo_root, tmp_path, "30_personas", cfg)
    raw = _raw_marketing(shared_datasets / MARKETING)
    assignments = pd.read_parquet(out / "tables" / "persona_assignments.parquet")
    # one row per customer of the CSV (2,240), each with a persona and its label
    assert len(assignments) == len(raw) == 2240
    assert set(assignments["customer_id"]) == set(raw["customer_id"])
    assert assignments["customer_id"].is_unique
    assert assignments["persona"].notna().all() and assignments["persona_label"].notna().all()
    selection = pd.read_parquet(out / "tables" / "persona_selection.parquet")
    k = selection.loc[selection["chosen"], "k"].item()
    assert 2 <= k <= 8 and assignments["persona"].nunique() == k
    # the clustered columns are the config's attribute_columns, and no journey is invented
    dictionary = pd.read_parquet(out / "tables" / "feature_dictionary.parquet")
    clustered = dictionary.loc[dictionary["role"] == "clustered", "name"]
    assert set(clustered) == set(cfg["personas"]["attribute_columns"])
    assert "no journey stages" in text
