"""How notebooks show things to a reader: tables, numbers, sentences and figures.

Formatting follows the client's report settings (thousands and decimal separators, currency
symbol), so a notebook never formats numbers by hand. These helpers only display; the numbers
come from the analysis modules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape as html_escape

import pandas as pd
from IPython.display import HTML, Markdown, display

from journeylib import i18n
from journeylib.config import ReportSpec

_DEFAULT = ReportSpec()
#: The report settings the helpers fall back to when not given one (set by ``open_workbook``).
_current: ReportSpec = _DEFAULT


def use_report(report: ReportSpec | None) -> ReportSpec:
    """Make ``report`` the default settings of the display helpers; return the previous ones.

    ``open_workbook`` calls it with the client's settings, so ``say`` and ``show_figure`` write
    in the report language without a notebook passing the settings to every call (like
    ``seaborn.set_theme``). ``None`` restores the defaults.
    """
    global _current
    previous, _current = _current, report or _DEFAULT
    return previous


def current_report() -> ReportSpec:
    """The report settings the display helpers use when not given any."""
    return _current


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


def fmt_duration(value: pd.Timedelta | float | None, report: ReportSpec | None = None) -> str:
    """A duration as a reader says it: ``45 s``, ``12 min``, ``5,4 h``, ``3,6 days``.

    >>> fmt_duration(pd.Timedelta(hours=5, minutes=24))
    '5,4 h'
    >>> fmt_duration(pd.Timedelta(days=3, hours=14))
    '3,6 days'
    """
    report = report or _DEFAULT
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "–"
    units = _DURATION_UNITS.get(report.language, _DURATION_UNITS["en"])
    seconds = pd.Timedelta(value).total_seconds()
    if abs(seconds) >= 86_400:
        return f"{fmt_number(seconds / 86_400, report, decimals=1)} {units[0]}"
    if abs(seconds) >= 3_600:
        return f"{fmt_number(seconds / 3_600, report, decimals=1)} {units[1]}"
    if abs(seconds) >= 60:
        return f"{fmt_number(seconds / 60, report)} {units[2]}"
    return f"{fmt_number(seconds, report)} {units[3]}"


_DURATION_UNITS = {"en": ("days", "h", "min", "s"), "id": ("hari", "jam", "menit", "detik")}


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
        elif pd.api.types.is_timedelta64_dtype(s):
            out[c] = [fmt_duration(v, report) for v in s]
        elif pd.api.types.is_numeric_dtype(s):
            d = decimals.get(c, 0 if pd.api.types.is_integer_dtype(s) else 2)
            out[c] = [fmt_number(v, report, decimals=d) for v in s]
        elif isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%Y-%m-%d %H:%M").fillna("–")
    return out


def humanise(column: str, language: str = "en") -> str:
    """A column name as a reader sees it: ``rows_read`` -> ``Rows read``.

    In another language the phrase catalogue (:mod:`journeylib.i18n`) is asked for the machine
    name, then for the English header; a column it does not know keeps the English header.

    >>> humanise("matched_share")
    'Matched share'
    """
    text = str(column).replace("_", " ").strip()
    text = text[:1].upper() + text[1:]
    if language == i18n.SOURCE_LANGUAGE:
        return text
    if i18n.knows(str(column), language):
        found = i18n.phrase(str(column), language)
        return found[:1].upper() + found[1:]
    return i18n.phrase(text, language)


def show_table(
    df: pd.DataFrame,
    report: ReportSpec | None = None,
    *,
    caption: str | None = None,
    labels: dict[str, str] | None = None,
    suppress: bool = True,
    **fmt,
) -> None:
    """Display a formatted table without its index, with readable column headers.

    The saved twin of the table (``Workbook.save_table``) keeps the machine names; ``labels``
    overrides the automatic :func:`humanise` for individual columns. Rows counting fewer than
    ``report.min_cell_count`` people are masked (small-cell suppression,
    :func:`journeylib.suppression.suppress_for_display`) unless ``suppress`` is False.
    """
    report = report or _current
    language = report.language
    if suppress:
        from journeylib.suppression import suppress_for_display

        df = suppress_for_display(df, report.min_cell_count)
    shown = format_table(df, report, **fmt)
    text_cols = [c for c in df.columns if _is_text(df[c])]
    if language != i18n.SOURCE_LANGUAGE:
        for c in df.columns:
            if c in text_cols or pd.api.types.is_bool_dtype(shown[c]):
                shown[c] = i18n.translate_values(shown[c], language)
    shown = shown.astype(object).where(shown.notna(), "–")
    headers = {
        c: i18n.phrase(labels[c], language) if c in (labels or {}) else humanise(c, language)
        for c in shown.columns
    }
    styler = (
        shown.style.hide(axis="index")
        .set_table_attributes('class="journey-table"')
        .set_properties(subset=text_cols, **{"text-align": "left"})
        .set_table_styles(
            [
                {"selector": f"th.col_heading.col{i}", "props": "text-align: left;"}
                for i, c in enumerate(shown.columns)
                if c in text_cols
            ]
        )
        .format_index(lambda c: headers[c], axis=1)
    )
    html = styler.to_html()
    if caption:
        caption = html_escape(i18n.phrase(caption, language))
        html = f'<p class="journey-caption"><strong>{caption}</strong></p>' + html
    display(HTML(html))


def _is_text(s: pd.Series) -> bool:
    return (pd.api.types.is_string_dtype(s) or s.dtype == object) and not (
        pd.api.types.is_numeric_dtype(s)
    )


def say(text: str, report: ReportSpec | None = None) -> None:
    """Display a computed sentence or paragraph (Markdown).

    A fixed sentence the phrase catalogue knows is shown in the report language; computed
    sentences come from :mod:`journeylib.narrative` in that language already.
    """
    language = (report or _current).language
    display(Markdown(i18n.phrase(text, language) if i18n.knows(text, language) else text))


def show_figure(fig, report: ReportSpec | None = None) -> None:  # noqa: ANN001 - plotly Figure
    """Display a plotly figure so it works in JupyterLab and in the offline HTML report.

    Its fixed text (title, axis and legend titles, trace names) is shown in the report
    language (:func:`journeylib.i18n.translate_figure`, on a copy: ``fig`` is not modified),
    and its numbers use the report's decimal and thousands separators.
    """
    from journeylib.report import plotly_output

    report = report or _current
    separators = report.decimal_separator + report.thousands_separator
    if report.language != i18n.SOURCE_LANGUAGE or separators != ".,":
        fig = type(fig)(fig)  # a copy: the caller's figure is not modified
        fig.update_layout(separators=separators)  # "12,5%" on axes and labels in Indonesian
        fig = i18n.translate_figure(fig, report.language)
    display(plotly_output(fig))
