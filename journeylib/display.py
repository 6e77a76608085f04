"""How notebooks show things to a reader: tables, numbers, sentences and figures.

Formatting follows the client's report settings (thousands and decimal separators, currency
symbol), so a notebook never formats numbers by hand. These helpers only display; the numbers
come from the analysis modules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
from IPython.display import HTML, Markdown, display

from journeylib.config import ReportSpec

_DEFAULT = ReportSpec()


def fmt_number(
    value: float | int | None, report: ReportSpec | None = None, *, decimals: int = 0
) -> str:
    """Format a number with the report's separators (``1.234.567`` for Indonesian style).

    >>> fmt_number(1234567.891, decimals=1)
    '1.234.567,9'
    >>> fmt_number(None)
    '–'
    """
    report = report or _DEFAULT
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return (
        text.replace(",", "\x00")
        .replace(".", report.decimal_separator)
        .replace("\x00", report.thousands_separator)
    )


def fmt_pct(share: float | None, report: ReportSpec | None = None, *, decimals: int = 1) -> str:
    """Format a share (0..1) as a percentage: ``fmt_pct(0.1234) == '12,3%'``."""
    report = report or _DEFAULT
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return fmt_number(100 * share, report, decimals=decimals) + "%"


def fmt_money(value: float | None, report: ReportSpec | None = None) -> str:
    """Format an amount in the report currency: ``Rp 1.250.000``."""
    report = report or _DEFAULT
    return f"{report.currency_symbol} {fmt_number(value, report)}"


def format_table(
    df: pd.DataFrame,
    report: ReportSpec | None = None,
    *,
    pct: Iterable[str] = (),
    money: Iterable[str] = (),
    decimals: dict[str, int] | None = None,
) -> pd.DataFrame:
    """A display copy of ``df`` with numbers formatted as text (the input is not modified)."""
    report = report or _DEFAULT
    pct, money, decimals = set(pct), set(money), decimals or {}
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if c in pct:
            out[c] = [fmt_pct(v, report) for v in s]
        elif c in money:
            out[c] = [fmt_money(v, report) for v in s]
        elif pd.api.types.is_bool_dtype(s):
            continue
        elif pd.api.types.is_numeric_dtype(s):
            d = decimals.get(c, 0 if pd.api.types.is_integer_dtype(s) else 2)
            out[c] = [fmt_number(v, report, decimals=d) for v in s]
        elif isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%Y-%m-%d %H:%M").fillna("–")
    return out


def humanise(column: str) -> str:
    """A column name as a reader sees it: ``rows_read`` -> ``Rows read``.

    >>> humanise("matched_share")
    'Matched share'
    """
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def show_table(
    df: pd.DataFrame,
    report: ReportSpec | None = None,
    *,
    caption: str | None = None,
    labels: dict[str, str] | None = None,
    **fmt,
) -> None:
    """Display a formatted table without its index, with readable column headers.

    The saved twin of the table (``Workbook.save_table``) keeps the machine names; ``labels``
    overrides the automatic :func:`humanise` for individual columns.
    """
    report = report or _DEFAULT
    shown = format_table(df, report, **fmt)
    shown = shown.astype(object).where(shown.notna(), "–")
    shown.columns = [(labels or {}).get(c, humanise(c)) for c in shown.columns]
    html = shown.to_html(index=False, escape=True, border=0, classes="journey-table", na_rep="–")
    if caption:
        html = f'<p class="journey-caption"><strong>{caption}</strong></p>' + html
    display(HTML(html))


def say(text: str) -> None:
    """Display a computed sentence or paragraph (Markdown)."""
    display(Markdown(text))


def show_figure(fig) -> None:  # noqa: ANN001 - plotly Figure
    """Display a plotly figure so it works in JupyterLab and in the offline HTML report."""
    from journeylib.report import plotly_output

    display(plotly_output(fig))
