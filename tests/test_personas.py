"""Personas: the PersonaModel estimator, profiles, labels, cards, map, and the planted truth."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from journeylib import features as F
from journeylib.personas import (
    PersonaModel,
    PersonaStabilityWarning,
    _best_jaccard,
    card_row_label,
    intensive_features,
    persona_cards,
    persona_descriptions,
    persona_inputs,
    persona_labels,
    persona_map,
    persona_model,
    plot_persona_map,
    plot_profile_heatmap,
    plot_selection,
    profile,
)

FAST = {"stability_resamples": 5}


def blobs(sizes=(6, 3), centres=((0.0, 0.0), (10.0, 10.0)), spread=0.1, seed=0) -> pd.DataFrame:
    """Customers in well separated groups: group g has sizes[g] customers around centres[g]."""
    rng = np.random.default_rng(seed)
    rows = [rng.normal(c, spread, size=(n, len(c))) for n, c in zip(sizes, centres, strict=True)]
    M = np.vstack(rows)
    X = pd.DataFrame(M, columns=[f"f{j}" for j in range(M.shape[1])])
    X.insert(0, "customer_id", [f"c{i:03d}" for i in range(len(X))])
    return X


def truth_of(sizes) -> np.ndarray:
    return np.repeat(np.arange(len(sizes)), sizes)


# ---- the estimator on tiny data --------------------------------------------------------------
def test_two_obvious_groups_give_two_personas_largest_first():
    # 6 customers near (0, 0), 3 near (10, 10): k = 2 has silhouette ~1, k = 3 must split a
    # tight group and scores lower; the larger group is persona 1
    X = blobs()
    model = PersonaModel(k_range=(2, 3), scaling="standard", **FAST).fit(X)
    assert model.n_personas_ == 2
    assert model.labels_.tolist() == [1] * 6 + [2] * 3
    sel = model.selection_
    assert sel["k"].tolist() == [2, 3]
    assert sel["chosen"].tolist() == [True, False]
    assert sel.loc[0, "silhouette"] > 0.9 > sel.loc[1, "silhouette"]
    assert sel.loc[0, "stability"] >= 0.75 and not model.unstable_
    # grain: one row per candidate k x resample
    assert len(model.stability_) == 2 * 5
    assert model.stability_.groupby("k")["resample"].apply(list).tolist() == [[1, 2, 3, 4, 5]] * 2
    # customer_id is carried, never clustered
    assert model.feature_names_in_.tolist() == ["f0", "f1"]
    assert model.cluster_centers_.shape == (2, 2)


def test_persona_ids_follow_size_and_repeat_between_runs_and_row_orders():
    sizes = (10, 30, 20)  # the 30-group must be persona 1, the 20-group 2, the 10-group 3
    X = blobs(sizes, centres=((0, 0), (8, 0), (0, 8)), spread=0.3)
    a1 = PersonaModel(k_range=(2, 5), **FAST).fit(X).assign(X)
    a2 = PersonaModel(k_range=(2, 5), **FAST).fit(X).assign(X)
    pd.testing.assert_frame_equal(a1, a2)
    assert a1["persona"].tolist() == [3] * 10 + [1] * 30 + [2] * 20
    shuffled = X.sample(frac=1, random_state=3)
    a3 = PersonaModel(k_range=(2, 5), **FAST).fit(shuffled).assign(shuffled)
    merged = a1.merge(a3, on="customer_id")
    assert (merged["persona_x"] == merged["persona_y"]).all()


def test_predict_transform_and_assign_agree_with_the_fitted_labels():
    X = blobs((30, 20, 10), centres=((0, 0), (8, 0), (0, 8)), spread=0.5)
    model = PersonaModel(k=3, sample_size=40, **FAST).fit(X)
    # learned from a seeded sample of 40, every row labelled
    assert len(model.sample_index_) == 40 and len(model.labels_) == 60
    assert (model.predict(X) == model.labels_).all()
    # new customers (the same rows under new ids, in another order) get the same personas
    new = X.iloc[::-1].assign(customer_id=lambda d: "new-" + d["customer_id"])
    assert (model.predict(new) == model.labels_[::-1]).all()
    dist = model.transform(X)
    assert dist.shape == (60, 3)
    assert (dist.argmin(axis=1) + 1 == model.labels_).all()
    a = model.assign(X)
    assert a.columns.tolist() == [
        "customer_id",
        "persona",
        "persona_label",
        "distance",
        "probability",
        "imputed_share",
    ]
    assert a["customer_id"].tolist() == X["customer_id"].tolist()
    assert np.allclose(a["distance"], dist.min(axis=1))
    assert a["probability"].isna().all()  # KMeans has no posterior
    assert not hasattr(model, "predict_proba")
    assert set(a["persona_label"]) == set(model.persona_names_.values())


def test_gaussian_mixture_gives_probabilities_in_persona_order():
    X = blobs((30, 15), spread=0.5)
    model = PersonaModel(algorithm="gmm", k_range=(2, 4), **FAST).fit(X)
    assert model.n_personas_ == 2
    assert model.selection_["bic"].notna().all() and model.selection_["inertia"].isna().all()
    # lowest BIC chosen
    best = model.selection_.loc[model.selection_["bic"].idxmin(), "k"]
    assert model.selection_.loc[model.selection_["chosen"], "k"].item() == best
    proba = model.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1)
    assert (proba.argmax(axis=1) + 1 == model.predict(X)).all()
    assert np.allclose(model.assign(X)["probability"], proba.max(axis=1))


def test_input_is_not_mutated():
    X = blobs()
    X.loc[0, "f0"] = np.nan
    before = X.copy()
    model = PersonaModel(k=2, **FAST).fit(X)
    model.assign(X)
    profile(X, model.labels_)
    persona_cards(X, model.labels_)
    pd.testing.assert_frame_equal(X, before)


def test_log_scaling_takes_skewed_non_negative_columns_only():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(
        {
            "revenue": rng.exponential(100.0, 200) ** 2,  # right-skewed amount
            "delta": rng.normal(0, 1, 200) ** 3,  # skewed but negative values: never logged
            "share": rng.uniform(0, 1, 200),  # not skewed
        }
    )
    model = PersonaModel(k=2, **FAST).fit(X)
    assert model.log_features_ == ["revenue"]


@pytest.mark.filterwarnings("ignore::journeylib.personas.PersonaStabilityWarning")
def test_missing_values_are_imputed_after_scaling_at_the_observed_mean():
    # aov is defined for 3 of 6 customers (the buyers): the others sit at 0 on that axis in the
    # model space, i.e. at the buyers' mean, and add nothing to distances along it
    X = pd.DataFrame(
        {"visits": [1.0, 2, 3, 4, 5, 6], "aov": [10.0, np.nan, 30, np.nan, 50, np.nan]}
    )
    model = PersonaModel(k=2, scaling="standard", **FAST).fit(X)
    Z = model.pipeline_.transform(X.to_numpy())
    assert np.allclose(Z[[1, 3, 5], 1], 0.0)
    # observed aov 10, 30, 50: mean 30, population sd sqrt(800/3)
    assert np.allclose(Z[[0, 2, 4], 1], np.array([-20, 0, 20]) / math.sqrt(800 / 3))
    assert model.pipeline_.named_steps["impute"].add_indicator is False
    with_ind = PersonaModel(k=2, scaling="standard", missing_indicators=True, **FAST).fit(X)
    assert with_ind.pipeline_.transform(X.to_numpy())[:, 2].tolist() == [0, 1, 0, 1, 0, 1]


def test_activity_column_keeps_thin_customers_out_of_learning_but_assigns_them():
    X = blobs((20, 20), spread=0.5)
    X["sessions"] = [1, 8] * 20
    model = PersonaModel(k=2, activity_column="sessions", min_activity=5, **FAST).fit(X)
    assert (X["sessions"].to_numpy()[model.sample_index_] >= 5).all()
    assert len(model.sample_index_) == 20
    assert len(model.assign(X)) == 40
    with pytest.raises(ValueError, match="sessions >= 50"):
        PersonaModel(k=2, activity_column="sessions", min_activity=50).fit(X)
    with pytest.raises(ValueError, match="activity_column 'visits'"):
        PersonaModel(k=2, activity_column="visits").fit(X)


def test_best_match_jaccard_by_hand():
    # reference clusters {0,1,2}, {3,4}, {5}; refit clusters {2,3,4}, {0,1}, {5}:
    # cluster 0 best matches {0,1}: 2 shared / 3 in the union; cluster 1 best matches {2,3,4}:
    # 2 / 3; cluster 2 is reproduced exactly: 1. A cluster with no member compared is NaN.
    ref = np.array([0, 0, 0, 1, 1, 2])
    other = np.array([1, 1, 0, 0, 0, 2])
    assert _best_jaccard(ref, other, 3) == pytest.approx([2 / 3, 2 / 3, 1.0])
    got = _best_jaccard(np.array([0, 0]), np.array([0, 0]), 2)
    assert got[0] == 1.0 and np.isnan(got[1])


def test_a_spurious_split_is_unstable_although_the_rand_index_barely_notices():
    # three round groups of 40: k = 3 is reproduced exactly by every refit (Jaccard 1). k = 4
    # must cut one round group in two, along a direction that changes between refits: the two
    # halves' Jaccard falls well below 0.75, while the global ARI stays high because the other
    # two groups are still matched; the chosen k is the largest stable one, 3
    X = blobs((40, 40, 40), centres=((0, 0), (8, 0), (0, 8)), spread=1.0)
    model = PersonaModel(k_range=(2, 6), stability_resamples=20).fit(X)
    sel = model.selection_.set_index("k")
    assert model.n_personas_ == 3
    assert sel.loc[3, "stability"] == pytest.approx(1.0)
    assert sel.loc[4, "stability"] < 0.75 < sel.loc[4, "stability_ari"]
    assert sel.loc[[4, 5, 6], "stable"].tolist() == [False] * 3
    assert model.persona_stability_.tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_unstable_personas_are_flagged_and_warned_never_silent():
    # structureless noise: no k reproduces perfectly, so with min_stability 0.999 none is
    # stable; the most stable k is kept (the best silhouette with selection="silhouette"),
    # flagged and warned about
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(150, 2)), columns=["a", "b"])
    for selection, column in (("stability", "stability"), ("silhouette", "silhouette")):
        with pytest.warns(PersonaStabilityWarning, match="unstable"):
            model = PersonaModel(
                k_range=(2, 4), min_stability=0.999, selection=selection, **FAST
            ).fit(X)
        assert model.unstable_
        assert not model.selection_["stable"].any()
        sel = model.selection_
        assert sel.loc[sel["chosen"], "k"].item() == sel.loc[sel[column].idxmax(), "k"]
    assert "UNSTABLE" in model._repr_html_()
    with pytest.warns(PersonaStabilityWarning, match="not assessed"):
        PersonaModel(k=2, stability_resamples=0).fit(X)


# ---- edge cases ------------------------------------------------------------------------------
def test_a_single_customer_is_refused():
    with pytest.raises(ValueError, match="at least 2 customers, got 1"):
        PersonaModel().fit(pd.DataFrame({"customer_id": ["a"], "x": [1.0]}))


def test_fewer_customers_than_k():
    X = pd.DataFrame({"customer_id": list("abc"), "x": [0.0, 1.0, 5.0]})
    # an explicit k above the customers learned from is an error
    with pytest.raises(ValueError, match="k=5 personas need at least 5 customers"):
        PersonaModel(k=5).fit(X)
    # k="auto" clips the range to (distinct customers - 1) and says so
    with pytest.warns(UserWarning, match=r"clipped to \(2, 2\): only 3 distinct"):
        model = PersonaModel(k_range=(2, 8), **FAST).fit(X)
    assert model.n_personas_ == 2 and model.selection_["k"].tolist() == [2]
    # two customers leave no k to choose
    with pytest.raises(ValueError, match="at least 3 distinct customers"):
        PersonaModel().fit(X.iloc[:2])
    assert PersonaModel(k=2, **FAST).fit(X.iloc[:2]).labels_.tolist() == [1, 2]


def test_constant_and_all_missing_columns_are_dropped_with_a_note():
    X = blobs()
    X["channel_share_offline"] = 0.0
    X["friction_untracked"] = np.nan
    model = PersonaModel(k=2, **FAST).fit(X)
    assert model.dropped_features_ == {
        "channel_share_offline": "constant",
        "friction_untracked": "all missing",
    }
    assert model.features_ == ["f0", "f1"]
    assert model.labels_.tolist() == [1] * 6 + [2] * 3
    with pytest.raises(ValueError, match="every feature is constant or missing"):
        PersonaModel(k=2).fit(X[["customer_id", "channel_share_offline", "friction_untracked"]])


def test_a_customer_missing_every_feature_is_imputed_and_flagged():
    X = blobs()
    X.loc[9] = ["c009", np.nan, np.nan]
    with pytest.warns(UserWarning, match="1 customer.* every feature missing"):
        model = PersonaModel(k=2, **FAST).fit(X)
    assert model.n_all_missing_ == 1
    a = model.assign(X)
    assert a["imputed_share"].tolist() == [0.0] * 9 + [1.0]
    assert a["persona"].notna().all()
    # the empty customer sits at the centre, equidistant-ish: assigned to the nearer centre
    Z = model.pipeline_.transform(np.full((1, 2), np.nan))
    assert np.allclose(Z, 0)


def test_bad_inputs_are_refused_clearly():
    X = blobs()
    with pytest.raises(ValueError, match="not: segment"):
        PersonaModel(k=2).fit(X.assign(segment="retail"))
    bad = X.copy()
    bad.loc[[2, 4], "f1"] = np.inf
    with pytest.raises(ValueError, match=r"infinite values in 2 cell\(s\) of column\(s\) f1"):
        PersonaModel(k=2).fit(bad)
    model = PersonaModel(k=2, **FAST).fit(X)
    with pytest.raises(ValueError, match="1 feature.* missing: f1"):
        model.predict(X.drop(columns="f1"))
    for params, message in [
        ({"algorithm": "dbscan"}, "algorithm"),
        ({"scaling": "minmax"}, "scaling"),
        ({"k": 1}, "k must be"),
        ({"k_range": (4, 2)}, "k_range"),
        ({"min_stability": 0}, "min_stability"),
        ({"sample_size": 0}, "sample_size"),
    ]:
        with pytest.raises(ValueError, match=message):
            PersonaModel(**params).fit(X)


@parametrize_with_checks(
    [PersonaModel(k_range=(2, 3), stability_resamples=2)],
    expected_failed_checks=lambda est: {
        # persona ids start at 1 (largest persona = 1, the id analysts read); scikit-learn's
        # clustering check wants labels starting at 0
        "check_clustering": "persona ids are 1-based by design",
    },
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PersonaStabilityWarning)
        check(estimator)


# ---- profiles, labels, cards -----------------------------------------------------------------
def test_profile_by_hand():
    X = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "orders": [1.0, 2, 3, 7, 9],
            "nps": [8.0, np.nan, 6, np.nan, np.nan],
        }
    )
    prof = profile(X, np.array([1, 1, 1, 2, 2]))
    # grain: one row per persona x feature
    assert prof[["persona", "feature"]].values.tolist() == [
        [1, "orders"],
        [1, "nps"],
        [2, "orders"],
        [2, "nps"],
    ]
    p1 = prof[prof["persona"] == 1].set_index("feature")
    # orders: persona 1 mean 2 (var 1), the others mean 8 (var 2); pooled var (2*1 + 1*2)/3
    assert p1.loc["orders", "mean"] == 2 and p1.loc["orders", "overall_mean"] == 4.4
    assert math.isclose(p1.loc["orders", "std_diff"], -6 / math.sqrt(4 / 3))
    assert math.isclose(prof.iloc[2]["std_diff"], 6 / math.sqrt(4 / 3))
    # nps: 2 of persona 1's 3 customers answered (mean 7); nobody else did -> no difference
    assert math.isclose(p1.loc["nps", "coverage"], 2 / 3) and p1.loc["nps", "mean"] == 7
    assert np.isnan(p1.loc["nps", "std_diff"])
    assert p1["rank"].tolist() == [1, 2] and p1["n"].tolist() == [3, 3]
    # the assignments table works as labels (joined on customer_id)
    table = pd.DataFrame({"customer_id": list("edcba"), "persona": [2, 2, 1, 1, 1]})
    pd.testing.assert_frame_equal(profile(X, table), prof)


def test_profile_constant_groups_fall_back_to_the_overall_sd():
    # a flag that is 1 for persona 1 and 0 for persona 2: both groups constant, pooled sd 0;
    # the overall sd of [1, 1, 0, 0] (sample, 1/sqrt(3)) scales the difference of 1
    X = pd.DataFrame({"flag": [1.0, 1, 0, 0]})
    prof = profile(X, np.array([1, 1, 2, 2]))
    assert math.isclose(prof["std_diff"].iloc[0], 1 / math.sqrt(1 / 3))


def _profile(rows) -> pd.DataFrame:
    prof = pd.DataFrame(rows, columns=["persona", "feature", "std_diff", "mean", "overall_mean"])
    # rank 1 = largest |std_diff| within the persona (ties: row order)
    strength = prof["std_diff"].abs()
    prof["rank"] = strength.groupby(prof["persona"]).rank(ascending=False, method="first")
    return prof.astype({"rank": int})


def test_persona_labels_and_descriptions():
    dictionary = F.feature_dictionary(
        ["device_share_mobile", "channel_share_marketplace", "product_items_per_order"]
    )
    prof = _profile(
        [
            (1, "device_share_mobile", 1.5, 0.8, 0.5),
            (1, "channel_share_marketplace", -0.8, 0.02, 0.1),
            (1, "product_items_per_order", 0.1, 2.0, 1.9),  # below min_effect 0.2: not named
            (2, "device_share_mobile", -1.5, 0.2, 0.5),
            (2, "channel_share_marketplace", 0.8, 0.3, 0.1),
            (2, "product_items_per_order", 0.05, 1.95, 1.9),
            (3, "device_share_mobile", 0.1, 0.55, 0.5),  # nothing stands out
            (3, "channel_share_marketplace", 0.0, 0.1, 0.1),
            (3, "product_items_per_order", -0.1, 1.8, 1.9),
        ]
    )
    labels = persona_labels(prof, dictionary)
    assert labels == {
        1: "High mobile share, low marketplace share",
        2: "Low mobile share, high marketplace share",
        3: "Typical customers",
    }
    desc = persona_descriptions(prof, dictionary)
    assert desc[1] == "80% mobile share (all: 50%), 2% marketplace share (all: 10%)"
    assert desc[3] == "close to average"


def test_persona_labels_and_descriptions_in_indonesian():
    # Indonesian puts the adjective after the noun ("porsi mobile tinggi"), names each feature
    # in Indonesian and writes numbers with a decimal comma; the same features and order as
    # in English
    dictionary = F.feature_dictionary(
        ["device_share_mobile", "rfm_avg_order_value", "product_items_per_order"]
    )
    prof = _profile(
        [
            (1, "device_share_mobile", 1.2, 0.8, 0.5),
            (1, "rfm_avg_order_value", -0.5, 1234.5, 2000.0),
            (2, "device_share_mobile", -1.2, 0.2, 0.5),
            (2, "rfm_avg_order_value", 0.5, 2500.0, 2000.0),
            (2, "product_items_per_order", 0.3, 2.5, 1.75),
            (3, "device_share_mobile", 0.1, 0.5, 0.5),  # below min_effect 0.2: typical
        ]
    )
    labels = persona_labels(prof, dictionary, language="id")
    assert labels == {
        1: "Porsi mobile tinggi, nilai pesanan rendah",
        2: "Porsi mobile rendah, nilai pesanan tinggi, barang per pesanan tinggi",
        3: "Pelanggan tipikal",
    }
    desc = persona_descriptions(prof, dictionary, language="id")
    # shares as whole percentages; amounts in whole units with a thousands dot (1,234.5 rounds
    # half to even: 1.234); other numbers with three significant digits and a decimal comma
    assert desc[1] == "porsi mobile 80% (semua: 50%), nilai pesanan 1.234 (semua: 2.000)"
    assert desc[2] == (
        "porsi mobile 20% (semua: 50%), nilai pesanan 2.500 (semua: 2.000), "
        "barang per pesanan 2,5 (semua: 1,75)"
    )
    assert desc[3] == "mendekati rata-rata"
    # an attribute column the dictionary does not document keeps its English name
    attr = _profile([(1, "monthly_income", 1.0, 0, 0)])
    assert persona_labels(attr, language="id") == {1: "Monthly income tinggi"}
    # identical labels get the persona id in both languages
    typical = _profile(
        [(1, "device_share_desktop", 0.0, 0, 0), (2, "device_share_desktop", 0, 0, 0)]
    )
    assert persona_labels(typical, language="id") == {
        1: "Pelanggan tipikal (persona 1)",
        2: "Pelanggan tipikal (persona 2)",
    }
    with pytest.raises(ValueError, match="language"):
        persona_labels(prof, language="fr")


def test_persona_labels_are_unique():
    # personas 1 and 2 share their two strongest features: the labels grow until they differ;
    # 3 and 4 are both typical: their ids tell them apart
    prof = _profile(
        [
            (1, "device_share_desktop", 2.0, 0, 0),
            (1, "rfm_avg_order_value", 1.0, 0, 0),
            (1, "satisfaction_nps_mean", 0.5, 0, 0),
            (2, "device_share_desktop", 2.0, 0, 0),
            (2, "rfm_avg_order_value", 1.0, 0, 0),
            (2, "satisfaction_nps_mean", -0.5, 0, 0),
            (3, "device_share_desktop", 0.0, 0, 0),
            (4, "device_share_desktop", 0.0, 0, 0),
        ]
    )
    labels = persona_labels(prof, n_terms=2)
    assert labels == {
        1: "High desktop share, high order value, high NPS",
        2: "High desktop share, high order value, low NPS",
        3: "Typical customers (persona 3)",
        4: "Typical customers (persona 4)",
    }


def test_persona_cards_by_hand():
    X = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "rfm_frequency": [2.0, 4.0, 0.0],
            "rfm_avg_order_value": [100.0, 300.0, np.nan],
            "channel_share_email": [0.5, 0.7, 0.0],
            "channel_share_social": [0.5, 0.3, 1.0],
            "device_share_mobile": [0.0, 0.2, 1.0],
            "device_share_desktop": [1.0, 0.8, 0.0],
        }
    )
    assigned = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "persona": [1, 1, 2], "persona_label": ["P1", "P1", "P2"]}
    )
    extra = pd.DataFrame(
        {"customer_id": ["c", "b", "a"], "stage": ["awareness", "purchase", "purchase"]}
    )
    cards = persona_cards(X, assigned, extra=extra)
    # grain: one row per persona
    assert cards["persona"].tolist() == [1, 2]
    assert cards["persona_label"].tolist() == ["P1", "P2"]
    assert cards["customers"].tolist() == [2, 1]
    assert np.allclose(cards["share"], [2 / 3, 1 / 3])
    assert cards["orders"].tolist() == [3.0, 0.0]
    # persona 2 never ordered: no average order value, not 0
    assert cards["aov"].iloc[0] == 200 and np.isnan(cards["aov"].iloc[1])
    # top channel by mean share: email 0.6 vs social 0.4 for persona 1
    assert cards["top_channel"].tolist() == ["email", "social"]
    assert np.allclose(cards["top_channel_share"], [0.6, 1.0])
    assert cards["top_device"].tolist() == ["desktop", "mobile"]
    assert cards["stage_top"].tolist() == ["purchase", "awareness"]
    assert cards["stage_mix"].tolist() == ["purchase 100%", "awareness 100%"]
    assert "recency_days" not in cards.columns  # absent features make no column


def test_persona_cards_and_rows_in_indonesian():
    X = pd.DataFrame({"customer_id": ["a", "b"], "rfm_frequency": [1.0, 3.0]})
    assigned = pd.DataFrame({"customer_id": ["a", "b"], "persona": [1, 1]})
    extra = pd.DataFrame({"customer_id": ["a", "b"], "segment": pd.array(["b2b", None], "string")})
    cards = persona_cards(X, assigned, extra=extra, language="id")
    # a missing attribute value is named in the report language: 1 of 2 customers each
    assert cards["segment_mix"].tolist() == ["(kosong) 50%, b2b 50%"]
    assert persona_cards(X, assigned, extra=extra)["segment_mix"].tolist() == [
        "(missing) 50%, b2b 50%"
    ]
    # card rows: the card's own words; a client's attribute keeps its name
    assert card_row_label("buyers_share") == "Buyers share"  # English: humanise, as before
    assert card_row_label("buyers_share", language="id") == "Porsi pembeli"
    assert card_row_label("top_device_share", language="id") == "Porsi perangkat teratas"
    assert card_row_label("furthest_stage_top", language="id") == "Tahap terjauh: paling umum"
    assert card_row_label("segment_top_share", language="id") == "Segmen: porsi yang paling umum"
    assert card_row_label("segment_mix", language="id") == "Segmen: komposisi"


# ---- map and charts --------------------------------------------------------------------------
def test_persona_map_and_charts():
    X = blobs((40, 30, 20), centres=((0, 0, 0), (6, 0, 0), (0, 6, 0)), spread=0.5)
    model = PersonaModel(k_range=(2, 4), **FAST).fit(X)
    coords = persona_map(model, X, n=50, random_state=1)
    assert coords.columns.tolist() == ["customer_id", "x", "y", "persona", "persona_label"]
    assert len(coords) == 50 and coords["customer_id"].is_unique
    rows = X.set_index("customer_id").loc[coords["customer_id"]].reset_index()
    assert (coords["persona"].to_numpy() == model.predict(rows)).all()
    assert len(coords.attrs["explained_variance"]) == 2
    assert len(persona_map(model, X, n=1000)) == 90

    fig = plot_persona_map(coords)
    assert len(fig.data) == model.n_personas_
    fig = plot_selection(model.selection_)
    stars = [t for t in fig.data if t.name == "chosen k"]
    assert [list(t.x) for t in stars] == [[model.n_personas_]] * 2
    fig = plot_profile_heatmap(model.profile_, top=2)
    assert np.shape(fig.data[0].z) == (model.n_personas_, 2)
    assert "sd from the other customers" in fig.data[0].hovertemplate
    fig = plot_profile_heatmap(model.profile_, top=2, language="id")
    assert "sd dari pelanggan lain" in fig.data[0].hovertemplate
    # the map's axis titles carry the explained variance in the report language
    share = f"{coords.attrs['explained_variance'][0]:.0%}"
    fig = plot_persona_map(coords, language="id")
    assert fig.layout.xaxis.title.text == f"komponen 1 ({share} dari varians)"
    assert plot_persona_map(coords).layout.xaxis.title.text == f"component 1 ({share} of variance)"
    assert model.summary["customers"].sum() == 90
    assert model.summary.columns.tolist() == ["persona", "persona_label", "customers", "share"]


# ---- feature choice --------------------------------------------------------------------------
def test_intensive_features_keep_rates_shares_and_scores():
    chosen = set(intensive_features(F.feature_dictionary()))
    # how a customer behaves: mixes, rates per session/order, price level, satisfaction scores
    for name in (
        "channel_share_email",
        "device_share_mobile",
        "engagement_events_per_session",
        "rfm_avg_order_value",
        "product_items_per_order",
        "product_price_index",
        "satisfaction_nps_mean",
        "product_category_share_<category>",
    ):
        assert name in chosen, name
    # how much / how long: exposure and lifecycle, shown on the cards instead
    for name in (
        "rfm_frequency",
        "rfm_monetary",
        "rfm_has_ordered",
        "rfm_recency_days",
        "engagement_sessions",
        "engagement_tenure_days",
        "funnel_depth",
        "friction_<event>",
        "satisfaction_responses",
    ):
        assert name not in chosen, name


# ---- the planted truth -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_feats(synth_client) -> pd.DataFrame:
    c = synth_client
    return F.customer_features(c.engine, as_of=c.config.effective_as_of, config=c.config)


def _intensive(feats: pd.DataFrame) -> pd.DataFrame:
    cols = intensive_features(F.feature_dictionary(feats.columns))
    return feats[["customer_id", *cols, "engagement_sessions"]]


def _ari_by_sessions(truth: pd.DataFrame, assigned: pd.DataFrame) -> dict[str, float]:
    """ARI between the planted ``_key`` and the persona, by planted web sessions."""
    j = truth.merge(
        assigned[["customer_id", "persona"]].rename(columns={"persona": "found"}), on="customer_id"
    )
    out = {}
    for name, (lo, hi) in {"1-2": (1, 2), "3-5": (3, 5), "6+": (6, 10**9)}.items():
        s = j["n_web_sessions"].between(lo, hi)
        out[name] = adjusted_rand_score(j.loc[s, "_key"], j.loc[s, "found"])
    return out


def test_synth_device_split_is_recovered_first(synth_client, synth_feats):
    # planted: loyal_premium_desktop and b2b_reseller_bulk use desktop for 60% of sessions,
    # the three mobile personas for at most 15%: two personas learned from customers with 5+
    # sessions must separate these two families among customers active enough to show it
    X = _intensive(synth_feats)
    model = PersonaModel(k=2, activity_column="engagement_sessions", min_activity=5, **FAST)
    assigned = model.fit(X).assign(X)
    truth = synth_client.truth.assign(
        _key=synth_client.truth["persona"].isin(["loyal_premium_desktop", "b2b_reseller_bulk"])
    )
    ari = _ari_by_sessions(truth, assigned)
    assert ari["6+"] >= 0.6
    desktop = model.profile_.query("feature == 'device_share_desktop'").set_index("persona")
    assert desktop["std_diff"].idxmax() in (1, 2) and desktop["std_diff"].max() > 1


def test_synth_defaults_recover_the_five_planted_personas(synth_client, synth_feats):
    # Acceptance (issue 5): with the config's defaults (personas: section untouched, the
    # client's seed) the chosen k is the planted 5 and the personas learned from the customers
    # active enough to show one (5+ sessions, the default min_activity) match the planted ones
    # with ARI >= 0.8. Customers with 1-2 sessions carry too little behaviour for any method
    # (their channel share is 0 or 1); they are assigned and counted, not learned from, and the
    # ARI over everyone is lower: it is bounded here, not hidden.
    c = synth_client
    spec = c.config.personas
    X = persona_inputs(synth_feats, spec)
    model = persona_model(spec, seed=c.config.seed, features=X).fit(X)
    assert model.n_personas_ == 5
    assert not model.unstable_
    sel = model.selection_.set_index("k")
    # the chosen k is the largest whose every persona is reproduced (Jaccard >= 0.75) ...
    assert sel.loc[5, "stability"] >= 0.75 and not sel.loc[6:, "stable"].any()
    # ... although the silhouette peaks at the coarse desktop / mobile split
    assert sel["silhouette"].idxmax() == 2
    assigned = model.assign(X)
    truth = c.truth.merge(
        assigned[["customer_id", "persona"]],
        on="customer_id",
        how="inner",
        suffixes=("_planted", "_found"),
    )
    learned = truth["customer_id"].isin(X["customer_id"].iloc[model.sample_index_])
    assert (truth.loc[learned, "n_web_sessions"] >= 5).all()
    ari_learned = adjusted_rand_score(
        truth.loc[learned, "persona_planted"], truth.loc[learned, "persona_found"]
    )
    ari_all = adjusted_rand_score(truth["persona_planted"], truth["persona_found"])
    assert ari_learned >= 0.8
    assert 0.5 <= ari_all < ari_learned
    # Why not 0.8 over everyone: even a classifier *trained on the planted personas* with the
    # same features (5-fold cross-validated gradient boosting, an upper bound for any
    # unsupervised method) stays below 0.8 over all customers; the personas come close to it
    # (it is itself limited by 2,400 training customers a fold, so the personas may match it).
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    j = c.truth[["customer_id", "persona"]].merge(synth_feats, on="customer_id")
    ceiling_pred = cross_val_predict(
        HistGradientBoostingClassifier(random_state=0),
        j.drop(columns=["customer_id", "persona"]),
        j["persona"],
        cv=5,
    )
    ceiling = adjusted_rand_score(j["persona"], ceiling_pred)  # 0.58 here (0.64 at 30,000)
    assert ceiling < 0.8
    assert ari_all >= 0.8 * ceiling
    # determinism: a second run with the same seed gives every customer the same persona
    again = persona_model(spec, seed=c.config.seed, features=X).fit(X).assign(X)
    pd.testing.assert_frame_equal(assigned, again)


def test_synth_five_personas_sharpen_with_activity_and_repeat(synth_client, synth_feats):
    X = _intensive(synth_feats)
    params = dict(k=5, activity_column="engagement_sessions", min_activity=5, **FAST)
    model = PersonaModel(**params).fit(X)
    assigned = model.assign(X)
    truth = synth_client.truth.assign(_key=synth_client.truth["persona"])
    ari = _ari_by_sessions(truth, assigned)
    # the personas show in behaviour that accumulates: the more sessions a customer has, the
    # better the planted persona is recovered; far above chance (ARI 0) for active customers
    assert ari["1-2"] < ari["3-5"] < ari["6+"]
    assert ari["6+"] > 0.3
    # determinism: the same seed gives the same personas, ids and labels
    again = PersonaModel(**params).fit(X).assign(X)
    pd.testing.assert_frame_equal(assigned, again)
    # customers assigned later (new rows) get the persona of the fitted rows
    new = X.sample(200, random_state=0)
    fitted = assigned.set_index("customer_id").loc[new["customer_id"], "persona"].to_numpy()
    assert (model.predict(new) == fitted).all()
    # labels name planted signatures in readable words: 40% of the marketplace_casual sessions
    # come from the marketplace, 60% of the social_young_browser sessions from (paid) social
    labels = persona_labels(model.profile_, F.feature_dictionary(X.columns))
    assert len(set(labels.values())) == 5
    assert any(v.startswith("High marketplace share") for v in labels.values())
    assert any("high social share" in v.lower() for v in labels.values())


# ---- the config's personas section -----------------------------------------------------------
def test_persona_inputs_and_model_follow_the_config():
    from journeylib.config import PersonaSpec

    feats = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "rfm_frequency": [1, 2],  # a count: on the cards, not clustered
            "channel_share_email": [0.5, 1.0],
            "device_share_mobile": [1.0, 0.0],
            "engagement_sessions": [3, 9],
        }
    )
    X = persona_inputs(feats, PersonaSpec())
    # intensive features, then the activity column the model needs to pick its learners
    assert X.columns.tolist() == [
        "customer_id",
        "channel_share_email",
        "device_share_mobile",
        "engagement_sessions",
    ]
    spec = PersonaSpec(feature_set="all", exclude_features=["device_share_mobile"], k=4)
    assert persona_inputs(feats, spec).columns.tolist() == [
        "customer_id",
        "rfm_frequency",
        "channel_share_email",
        "engagement_sessions",
    ]
    model = persona_model(spec, seed=7)
    assert (model.k, model.random_state, model.activity_column, model.min_activity) == (
        4,
        7,
        "engagement_sessions",
        5,
    )
    assert persona_model(PersonaSpec()).k == "auto"
    with pytest.raises(ValueError, match="exclude_features not in the feature table"):
        persona_inputs(feats, PersonaSpec(exclude_features=["nope"]))
    with pytest.raises(ValueError, match="activity_column 'visits'"):
        persona_inputs(feats, PersonaSpec(activity_column="visits"))
    # bring-your-own attributes: every numeric column unless listed; no activity column there,
    # so everyone is learned from
    attrs = pd.DataFrame({"customer_id": ["a", "b"], "income": [1.0, 2.0], "kids": [0, 1]})
    spec = PersonaSpec(features="attributes")
    assert persona_inputs(attrs, spec).columns.tolist() == ["customer_id", "income", "kids"]
    assert persona_model(spec, features=attrs).activity_column is None
    spec = PersonaSpec(features="attributes", attribute_columns=["kids"])
    assert persona_inputs(attrs, spec).columns.tolist() == ["customer_id", "kids"]
    with pytest.raises(ValueError, match="k must be 0"):
        PersonaSpec(k=1)
