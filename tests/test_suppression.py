"""Small-cell suppression of the tables a report page shows (journeylib.suppression, display)."""

from __future__ import annotations

import pandas as pd

from journeylib import display
from journeylib.config import ReportSpec
from journeylib.suppression import suppress_for_display


def test_rows_about_too_few_customers_are_masked_for_display():
    t = pd.DataFrame(
        {"channel": ["email", "sms", "web"], "customers": [40, 3, 0], "rate": [0.1, 0.5, 0.0]}
    )
    out = suppress_for_display(t, 5)
    # 3 customers < 5: masked with its rate; 0 names nobody and 40 is enough: kept
    assert out["customers"].tolist() == [40, pd.NA, 0]
    assert str(out["customers"].dtype) == "Int64"
    assert out["rate"].isna().tolist() == [False, True, False]
    assert out["suppressed"].tolist() == ["", "<5", ""]
    assert t["customers"].tolist() == [40, 3, 0]  # input untouched


def test_tables_without_counts_or_small_rows_are_shown_as_they_are():
    no_counts = pd.DataFrame({"channel": ["email"], "share": [0.2]})
    assert suppress_for_display(no_counts, 5) is no_counts
    big = pd.DataFrame({"channel": ["email"], "customers": [12]})
    assert suppress_for_display(big, 5) is big
    assert suppress_for_display(pd.DataFrame({"customers": [2]}), 1)["customers"].tolist() == [2]


def test_show_table_suppresses_unless_told_not_to(monkeypatch):
    shown = []
    monkeypatch.setattr(display, "display", lambda obj: shown.append(obj.data))
    t = pd.DataFrame({"device": ["mobile", "tablet"], "customers": [120, 2], "rate": [0.25, 0.5]})
    display.show_table(t, ReportSpec(min_cell_count=5), pct=["rate"])
    assert "&lt;5" in shown[-1] or "<5" in shown[-1]
    assert "50,0%" not in shown[-1] and "25,0%" in shown[-1]
    display.show_table(t, ReportSpec(min_cell_count=5), pct=["rate"], suppress=False)
    assert "50,0%" in shown[-1]
