"""The sentences under the attribution figures (journeylib.narrative), on tiny tables."""

from __future__ import annotations

import pandas as pd

from journeylib import narrative as N
from journeylib.config import ReportSpec

EN = ReportSpec(thousands_separator=",", decimal_separator=".")


def test_paths_sentence_states_counts_and_denominators():
    summary = pd.DataFrame(
        {
            "paths": [40],
            "conversions": [120.0],
            "non_converting": [880.0],
            "mean_length_converting": [2.5],
            "single_touch_share": [0.25],
        }
    )
    text = N.attribution_paths(summary, 30, EN)
    assert text.startswith("120 conversions and 880 journeys without a conversion, on 40")
    assert "30 days" in text and "2.5 touches" in text and "25.0%" in text
    empty = summary.assign(conversions=0.0)
    assert "nothing to attribute" in N.attribution_paths(empty, 30, EN)


def test_markov_order_sentence_names_the_chosen_order():
    orders = pd.DataFrame(
        {"order": [1, 2], "log_likelihood_per_transition": [-2.5, -2.1], "chosen": [False, True]}
    )
    assert "order 2 (each step depends on the last 2 touches)" in N.markov_order(orders, EN)
    one = orders.assign(chosen=[True, False])
    assert "depends on the last touch)" in N.markov_order(one, EN)


def test_top_credit_with_interval_and_model_disagreement():
    t = pd.DataFrame(
        {
            "channel": ["email", "display"],
            "conversions": [30.0, 70.0],
            "share": [0.3, 0.7],
            "share_low": [0.2, 0.6],
            "share_high": [0.4, 0.8],
        }
    )
    text = N.top_credit(t, "Markov", EN)
    # display has the larger share: 70 of the 100 conversions, interval 60-80%
    assert (
        text
        == "Markov credits display with 70.0% of conversions (95% interval 60.0%–80.0%), 70 of 100."
    )
    long = pd.DataFrame(
        {
            "channel": ["email", "display", "email", "display"],
            "model": ["Last touch", "Last touch", "Markov", "Markov"],
            "share": [0.6, 0.4, 0.5, 0.5],
        }
    )
    # email moves 0.6 -> 0.5 and display 0.4 -> 0.5: equal gaps, the first (display) is named
    text = N.model_disagreement(long, "Last touch", "Markov", EN)
    assert "Markov gives it 50.0% of the credit" in text


def test_assist_roles_names_assister_and_closer():
    t = pd.DataFrame(
        {
            "channel": ["display", "email", "tiny"],
            "last_touch_conversions": [10.0, 60.0, 1.0],
            "assisted_conversions": [40.0, 15.0, 20.0],
            "assist_ratio": [4.0, 0.25, 20.0],
        }
    )
    # "tiny" is on 21 converting paths (< 30): too few to single out
    text = N.assist_roles(t, EN)
    assert text == (
        "display assists 4.0 conversions for every one it closes; email closes more "
        "conversions than it assists (ratio 0.25)."
    )


def test_best_roas_uses_only_channels_with_spend():
    eff = pd.DataFrame(
        {
            "model": ["markov"] * 3,
            "channel": ["email", "display", "direct"],
            "cost": [100.0, 1000.0, 0.0],
            "roas": [5.0, 0.5, float("nan")],
            "cpa": [10.0, 200.0, 0.0],
        }
    )
    text = N.best_roas(eff, "markov", EN, name="Markov")
    assert text.startswith("Under the Markov model, email returns 5.0 in revenue per unit")
    assert text.endswith("display returns 0.5.")


# ---- Bahasa Indonesia (report.language: id) -----------------------------------------------------
ID = ReportSpec(language="id")  # Indonesian separators: 1.234,5


def test_model_names_in_bahasa_indonesia():
    from journeylib.attribution.suite import MODEL_LABELS, MODEL_LABELS_ID, model_label

    assert set(MODEL_LABELS_ID) == set(MODEL_LABELS)  # every model has an Indonesian name
    assert model_label("last_touch", language="id") == "Sentuhan terakhir"
    assert model_label("last_touch") == "Last touch"
    assert model_label("my_model", language="id") == "my_model"


def test_paths_and_markov_sentences_in_bahasa_indonesia():
    summary = pd.DataFrame(
        {
            "paths": [40],
            "conversions": [120.0],
            "non_converting": [880.0],
            "mean_length_converting": [2.5],
            "single_touch_share": [0.25],
        }
    )
    assert N.attribution_paths(summary, 30, ID) == (
        "120 konversi dan 880 perjalanan tanpa konversi, pada 40 jalur sentuhan yang berbeda "
        "dalam 30 hari sebelum setiap konversi; jalur yang berkonversi rata-rata memiliki 2,5 "
        "sentuhan dan 25,0% konversi hanya memiliki satu sentuhan."
    )
    assert N.attribution_paths(summary.assign(conversions=0.0), 30, ID) == (
        "Tidak ada konversi dalam data: tidak ada yang dapat diatribusikan."
    )
    orders = pd.DataFrame(
        {"order": [1, 2], "log_likelihood_per_transition": [-2.5, -2.1], "chosen": [False, True]}
    )
    assert N.markov_order(orders, ID) == (
        "Rantai Markov orde 2 (setiap langkah bergantung pada 2 sentuhan terakhir) paling baik "
        "memprediksi perjalanan yang disisihkan untuk pengujian (-2,100 log-likelihood per "
        "langkah), sehingga efek penghapusan di bawah ini memakai orde tersebut."
    )
    one = orders.assign(chosen=[True, False])
    assert "(setiap langkah bergantung pada sentuhan terakhir)" in N.markov_order(one, ID)


def test_credit_sentences_in_bahasa_indonesia():
    t = pd.DataFrame(
        {
            "channel": ["email", "display"],
            "conversions": [30.0, 70.0],
            "share": [0.3, 0.7],
            "share_low": [0.2, 0.6],
            "share_high": [0.4, 0.8],
        }
    )
    # a model key is named in the report language: display gets 70 of the 100 conversions
    assert N.top_credit(t, "markov", ID) == (
        "Model Markov memberikan 70,0% kredit konversi kepada display (selang kepercayaan 95%: "
        "60,0%–80,0%), yaitu 70 dari 100."
    )
    assert N.top_credit(t, "markov", EN).startswith("The Markov model credits display with 70.0%")
    assert N.top_credit(t.iloc[:0], "markov", ID) == (
        "Model Markov tidak memberikan kredit kepada kanal mana pun."
    )
    long = pd.DataFrame(
        {
            "channel": ["email", "display", "email", "display"],
            "model": ["Last touch", "Last touch", "Markov", "Markov"],
            "share": [0.6, 0.4, 0.5, 0.5],
        }
    )
    # display moves 40% -> 50% (more credit under Markov); the English model names of the
    # comparison table are named in Indonesian
    assert N.model_disagreement(long, "Last touch", "Markov", ID) == (
        "Perbedaan terbesar antarmodel ada pada display: model Markov memberinya 50,0% kredit, "
        "lebih besar daripada model Sentuhan terakhir (40,0%)."
    )


def test_roles_and_roas_sentences_in_bahasa_indonesia():
    t = pd.DataFrame(
        {
            "channel": ["display", "email", "tiny"],
            "last_touch_conversions": [10.0, 60.0, 1.0],
            "assisted_conversions": [40.0, 15.0, 20.0],
            "assist_ratio": [4.0, 0.25, 20.0],
        }
    )
    # display: 40 assisted / 10 closed = 4.0; email: 15 / 60 = 0.25 (< 1: a closer)
    assert N.assist_roles(t, ID) == (
        "display membantu (assist) 4,0 konversi untuk setiap satu konversi yang dituntaskannya; "
        "email lebih banyak menuntaskan konversi daripada membantunya (rasio 0,25)."
    )
    assert N.assist_roles(t.iloc[2:], ID) == (
        "Terlalu sedikit konversi per kanal untuk membandingkan peran membantu (assist) dan "
        "menuntaskan konversi."
    )
    eff = pd.DataFrame(
        {
            "model": ["markov"] * 3,
            "channel": ["email", "display", "direct"],
            "cost": [100.0, 1000.0, 0.0],
            "roas": [5.0, 0.5, float("nan")],
            "cpa": [10.0, 200.0, 0.0],
        }
    )
    assert N.best_roas(eff, "markov", ID, name="Markov") == (
        "Dengan model Markov, email menghasilkan pendapatan 5,0 per satuan biaya iklan (biaya "
        "per konversi Rp 10); display menghasilkan 0,5."
    )
    assert N.best_roas(eff.assign(cost=0.0), "markov", ID) == (
        "Tidak ada kanal yang memiliki biaya iklan sekaligus pendapatan yang dikreditkan."
    )
