"""The executive summary's numbers: KPI tiles against the client's goals, changes since the
previous run, the most important findings as sentences, and small-cell suppression.

The report notebook ``90_client_report`` never recomputes an analysis. Everything here reads the
tables the analysis notebooks saved (``<run>/outputs/<notebook>/tables/<name>.parquet``) through
:class:`Outputs`, which records what is missing instead of failing: a client who skips a
notebook still gets a summary, and :func:`missing_sentence` says what it lacks.

KPIs (:func:`kpi_values`), each read from one table:

====================  =====  ================================================================
kpi                   unit   definition (source table)
====================  =====  ================================================================
``conversion``        share  customers with an order / customers with any activity
                             (``10_journey_stages/kpis``, ``conversion_rate``)
``retention``         share  buyers who ordered again within N days of their first order /
                             buyers whose first order is at least N days old (``kpis``,
                             ``retention_rate_<N>d``)
``repeat_rate``       share  buyers with two or more orders / buyers (``kpis``)
``cart_abandonment``  share  carts neither bought in their visit nor recovered later / carts
                             (``10_journey_stages/cart_abandonment``)
``nps``               points % promoters (9-10) - % detractors (0-6) of NPS answers
                             (``60_journey_map/satisfaction_overall``)
``csat``              share  CSAT answers of 4 or 5 (top-2-box) / CSAT answers (same table)
``churn_risk``        share  the **mean predicted churn probability** of the scored customers
                             (``40_churn/churn_at_risk``). The model is calibrated, so this is
                             the expected share of them who leave within the churn horizon; it
                             needs no risk threshold, so it moves only when the risk does
                             (the share above the playbook's high-risk band is a finding)
``revenue_at_risk``   money  the sum over scored customers of churn probability x customer
                             value (the at-risk list's ``expected_loss``; value as the churn
                             notebook defined it: lifetime value, or revenue to date)
====================  =====  ================================================================

Findings (:func:`findings`) are ranked by ``score`` = ``at_stake`` / customers in the analysis,
where ``at_stake`` is the number of customer outcomes (conversions, customers kept, satisfied
answers) the finding puts at stake, that is customers affected x effect size (see
:data:`FINDING_KINDS`). The divisor is the same for every finding of a run (the active
customers behind the conversion KPI), so it does not change the order; it only makes the
score readable as "the share of the customer base at stake".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeylib.config import JourneySpec, ReportSpec
from journeylib.display import fmt_money, fmt_number, fmt_pct
from journeylib.suppression import COUNT_COLUMN, KEY_COLUMN, suppress_small_cells  # noqa: F401

__all__ = [
    "FINDING_KINDS",
    "KPI_ORDER",
    "NOTEBOOKS",
    "Outputs",
    "changes_sentence",
    "findings",
    "goals_missed_sentence",
    "kpi_tiles",
    "kpi_tiles_html",
    "kpi_values",
    "load_outputs",
    "missing_sentence",
    "persona_size_changes",
    "suppress_small_cells",
]

#: The analysis notebooks whose outputs the summary reads.
NB_QUALITY = "00_data_quality"
NB_STAGES = "10_journey_stages"
NB_ATTRIBUTION = "20_touchpoints_attribution"
NB_PERSONAS = "30_personas"
NB_CHURN = "40_churn"
NB_RECOMMEND = "50_recommendations"
NB_MAP = "60_journey_map"
NOTEBOOKS = (NB_QUALITY, NB_STAGES, NB_ATTRIBUTION, NB_PERSONAS, NB_CHURN, NB_RECOMMEND, NB_MAP)

#: KPIs in the order the tiles show them (goals missed first, then this order).
KPI_ORDER = (
    "conversion", "retention", "repeat_rate", "nps", "csat", "cart_abandonment", "churn_risk",
    "revenue_at_risk",
)  # fmt: skip
#: KPIs where lower is better (used for the change arrow when no objective says otherwise).
LOWER_IS_BETTER = frozenset({"cart_abandonment", "churn_risk", "revenue_at_risk"})

#: Finding kinds and what each puts at stake (``at_stake``, in customer outcomes).
FINDING_KINDS = {
    "pain_point": "the most severe pain point (60 pain_points, rank 1): its conversions at stake "
    "(observed against expected conversions of the affected sessions)",
    "dropoff": "the funnel step that loses most customers (10 dropoff_summary): dropped "
    "customers x the conversion of those who went on from the next step to the last (funnel, "
    "strict): the conversions the step would add if the dropped went on like the others (an "
    "upper bound)",
    "persona": "the persona whose revenue share most exceeds its customer share (30 "
    "persona_cards): customers x (revenue share - customer share); without revenue, the "
    "largest persona: customers x (customer share - an even split)",
    "churn": "customers at high churn risk, probability >= the playbook's high_risk (40 "
    "churn_at_risk): the sum of their churn probabilities (customers expected to leave)",
    "action": "the recommended action with the most value at stake (50 action_summary): its "
    "customers x their mean churn probability",
    "detractor_driver": "the event that most clearly precedes detractors, significant only "
    "(60 detractor_drivers): detractors with the event x (1 - 1/lift), the detractors it "
    "accounts for",
    "channel": "the channel with the most conversion credit under the Markov model, else "
    "Shapley, else linear (20 credit_by_model): its conversions above an even split across "
    "channels",
}

_MISSING = ("notebook_not_run", "table_not_saved")
_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_]*$")

# --------------------------------------------------------------------------------------------
# Words (every generated word in English and Bahasa Indonesia)
# --------------------------------------------------------------------------------------------

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        # KPI labels
        "kpi_conversion": "Conversion rate",
        "kpi_retention": "{days}-day retention",
        "kpi_repeat_rate": "Repeat purchase rate",
        "kpi_nps": "Net Promoter Score (NPS)",
        "kpi_csat": "Customer satisfaction (CSAT)",
        "kpi_cart_abandonment": "Cart abandonment",
        "kpi_churn_risk": "Churn risk",
        "kpi_revenue_at_risk": "Revenue at risk",
        # KPI definitions
        "def_conversion": (
            "customers with at least one order / customers with any activity (visit or order), "
            "up to the cut-off"
        ),
        "def_retention": (
            "buyers who ordered again within {days} days of their first order / buyers whose "
            "first order is at least {days} days old"
        ),
        "def_repeat_rate": "buyers with two or more orders / all buyers",
        "def_cart_abandonment": (
            "carts neither bought in their visit nor recovered within {days} days / carts"
        ),
        "def_nps": (
            "share of NPS answers of 9-10 (promoters) minus share of 0-6 (detractors), in points"
        ),
        "def_csat": "CSAT answers of 4 or 5 (satisfied) / CSAT answers",
        "def_churn_risk": (
            "mean predicted churn probability of the scored customers: the expected share of "
            "them who leave within the churn horizon"
        ),
        "def_revenue_at_risk": (
            "sum over the scored customers of churn probability x customer value"
        ),
        # tiles
        "target": "Target",
        "met": "met",
        "missed": "missed",
        "no_target": "no target set",
        "not_measured": "not measured in this run",
        "suppressed": "fewer than {n}: not shown",
        "base": "base",
        "vs_previous": "vs previous run",
        "no_previous": "no previous value",
        "unchanged": "unchanged",
        "pp": "pp",
        "tiles_caption": "Key figures against the goals",
        # lead sentences
        "goals_none": "No goals are set for this report (add `objectives` to the configuration).",
        "goals_all_met": "All {n} goals are met: {items}.",
        "goals_missed": "{k} of {n} goals are missed: {items}.",
        "goals_met_too": " Met: {items}.",
        "goals_none_missed": "No goal is missed; {m} of {n} are met.",
        "goals_unmeasured": " Not measured in this run: {items}.",
        "goals_suppressed": " Too few to show (fewer than {n}): {items}.",
        "goal_item": "{label} at {value} against a target of {direction} {target}",
        "changes_first": (
            "There is no previous run to compare with: changes will be shown from the next run."
        ),
        "changes_none": (
            "No KPI and no persona size changed by more than {threshold} since the previous run."
        ),
        "changes_lead": "Since the previous run: {items}.",
        "change_up": "{label} rose from {old} to {new} ({rel})",
        "change_down": "{label} fell from {old} to {new} ({rel})",
        "persona_grew": "persona **{label}** grew from {old} to {new} customers ({rel})",
        "persona_shrank": "persona **{label}** shrank from {old} to {new} customers ({rel})",
        "persona_new": "persona **{label}** is new ({new} customers)",
        "persona_gone": "persona **{label}** no longer appears (it had {old} customers)",
        # missing outputs
        "missing_none": "Every analysis this summary reads is present.",
        "missing_lead": "Not in this summary: {items}.",
        "missing_notebook": "{notebook} (the notebook did not run)",
        "missing_table": "{table} of {notebook} (not saved)",
        # findings
        "f_pain_point": (
            "The most severe pain point is **{title}** at the {stage} stage: {customers} "
            "customers ({sessions} sessions) were affected, with {observed} against "
            "{expected} expected; about {conv} conversions ({money}) are at stake."
        ),
        "f_dropoff": (
            "The largest drop in the funnel is after **{step}**: {dropped} of {reached} "
            "customers ({rate}) did not go on to {next}; had they gone on like the others, up "
            "to {conv} more would have completed the funnel."
        ),
        "f_persona_value": (
            "The persona **{label}** is {share} of customers ({customers} of {total}) but "
            "brings {rev_share} of the revenue."
        ),
        "f_persona_size": (
            "The largest persona, **{label}**, holds {share} of customers ({customers} of {total})."
        ),
        "f_churn": (
            "{n} of {scored} scored customers ({share}) are at high churn risk (probability "
            "{threshold} or more); about {expected} of them are expected to leave, with "
            "{money} of customer value at stake."
        ),
        "f_churn_novalue": (
            "{n} of {scored} scored customers ({share}) are at high churn risk (probability "
            "{threshold} or more); about {expected} of them are expected to leave."
        ),
        "f_action": (
            "The recommended action with the most value at stake is **{action}** "
            "({channel}): {customers} customers ({share} of all), {money} of customer value at "
            "stake, mean churn probability {p}."
        ),
        "f_detractor": (
            "**{event}** comes before detractors most clearly: {ds} of {d} detractors had it "
            "before answering, against {ps} of promoters (lift {lift}, 95% interval {lo} to "
            "{hi}); NPS after it is {with_} against {without} without it."
        ),
        "f_channel": (
            "**{channel}** earns the most conversion credit under the {model} model: {conv} of "
            "{total} conversions ({share}), worth {money}{roas}."
        ),
        "f_channel_roas": ", a return of {roas}x on its spend of {cost}",
    },
    "id": {
        "kpi_conversion": "Tingkat konversi",
        "kpi_retention": "Retensi {days} hari",
        "kpi_repeat_rate": "Tingkat pembelian ulang",
        "kpi_nps": "Net Promoter Score (NPS)",
        "kpi_csat": "Kepuasan pelanggan (CSAT)",
        "kpi_cart_abandonment": "Keranjang ditinggalkan",
        "kpi_churn_risk": "Risiko churn",
        "kpi_revenue_at_risk": "Pendapatan berisiko",
        "def_conversion": (
            "pelanggan dengan setidaknya satu pesanan / pelanggan dengan aktivitas apa pun "
            "(kunjungan atau pesanan), sampai tanggal batas"
        ),
        "def_retention": (
            "pembeli yang memesan lagi dalam {days} hari setelah pesanan pertama / pembeli yang "
            "pesanan pertamanya sudah berumur setidaknya {days} hari"
        ),
        "def_repeat_rate": "pembeli dengan dua pesanan atau lebih / semua pembeli",
        "def_cart_abandonment": (
            "keranjang yang tidak dibeli dalam kunjungannya dan tidak dipulihkan dalam {days} "
            "hari / semua keranjang"
        ),
        "def_nps": (
            "porsi jawaban NPS 9-10 (promotor) dikurangi porsi jawaban 0-6 (detraktor), dalam poin"
        ),
        "def_csat": "jawaban CSAT bernilai 4 atau 5 (puas) / semua jawaban CSAT",
        "def_churn_risk": (
            "rata-rata probabilitas churn yang diprediksi untuk pelanggan yang dinilai: porsi "
            "yang diperkirakan berhenti dalam horizon churn"
        ),
        "def_revenue_at_risk": (
            "jumlah probabilitas churn x nilai pelanggan, atas semua pelanggan yang dinilai"
        ),
        "target": "Target",
        "met": "tercapai",
        "missed": "tidak tercapai",
        "no_target": "tanpa target",
        "not_measured": "tidak diukur pada laporan ini",
        "suppressed": "kurang dari {n}: tidak ditampilkan",
        "base": "basis",
        "vs_previous": "dibanding laporan sebelumnya",
        "no_previous": "belum ada nilai sebelumnya",
        "unchanged": "tidak berubah",
        "pp": "poin",
        "tiles_caption": "Angka utama dibanding target",
        "goals_none": (
            "Belum ada target untuk laporan ini (tambahkan `objectives` pada konfigurasi)."
        ),
        "goals_all_met": "Semua {n} target tercapai: {items}.",
        "goals_missed": "{k} dari {n} target tidak tercapai: {items}.",
        "goals_met_too": " Tercapai: {items}.",
        "goals_none_missed": "Tidak ada target yang terlewat; {m} dari {n} tercapai.",
        "goals_unmeasured": " Tidak diukur pada laporan ini: {items}.",
        "goals_suppressed": " Terlalu sedikit untuk ditampilkan (kurang dari {n}): {items}.",
        "goal_item": "{label} sebesar {value} dibanding target {direction} {target}",
        "changes_first": (
            "Belum ada laporan sebelumnya untuk dibandingkan: perubahan akan ditampilkan mulai "
            "laporan berikutnya."
        ),
        "changes_none": (
            "Tidak ada KPI maupun ukuran persona yang berubah lebih dari {threshold} sejak "
            "laporan sebelumnya."
        ),
        "changes_lead": "Sejak laporan sebelumnya: {items}.",
        "change_up": "{label} naik dari {old} menjadi {new} ({rel})",
        "change_down": "{label} turun dari {old} menjadi {new} ({rel})",
        "persona_grew": "persona **{label}** bertambah dari {old} menjadi {new} pelanggan ({rel})",
        "persona_shrank": (
            "persona **{label}** berkurang dari {old} menjadi {new} pelanggan ({rel})"
        ),
        "persona_new": "persona **{label}** baru muncul ({new} pelanggan)",
        "persona_gone": "persona **{label}** tidak muncul lagi (sebelumnya {old} pelanggan)",
        "missing_none": "Semua analisis yang dibaca ringkasan ini tersedia.",
        "missing_lead": "Tidak ada dalam ringkasan ini: {items}.",
        "missing_notebook": "{notebook} (notebook tidak dijalankan)",
        "missing_table": "{table} dari {notebook} (tidak disimpan)",
        "f_pain_point": (
            "Titik masalah paling berat adalah **{title}** pada tahap {stage}: {customers} "
            "pelanggan ({sessions} sesi) terdampak, dengan {observed} dibanding {expected} yang "
            "diharapkan; sekitar {conv} konversi ({money}) dipertaruhkan."
        ),
        "f_dropoff": (
            "Penurunan terbesar di funnel terjadi setelah **{step}**: {dropped} dari {reached} "
            "pelanggan ({rate}) tidak lanjut ke {next}; jika mereka lanjut seperti yang lain, "
            "hingga {conv} pelanggan lagi akan menyelesaikan funnel."
        ),
        "f_persona_value": (
            "Persona **{label}** mencakup {share} pelanggan ({customers} dari {total}) tetapi "
            "menyumbang {rev_share} dari pendapatan."
        ),
        "f_persona_size": (
            "Persona terbesar, **{label}**, mencakup {share} pelanggan ({customers} dari {total})."
        ),
        "f_churn": (
            "{n} dari {scored} pelanggan yang dinilai ({share}) berisiko churn tinggi "
            "(probabilitas {threshold} atau lebih); sekitar {expected} di antaranya diperkirakan "
            "berhenti, dengan nilai pelanggan {money} dipertaruhkan."
        ),
        "f_churn_novalue": (
            "{n} dari {scored} pelanggan yang dinilai ({share}) berisiko churn tinggi "
            "(probabilitas {threshold} atau lebih); sekitar {expected} di antaranya diperkirakan "
            "berhenti."
        ),
        "f_action": (
            "Tindakan yang disarankan dengan nilai dipertaruhkan terbesar adalah **{action}** "
            "({channel}): {customers} pelanggan ({share} dari semua), nilai pelanggan {money} "
            "dipertaruhkan, rata-rata probabilitas churn {p}."
        ),
        "f_detractor": (
            "**{event}** paling jelas mendahului detraktor: {ds} dari {d} detraktor "
            "mengalaminya sebelum menjawab, dibanding {ps} promotor (lift {lift}, interval 95% "
            "{lo} sampai {hi}); NPS setelahnya {with_} dibanding {without} tanpanya."
        ),
        "f_channel": (
            "**{channel}** mendapat kredit konversi terbesar menurut model {model}: {conv} dari "
            "{total} konversi ({share}), senilai {money}{roas}."
        ),
        "f_channel_roas": ", dengan imbal hasil {roas}x atas biaya iklan {cost}",
    },
}


def _t(language: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``language`` (English when the language is unknown), filled in."""
    texts = _TEXT.get(language, _TEXT["en"])
    return texts[key].format(**values)


def _words(name: object) -> str:
    """A machine name in words (``organic_search`` -> ``organic search``)."""
    return str(name).replace("_", " ")


def _cap(text: object) -> str:
    """First letter upper case (a name that opens a sentence)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def _num(value: Any) -> float:
    """A plain float; NA/None become NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _finite(value: Any) -> bool:
    return math.isfinite(_num(value))


# --------------------------------------------------------------------------------------------
# Reading the analysis outputs
# --------------------------------------------------------------------------------------------


@dataclass
class Outputs:
    """Lazy, read-only access to the tables the analysis notebooks of one run saved.

    ``root`` is the run's ``outputs`` folder: ``<root>/<notebook>/tables/<name>.parquet``.
    :meth:`table` reads a table once and returns it (a shallow copy: changing it does not
    change the cache), or ``None`` when it is missing; every miss is remembered with its reason
    (:attr:`missing`), so the summary can say what it could not show.
    """

    root: Path
    _cache: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)
    _missing: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def path(self, notebook: str, name: str) -> Path:
        """Where the table ``name`` of ``notebook`` is (whether or not it exists)."""
        for what, value in (("notebook", notebook), ("table", name)):
            if not isinstance(value, str) or not _NAME.match(value):
                raise ValueError(
                    f"{what} name must be letters, digits and underscores, not {value!r}"
                )
        return Path(self.root) / notebook / "tables" / f"{name}.parquet"

    def notebooks(self) -> list[str]:
        """The notebooks of this run that saved at least one table, sorted."""
        root = Path(self.root)
        return sorted(
            p.name for p in root.iterdir() if p.is_dir() and any((p / "tables").glob("*.parquet"))
        )

    def has(self, notebook: str, name: str) -> bool:
        """Whether the table exists (does not record a miss)."""
        return (notebook, name) in self._cache or self.path(notebook, name).is_file()

    def table(self, notebook: str, name: str) -> pd.DataFrame | None:
        """The saved table, or ``None`` when the notebook did not run or did not save it."""
        key = (notebook, name)
        if key not in self._cache:
            path = self.path(notebook, name)
            if not path.is_file():
                tables = Path(self.root) / notebook / "tables"
                self._missing[key] = _MISSING[1] if tables.is_dir() else _MISSING[0]
                return None
            self._cache[key] = pd.read_parquet(path)
        return self._cache[key].copy(deep=False)

    @property
    def missing(self) -> pd.DataFrame:
        """The tables asked for and not found: one row per notebook x table, with ``reason``
        ``notebook_not_run`` (no tables folder) or ``table_not_saved``."""
        rows = [(nb, t, r) for (nb, t), r in sorted(self._missing.items())]
        return pd.DataFrame(rows, columns=["notebook", "table", "reason"])


def load_outputs(run_outputs_dir: str | Path) -> Outputs:
    """The outputs of one run (``reports/<client>/<run_id>/outputs``, or the staging folder's
    ``outputs`` during a run: the report notebook's ``output_dir.parent``).

    Raises
    ------
    FileNotFoundError
        When the folder does not exist (a wrong path, not a skipped notebook).
    """
    root = Path(run_outputs_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"run outputs folder not found: {root}")
    return Outputs(root)


def missing_sentence(outputs: Outputs, report: ReportSpec) -> str:
    """What the summary could not read, in words: notebooks that did not run, then tables not
    saved (from the misses :class:`Outputs` has recorded so far: call it last)."""
    lang = report.language
    miss = outputs.missing
    if miss.empty:
        return _t(lang, "missing_none")
    items = [
        _t(lang, "missing_notebook", notebook=nb)
        for nb in miss.loc[miss["reason"] == _MISSING[0], "notebook"].drop_duplicates()
    ]
    items += [
        _t(lang, "missing_table", table=r.table, notebook=r.notebook)
        for r in miss[miss["reason"] == _MISSING[1]].itertuples()
    ]
    return _t(lang, "missing_lead", items="; ".join(items))


# --------------------------------------------------------------------------------------------
# KPI values
# --------------------------------------------------------------------------------------------


def kpi_values(outputs: Outputs, *, language: str = "en") -> pd.DataFrame:
    """The headline KPIs a run's outputs hold (see the module table for the definitions).

    Parameters
    ----------
    outputs
        :func:`load_outputs` of the run.
    language
        ``en`` or ``id``: the language of ``label`` and ``definition``.

    Returns
    -------
    pandas.DataFrame
        One row per KPI available (a finite value), in :data:`KPI_ORDER`: ``kpi``, ``label``,
        ``value``, ``unit`` (``share`` 0..1, ``points`` or ``money``), ``numerator``,
        ``denominator`` (the base: customers, buyers, carts, answers or scored customers),
        ``source`` (``notebook/table``), ``definition``. For ``nps`` the numerator is promoters
        minus detractors; for ``churn_risk`` the sum of probabilities (customers expected to
        leave); for ``revenue_at_risk`` the numerator is NaN and the denominator the customers
        with a known value.
    """
    rows: list[dict] = []

    def add(kpi, value, unit, num, den, source, label_values=None, def_values=None) -> None:  # noqa: ANN001
        if not _finite(value):
            return
        rows.append(
            {
                "kpi": kpi,
                "label": _t(language, f"kpi_{kpi}", **(label_values or {})),
                "value": float(value),
                "unit": unit,
                "numerator": _num(num),
                "denominator": _num(den),
                "source": source,
                "definition": _t(language, f"def_{kpi}", **(def_values or {})),
            }
        )

    kpis = outputs.table(NB_STAGES, "kpis")
    src = f"{NB_STAGES}/kpis"
    if kpis is not None and len(kpis):
        by_key = {str(k): r for k, r in zip(kpis["key"], kpis.to_dict("records"), strict=True)}
        if "conversion_rate" in by_key:
            r = by_key["conversion_rate"]
            add("conversion", r["value"], "share", r["numerator"], r["denominator"], src)
        # the 90-day retention the objectives speak of; another horizon when that is all there is
        retention = sorted(
            (k for k in by_key if re.fullmatch(r"retention_rate_\d+d", k)),
            key=lambda k: (k != "retention_rate_90d", k),
        )
        if retention:
            r = by_key[retention[0]]
            days = {"days": int(re.findall(r"\d+", retention[0])[0])}
            add("retention", r["value"], "share", r["numerator"], r["denominator"], src,
                days, days)  # fmt: skip
        if "repeat_purchase_rate" in by_key:
            r = by_key["repeat_purchase_rate"]
            add("repeat_rate", r["value"], "share", r["numerator"], r["denominator"], src)

    cart = outputs.table(NB_STAGES, "cart_abandonment")
    if cart is not None and len(cart):
        c = cart.iloc[0]
        days = {"days": f"{_num(c.get('recovery_days')):g}"}
        add("cart_abandonment", c["abandonment_rate"], "share", c["lost"], c["carts"],
            f"{NB_STAGES}/cart_abandonment", def_values=days)  # fmt: skip

    sat = outputs.table(NB_MAP, "satisfaction_overall")
    if sat is not None and len(sat):
        src = f"{NB_MAP}/satisfaction_overall"
        nps = sat[(sat["kind"] == "nps") & (sat["n"] > 0)]
        if len(nps):
            r = nps.iloc[0]
            add("nps", r["nps"], "points", _num(r["promoters"]) - _num(r["detractors"]), r["n"],
                src)  # fmt: skip
        csat = sat[(sat["kind"] == "csat") & (sat["n"] > 0)]
        if len(csat):
            r = csat.iloc[0]
            add("csat", r["top2_share"], "share", r["top2"], r["n"], src)

    risk = outputs.table(NB_CHURN, "churn_at_risk")
    if risk is not None and len(risk):
        src = f"{NB_CHURN}/churn_at_risk"
        p = pd.to_numeric(risk["churn_probability"], errors="coerce").dropna()
        if len(p):
            add("churn_risk", p.mean(), "share", p.sum(), len(p), src)
        loss = pd.to_numeric(risk["expected_loss"], errors="coerce").dropna()
        if len(loss):
            add("revenue_at_risk", loss.sum(), "money", np.nan, len(loss), src)

    out = pd.DataFrame(
        rows,
        columns=["kpi", "label", "value", "unit", "numerator", "denominator", "source",
                 "definition"],
    )  # fmt: skip
    order = {k: i for i, k in enumerate(KPI_ORDER)}
    return out.sort_values("kpi", key=lambda s: s.map(order), ignore_index=True)


# --------------------------------------------------------------------------------------------
# KPI tiles: value vs target, change since the previous run
# --------------------------------------------------------------------------------------------

_TILE_COLUMNS = [
    "kpi", "label", "objective", "value", "unit", "numerator", "denominator", "target",
    "direction", "met", "status", "previous", "change", "relative_change", "better", "notable",
    "source", "definition",
]  # fmt: skip
_CHANGE_COLUMNS = ("previous", "change", "relative_change", "better", "notable")
_STATUS_ORDER = {"missed": 0, "not_measured": 1, "suppressed": 2, "met": 3, "no_target": 4}


def _objective_fields(obj: Any) -> tuple[str, float, str, str | None]:
    get = obj.get if isinstance(obj, Mapping) else lambda k, d=None: getattr(obj, k, d)
    kpi, target = get("kpi"), get("target")
    direction, label = get("direction", ">=") or ">=", get("label")
    if kpi not in KPI_ORDER:
        raise ValueError(f"objective kpi must be one of {list(KPI_ORDER)}, not {kpi!r}")
    if direction not in (">=", "<="):
        raise ValueError(f"objective direction must be '>=' or '<=', not {direction!r}")
    if not _finite(target):
        raise ValueError(f"objective target for {kpi} must be a number, not {target!r}")
    return str(kpi), float(target), str(direction), label


def _meets(value: float, target: float, direction: str) -> bool:
    if math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12):
        return True
    return value >= target if direction == ">=" else value <= target


def kpi_tiles(
    values: pd.DataFrame,
    objectives: Iterable[Any] = (),
    *,
    previous: pd.DataFrame | None = None,
    change_threshold: float = 0.1,
    min_count: int | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Each KPI against its target and against the previous run.

    Parameters
    ----------
    values
        :func:`kpi_values`.
    objectives
        The config's ``objectives`` (:class:`~journeylib.config.Objective`, or mappings with
        ``kpi``, ``target``, ``direction``, ``label``).
    previous
        The ``kpi_tiles`` table of the previous successful run (its ``kpi`` and ``value``), or
        ``None`` on a first run.
    change_threshold
        A change is ``notable`` when ``|relative_change|`` exceeds it (``ReportSpec.
        change_threshold``); from a previous value of 0, any change is notable.
    min_count
        Small-cell threshold (``ReportSpec.min_cell_count``): a KPI whose base (denominator)
        is above 0 and below it is not shown (value, numerator, denominator and change set to
        missing, status ``suppressed``); ``None``: no suppression.
    language
        Language of the labels of objectives whose KPI is not measured.

    Returns
    -------
    pandas.DataFrame
        One row per objective, plus one per available KPI without an objective: the
        :func:`kpi_values` columns, ``objective`` (the goal in the client's words, or NA),
        ``target``, ``direction``, ``met`` (boolean; NA without a target or a value),
        ``status`` (``missed``; ``not_measured``: an objective whose KPI this run lacks;
        ``suppressed``: too few to show; ``met``; ``no_target``), ``previous``, ``change`` (value - previous), ``relative_change``
        (change / |previous|; NaN when previous is 0 or missing), ``better`` (the change goes the
        good way: the objective's direction, else higher is better except for cart abandonment,
        churn risk and revenue at risk; NA when unchanged), ``notable``. Sorted: missed goals
        first, then unmeasured goals, suppressed KPIs, goals met, KPIs without a target;
        :data:`KPI_ORDER` within.
    """
    if not (isinstance(change_threshold, int | float) and change_threshold > 0):
        raise ValueError(f"change_threshold must be a positive number, not {change_threshold!r}")
    if min_count is not None and (isinstance(min_count, bool) or not int(min_count) >= 1):
        raise ValueError(f"min_count must be a positive integer or None, not {min_count!r}")
    by_kpi = {r["kpi"]: r for r in values.to_dict("records")}
    goals = [_objective_fields(o) for o in objectives]
    with_goal = {g[0] for g in goals}
    rows: list[dict] = []
    for kpi, target, direction, label in goals:
        base = by_kpi.get(kpi)
        if base is None:
            # the definitions' defaults (the measured tiles say what the run used)
            days = (
                {"days": 90} if kpi == "retention"
                else {"days": JourneySpec.model_fields["recovery_days"].default}
                if kpi == "cart_abandonment" else {}
            )  # fmt: skip
            base = {
                "kpi": kpi, "label": _t(language, f"kpi_{kpi}", **days), "value": np.nan,
                "unit": "money" if kpi == "revenue_at_risk" else
                ("points" if kpi == "nps" else "share"),
                "numerator": np.nan, "denominator": np.nan, "source": pd.NA,
                "definition": _t(language, f"def_{kpi}", **days),
            }  # fmt: skip
        row = dict(base, objective=label if label else pd.NA, target=target, direction=direction)
        if _finite(row["value"]):
            row["met"] = _meets(float(row["value"]), target, direction)
            row["status"] = "met" if row["met"] else "missed"
        else:
            row["met"], row["status"] = pd.NA, "not_measured"
        rows.append(row)
    for kpi, base in by_kpi.items():
        if kpi not in with_goal:
            rows.append(
                dict(
                    base,
                    objective=pd.NA,
                    target=np.nan,
                    direction=pd.NA,
                    met=pd.NA,
                    status="no_target",
                )  # fmt: skip
            )
    out = pd.DataFrame(rows, columns=[c for c in _TILE_COLUMNS if c not in _CHANGE_COLUMNS])
    if min_count is not None and len(out):
        den = out["denominator"].astype("float64")
        small = ((den > 0) & (den < min_count)).to_numpy()
        out.loc[small, ["value", "numerator", "denominator"]] = np.nan
        out.loc[small, "met"] = pd.NA
        out.loc[small, "status"] = "suppressed"

    prev = pd.Series(dtype="float64")
    if previous is not None and len(previous):
        p = previous.dropna(subset=["value"]).drop_duplicates("kpi")
        prev = pd.Series(pd.to_numeric(p["value"]).to_numpy(), index=p["kpi"].astype(str))
    out["previous"] = out["kpi"].map(prev).astype("float64")
    value = out["value"].astype("float64")
    out["change"] = value - out["previous"]
    denom = out["previous"].abs().where(out["previous"] != 0)
    out["relative_change"] = out["change"] / denom
    from_zero = (out["previous"] == 0) & (out["change"] != 0) & out["change"].notna()
    out["notable"] = (out["relative_change"].abs() > change_threshold) | from_zero
    higher = np.where(
        out["direction"].notna(),
        out["direction"].astype(object) == ">=",
        ~out["kpi"].isin(LOWER_IS_BETTER),
    ).astype(bool)
    up = out["change"] > 0
    better = pd.array(np.where(higher, up, ~up), dtype="boolean")
    better[~(out["change"].notna() & (out["change"] != 0)).to_numpy()] = pd.NA
    out["better"] = better
    out["met"] = pd.array(out["met"].tolist(), dtype="boolean")
    out["target"] = out["target"].astype("float64")
    out["direction"] = out["direction"].astype("string")
    out["objective"] = out["objective"].astype("string")
    order = {k: i for i, k in enumerate(KPI_ORDER)}
    out = out.assign(_s=out["status"].map(_STATUS_ORDER), _k=out["kpi"].map(order))
    out = out.sort_values(["_s", "_k"], kind="stable", ignore_index=True)
    return out[_TILE_COLUMNS]


def _fmt_value(value: float, unit: str, report: ReportSpec) -> str:
    if unit == "share":
        return fmt_pct(value, report)
    if unit == "money":
        return fmt_money(value, report) if _finite(value) else "–"
    return fmt_number(value, report, decimals=1)


def _signed(text_abs: str, value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + text_abs


def _fmt_change(change: float, unit: str, report: ReportSpec) -> str:
    """A change in the unit's words: percentage points for shares, points, money."""
    if unit == "share":
        text = fmt_number(abs(change) * 100, report, decimals=1) + " " + _t(report.language, "pp")
    elif unit == "money":
        text = fmt_money(abs(change), report)
    else:
        text = fmt_number(abs(change), report, decimals=1)
    return _signed(text, change)


def _fmt_relative(rel: float, report: ReportSpec) -> str:
    return _signed(fmt_pct(abs(rel), report), rel) if _finite(rel) else "–"


_GOOD, _BAD, _NEUTRAL = "#1B7A3A", "#B3261E", "#5F6368"


def kpi_tiles_html(tiles: pd.DataFrame, report: ReportSpec) -> str:
    """The tiles as a self-contained HTML fragment: value, base, target with a met/missed mark,
    change against the previous run.

    Inline styles only (no ``<style>`` block, no script, no external resource), every text
    escaped; tiles do not break across printed pages and keep their colours when printed. The
    top border and values use ``report.primary_color``; met/missed and better/worse are said in
    words and symbols as well as colour.
    """
    lang = report.language
    color = (
        report.primary_color
        if re.fullmatch(r"#[0-9A-Fa-f]{6}", report.primary_color)
        else "#0B6E4F"
    )
    esc = html.escape
    cards: list[str] = []
    for r in tiles.to_dict("records"):
        unit = str(r["unit"])
        lines = [
            f'<div style="font-size:0.85em;color:#3C4043;min-height:2.4em">{esc(str(r["label"]))}'
            "</div>",
            f'<div style="font-size:{"1.4em" if unit == "money" else "1.9em"};font-weight:600;'
            f'line-height:1.2;white-space:nowrap;color:{color}">'
            f"{esc(_fmt_value(r['value'], unit, report))}</div>",
        ]
        if _finite(r["denominator"]):
            lines.append(
                f'<div style="font-size:0.75em;color:{_NEUTRAL}">{esc(_t(lang, "base"))}: '
                f"{esc(fmt_number(r['denominator'], report))}</div>"
            )
        status = r["status"]
        note = _t(lang, status, n=report.min_cell_count)
        mark, tone = {"met": ("✓", _GOOD), "missed": ("✗", _BAD)}.get(status, ("–", _NEUTRAL))
        if _finite(r["target"]):
            target = f"{_dir(r['direction'])} {_fmt_value(r['target'], unit, report)}"
            lines.append(
                f'<div style="font-size:0.85em;margin-top:6px">{esc(_t(lang, "target"))} '
                f'{esc(target)} <span style="color:{tone};font-weight:600">{mark} '
                f"{esc(note)}</span></div>"
            )
        else:
            lines.append(
                f'<div style="font-size:0.85em;margin-top:6px;color:{_NEUTRAL}">{esc(note)}</div>'
            )
        if isinstance(r["objective"], str) and r["objective"]:
            lines.append(
                f'<div style="font-size:0.75em;color:{_NEUTRAL};font-style:italic">'
                f"{esc(r['objective'])}</div>"
            )
        if _finite(r["change"]):
            if r["change"] == 0:
                arrow, tone, text = "→", _NEUTRAL, _t(lang, "unchanged")
            else:
                arrow = "▲" if r["change"] > 0 else "▼"
                tone = _GOOD if r["better"] is True else _BAD
                text = f"{_fmt_change(r['change'], unit, report)}"
                if _finite(r["relative_change"]):
                    text += f" ({_fmt_relative(r['relative_change'], report)})"
            weight = "font-weight:600;" if bool(r["notable"]) else ""
            lines.append(
                f'<div style="font-size:0.8em;margin-top:4px;{weight}color:{tone}">{arrow} '
                f'{esc(text)} <span style="color:{_NEUTRAL};font-weight:400">'
                f"{esc(_t(lang, 'vs_previous'))}</span></div>"
            )
        else:
            lines.append(
                f'<div style="font-size:0.8em;margin-top:4px;color:{_NEUTRAL}">'
                f"{esc(_t(lang, 'no_previous'))}</div>"
            )
        border = _BAD if status == "missed" else color
        cards.append(
            '<div role="listitem" style="flex:1 1 170px;max-width:240px;box-sizing:border-box;'
            f"border:1px solid #DADCE0;border-top:4px solid {border};border-radius:6px;"
            "padding:10px 12px;background:#FFFFFF;color:#202124;break-inside:avoid;"
            'page-break-inside:avoid">' + "".join(lines) + "</div>"
        )
    return (
        f'<div role="list" aria-label="{esc(_t(lang, "tiles_caption"))}" '
        'style="display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 16px 0;'
        "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
        '-webkit-print-color-adjust:exact;print-color-adjust:exact">' + "".join(cards) + "</div>"
    )


# --------------------------------------------------------------------------------------------
# Persona sizes against the previous run
# --------------------------------------------------------------------------------------------


def _sizes(cards: pd.DataFrame) -> pd.DataFrame:
    c = cards[["persona_label", "customers"]].copy()
    c["persona_label"] = c["persona_label"].astype("string")
    g = c.groupby("persona_label", sort=False)["customers"].sum()
    total = g.sum()
    return pd.DataFrame({"customers": g, "share": g / total if total else np.nan})


def persona_size_changes(
    current_cards: pd.DataFrame,
    previous_cards: pd.DataFrame | None,
    *,
    threshold: float,
) -> pd.DataFrame:
    """Persona sizes against the previous run, personas matched by label.

    Persona numbers are not stable between runs (a refit may number them differently), their
    generated labels are; personas sharing a label are added up. A persona whose label changed
    reads as one persona gone and one new.

    Parameters
    ----------
    current_cards, previous_cards
        ``30_personas/persona_cards`` of this run and of the previous one (``persona_label``,
        ``customers``); ``previous_cards`` ``None`` on a first run.
    threshold
        A persona is ``notable`` when its customers changed by more than this share of its
        previous size, or when it is new or gone.

    Returns
    -------
    pandas.DataFrame
        One row per persona label in either run: ``persona_label``, ``customers``, ``share``,
        ``previous_customers``, ``previous_share``, ``change`` (customers), ``relative_change``
        (change / previous customers), ``share_change`` (share points, 0..1 scale), ``status``
        (``matched``, ``new``, ``gone``, ``no_previous``), ``notable``. Current personas
        largest first, then the gone ones largest first.
    """
    if not (isinstance(threshold, int | float) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, not {threshold!r}")
    for name, cards in (("current_cards", current_cards), ("previous_cards", previous_cards)):
        if cards is not None:
            absent = [c for c in ("persona_label", "customers") if c not in cards.columns]
            if absent:
                raise ValueError(f"{name} lacks the column(s) {absent}")
    cur = _sizes(current_cards)
    if previous_cards is None:
        prev = pd.DataFrame({"customers": pd.Series(dtype="float64"), "share": []})
    else:
        prev = _sizes(previous_cards)
    out = cur.join(prev.add_prefix("previous_"), how="outer")
    out = out.reset_index(names="persona_label")
    for c in ("customers", "share", "previous_customers", "previous_share"):
        out[c] = out[c].astype("float64")
    out["change"] = out["customers"] - out["previous_customers"]
    out["relative_change"] = out["change"] / out["previous_customers"].where(
        out["previous_customers"] > 0
    )
    out["share_change"] = out["share"] - out["previous_share"]
    if previous_cards is None:
        out["status"] = "no_previous"
    else:
        out["status"] = np.select(
            [out["previous_customers"].isna(), out["customers"].isna()],
            ["new", "gone"],
            "matched",
        )
    out["status"] = out["status"].astype("string")
    out["notable"] = (out["relative_change"].abs() > threshold) | out["status"].isin(
        ["new", "gone"]
    )
    out["notable"] = out["notable"].astype(bool)
    out = out.assign(
        _gone=out["customers"].isna(), _n=out["customers"].fillna(out["previous_customers"])
    )
    out = out.sort_values(["_gone", "_n", "persona_label"], ascending=[True, False, True])
    return out.drop(columns=["_gone", "_n"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Lead sentences
# --------------------------------------------------------------------------------------------


def _goal_name(r: Mapping) -> str:
    """The goal in the client's words, else the KPI label."""
    return r["objective"] if isinstance(r["objective"], str) and r["objective"] else r["label"]


def _dir(direction: object) -> str:
    """``>=`` and ``<=`` as a reader writes them."""
    return {">=": "≥", "<=": "≤"}.get(str(direction), str(direction))


def _goal_item(r: Mapping, report: ReportSpec) -> str:
    return _t(
        report.language, "goal_item", label=_goal_name(r),
        value=_fmt_value(r["value"], r["unit"], report), direction=_dir(r["direction"]),
        target=_fmt_value(r["target"], r["unit"], report),
    )  # fmt: skip


def goals_missed_sentence(tiles: pd.DataFrame, report: ReportSpec) -> str:
    """The summary's first sentence: the goals missed (with value and target), then those met,
    those this run could not measure and those too small to show; or that no goals are set.

    ``tiles``: :func:`kpi_tiles` (its rows with a target are the goals).
    """
    lang = report.language
    goals = tiles[tiles["target"].notna()]
    if goals.empty:
        return _t(lang, "goals_none")
    rec = {s: goals[goals["status"] == s].to_dict("records") for s in _STATUS_ORDER}
    n, k = len(goals), len(rec["missed"])
    items = {s: "; ".join(_goal_item(r, report) for r in rec[s]) for s in ("missed", "met")}
    if len(rec["met"]) == n:
        return _t(lang, "goals_all_met", n=n, items=items["met"])
    if k:
        text = _t(lang, "goals_missed", k=k, n=n, items=items["missed"])
    else:
        text = _t(lang, "goals_none_missed", m=len(rec["met"]), n=n)
    if rec["met"]:
        text += _t(lang, "goals_met_too", items=items["met"])
    for status, key in (("not_measured", "goals_unmeasured"), ("suppressed", "goals_suppressed")):
        if rec[status]:
            names = "; ".join(_goal_name(r) for r in rec[status])
            text += _t(lang, key, items=names, n=report.min_cell_count)
    return text


def changes_sentence(
    tiles: pd.DataFrame, persona_changes: pd.DataFrame | None, report: ReportSpec
) -> str:
    """The notable changes since the previous run: KPIs (from :func:`kpi_tiles`), then persona
    sizes (:func:`persona_size_changes`); or that nothing moved beyond
    ``report.change_threshold``, or that there is no previous run."""
    lang = report.language
    kpis = tiles.drop_duplicates("kpi")
    has_prev = kpis["previous"].notna().any()
    pc = persona_changes if persona_changes is not None else pd.DataFrame()
    has_prev_persona = len(pc) and (pc["status"] != "no_previous").any()
    if not has_prev and not has_prev_persona:
        return _t(lang, "changes_first")
    items: list[str] = []
    for r in kpis[kpis["notable"].astype(bool)].to_dict("records"):
        key = "change_up" if r["change"] > 0 else "change_down"
        items.append(
            _t(lang, key, label=r["label"], old=_fmt_value(r["previous"], r["unit"], report),
               new=_fmt_value(r["value"], r["unit"], report),
               rel=_fmt_relative(r["relative_change"], report)
               if _finite(r["relative_change"]) else _fmt_change(r["change"], r["unit"], report))
        )  # fmt: skip
    if len(pc):
        for r in pc[pc["notable"]].to_dict("records"):
            f = lambda v: fmt_number(v, report)  # noqa: E731
            if r["status"] == "new":
                items.append(
                    _t(lang, "persona_new", label=r["persona_label"], new=f(r["customers"]))
                )
            elif r["status"] == "gone":
                items.append(
                    _t(
                        lang,
                        "persona_gone",
                        label=r["persona_label"],
                        old=f(r["previous_customers"]),
                    )
                )
            else:
                key = "persona_grew" if r["change"] > 0 else "persona_shrank"
                items.append(
                    _t(lang, key, label=r["persona_label"], old=f(r["previous_customers"]),
                       new=f(r["customers"]), rel=_fmt_relative(r["relative_change"], report))
                )  # fmt: skip
    if not items:
        return _t(lang, "changes_none", threshold=fmt_pct(report.change_threshold, report))
    return _t(lang, "changes_lead", items="; ".join(items))


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------

_FINDING_COLUMNS = [
    "rank", "kind", "sentence", "number", "unit", "denominator", "size", "at_stake",
    "value_at_stake", "score", "source",
]  # fmt: skip


def _base_customers(outputs: Outputs) -> float:
    """Customers in the analysis: the conversion KPI's denominator (active customers), else the
    persona cards' total, else the scored customers; NaN when none of these exists."""
    kpis = outputs.table(NB_STAGES, "kpis")
    if kpis is not None:
        row = kpis[kpis["key"] == "conversion_rate"]
        if len(row) and _num(row["denominator"].iat[0]) > 0:
            return _num(row["denominator"].iat[0])
    cards = outputs.table(NB_PERSONAS, "persona_cards")
    if cards is not None and len(cards) and cards["customers"].sum() > 0:
        return float(cards["customers"].sum())
    risk = outputs.table(NB_CHURN, "churn_at_risk")
    if risk is not None and len(risk):
        return float(len(risk))
    return float("nan")


def _pain_title(r: Mapping, lang: str, labels: Mapping[str, str]) -> str:
    """The pain point's title in the report language, rebuilt from its fields (one set of
    templates: :func:`journeylib.painpoints.pain_point_title`)."""
    from journeylib.painpoints import pain_point_title

    return pain_point_title(r, language=lang, labels=labels)


def _f_pain_point(outputs: Outputs, report: ReportSpec, labels: Mapping[str, str]) -> dict | None:
    points = outputs.table(NB_MAP, "pain_points")
    if points is None or points.empty:
        return None
    r = points.sort_values("rank").iloc[0].to_dict()
    stake = _num(r["conversions_at_stake"])
    if not stake > 0:
        return None
    f1 = lambda v: fmt_number(v, report, decimals=1)  # noqa: E731
    sentence = _t(
        report.language, "f_pain_point", title=_pain_title(r, report.language, labels),
        stage=labels.get(r["stage"], _words(r["stage"])),
        customers=fmt_number(r["customers"], report), sessions=fmt_number(r["sessions"], report),
        observed=fmt_pct(_num(r["observed_rate"]), report),
        expected=fmt_pct(_num(r["expected_rate"]), report), conv=f1(stake),
        money=fmt_money(_num(r["revenue_at_stake"]), report),
    )  # fmt: skip
    return {
        "kind": "pain_point", "sentence": sentence, "number": _num(r["observed_rate"]),
        "unit": "share", "denominator": _num(r["sessions"]), "size": _num(r["customers"]),
        "at_stake": stake, "value_at_stake": _num(r["revenue_at_stake"]),
        "source": f"{NB_MAP}/pain_points",
    }  # fmt: skip


def _f_dropoff(outputs: Outputs, report: ReportSpec, labels: Mapping[str, str]) -> dict | None:
    drops = outputs.table(NB_STAGES, "dropoff_summary")
    funnel = outputs.table(NB_STAGES, "funnel")
    if drops is None or drops.empty or funnel is None or funnel.empty:
        return None
    if drops["dropped"].sum() <= 0:
        return None
    r = drops.sort_values(["dropped", "step_no"], ascending=[False, True]).iloc[0]
    counts = funnel.set_index("step_no")["customers_strict"].astype("float64")
    nxt, last = int(r["step_no"]) + 1, int(funnel["step_no"].max())
    onward = counts.get(last, np.nan) / counts.get(nxt, np.nan) if counts.get(nxt, 0) > 0 else 0.0
    stake = float(r["dropped"]) * onward
    sentence = _t(
        report.language, "f_dropoff", step=labels.get(r["step"], _words(r["step"])),
        next=labels.get(r["next_step"], _words(r["next_step"])),
        dropped=fmt_number(r["dropped"], report), reached=fmt_number(r["reached"], report),
        rate=fmt_pct(_num(r["dropoff_rate"]), report), conv=fmt_number(stake, report),
    )  # fmt: skip
    return {
        "kind": "dropoff", "sentence": sentence, "number": _num(r["dropoff_rate"]),
        "unit": "share", "denominator": _num(r["reached"]), "size": _num(r["dropped"]),
        "at_stake": stake, "value_at_stake": np.nan, "source": f"{NB_STAGES}/dropoff_summary",
    }  # fmt: skip


def _f_persona(outputs: Outputs, report: ReportSpec) -> dict | None:
    cards = outputs.table(NB_PERSONAS, "persona_cards")
    if cards is None or cards.empty or cards["customers"].sum() <= 0:
        return None
    c = cards.copy()
    total = float(c["customers"].sum())
    c["cshare"] = c["customers"] / total
    lang = report.language
    if "revenue" in c.columns and (c["revenue"].fillna(0) * c["customers"]).sum() > 0:
        money = c["revenue"].fillna(0) * c["customers"]  # revenue: mean per customer
        c["rshare"] = money / money.sum()
        c["gap"] = c["rshare"] - c["cshare"]
        r = c.sort_values(["gap", "customers"], ascending=[False, False]).iloc[0]
        stake, number = float(r["customers"]) * max(float(r["gap"]), 0.0), float(r["rshare"])
        sentence = _t(
            lang, "f_persona_value", label=r["persona_label"], share=fmt_pct(r["cshare"], report),
            customers=fmt_number(r["customers"], report), total=fmt_number(total, report),
            rev_share=fmt_pct(r["rshare"], report),
        )  # fmt: skip
    else:
        r = c.sort_values(["customers", "persona"], ascending=[False, True]).iloc[0]
        even = 1.0 / len(c)
        stake, number = float(r["customers"]) * max(float(r["cshare"]) - even, 0.0), r["cshare"]
        sentence = _t(
            lang, "f_persona_size", label=r["persona_label"], share=fmt_pct(r["cshare"], report),
            customers=fmt_number(r["customers"], report), total=fmt_number(total, report),
        )  # fmt: skip
    return {
        "kind": "persona", "sentence": sentence, "number": float(number), "unit": "share",
        "denominator": total, "size": float(r["customers"]), "at_stake": stake,
        "value_at_stake": np.nan, "source": f"{NB_PERSONAS}/persona_cards",
    }  # fmt: skip


def _f_churn(outputs: Outputs, report: ReportSpec, high_risk: float) -> dict | None:
    risk = outputs.table(NB_CHURN, "churn_at_risk")
    if risk is None or risk.empty:
        return None
    p = pd.to_numeric(risk["churn_probability"], errors="coerce")
    scored = int(p.notna().sum())
    high = p >= high_risk
    n = int(high.sum())
    if n == 0 or scored == 0:
        return None
    expected = float(p[high].sum())
    loss = pd.to_numeric(risk.loc[high, "expected_loss"], errors="coerce")
    value = float(loss.sum()) if loss.notna().any() else np.nan
    values = dict(
        n=fmt_number(n, report), scored=fmt_number(scored, report),
        share=fmt_pct(n / scored, report), threshold=fmt_pct(high_risk, report, decimals=0),
        expected=fmt_number(expected, report),
    )  # fmt: skip
    if _finite(value):
        sentence = _t(report.language, "f_churn", money=fmt_money(value, report), **values)
    else:
        sentence = _t(report.language, "f_churn_novalue", **values)
    return {
        "kind": "churn", "sentence": sentence, "number": n / scored, "unit": "share",
        "denominator": float(scored), "size": float(n), "at_stake": expected,
        "value_at_stake": value, "source": f"{NB_CHURN}/churn_at_risk",
    }  # fmt: skip


def _f_action(outputs: Outputs, report: ReportSpec) -> dict | None:
    from journeylib.playbook import NO_ACTION

    actions = outputs.table(NB_RECOMMEND, "action_summary")
    if actions is None or actions.empty:
        return None
    a = actions[(actions["action"] != NO_ACTION) & (actions["customers"] > 0)]
    a = a[pd.to_numeric(a["value_at_stake"], errors="coerce") > 0]
    if a.empty:
        return None
    r = a.sort_values(["value_at_stake", "customers"], ascending=[False, False]).iloc[0]
    p = _num(r["mean_churn_probability"])
    stake = float(r["customers"]) * p if _finite(p) else 0.0
    sentence = _t(
        report.language, "f_action", action=r["action_label"], channel=_words(r["channel"]),
        customers=fmt_number(r["customers"], report), share=fmt_pct(_num(r["share"]), report),
        money=fmt_money(_num(r["value_at_stake"]), report), p=fmt_pct(p, report),
    )  # fmt: skip
    return {
        "kind": "action", "sentence": sentence, "number": _num(r["value_at_stake"]),
        "unit": "money", "denominator": _num(r["customers"]), "size": _num(r["customers"]),
        "at_stake": stake, "value_at_stake": _num(r["value_at_stake"]),
        "source": f"{NB_RECOMMEND}/action_summary",
    }  # fmt: skip


def _f_detractor(outputs: Outputs, report: ReportSpec, labels: Mapping[str, str]) -> dict | None:
    drivers = outputs.table(NB_MAP, "detractor_drivers")
    if drivers is None or drivers.empty:
        return None
    sig = drivers[
        drivers["supported"].fillna(False).astype(bool)
        & (pd.to_numeric(drivers["lift_low"], errors="coerce") > 1)
        & (pd.to_numeric(drivers["p_value"], errors="coerce") < 0.05)
    ]
    if sig.empty:
        return None
    r = sig.sort_values("rank").iloc[0]
    lift = float(r["lift"])
    stake = float(r["detractors_with"]) * (1.0 - 1.0 / lift)
    f1 = lambda v: fmt_number(_num(v), report, decimals=1)  # noqa: E731
    sentence = _t(
        report.language, "f_detractor", event=_cap(labels.get(r["event"], _words(r["event"]))),
        ds=fmt_pct(_num(r["detractor_share"]), report), d=fmt_number(r["detractors"], report),
        ps=fmt_pct(_num(r["promoter_share"]), report), lift=f1(lift), lo=f1(r["lift_low"]),
        hi=f1(r["lift_high"]), with_=f1(r["nps_with"]), without=f1(r["nps_without"]),
    )  # fmt: skip
    return {
        "kind": "detractor_driver", "sentence": sentence, "number": _num(r["detractor_share"]),
        "unit": "share", "denominator": _num(r["detractors"]), "size": _num(r["n_with"]),
        "at_stake": stake, "value_at_stake": np.nan, "source": f"{NB_MAP}/detractor_drivers",
    }  # fmt: skip


_CREDIT_MODELS = (("Markov", "markov"), ("Shapley", "shapley"), ("Linear", "linear"))


def _f_channel(outputs: Outputs, report: ReportSpec) -> dict | None:
    credit = outputs.table(NB_ATTRIBUTION, "credit_by_model")
    if credit is None or credit.empty:
        return None
    model, key = next(
        ((m, k) for m, k in _CREDIT_MODELS if (credit["model"] == m).any()),
        (str(credit["model"].iat[0]), None),
    )
    c = credit[credit["model"] == model]
    total = float(c["conversions"].sum())
    if total <= 0 or len(c) < 2:
        return None
    r = c.sort_values(["conversions", "channel"], ascending=[False, True]).iloc[0]
    stake = float(r["conversions"]) - total / len(c)
    if stake <= 0:
        return None
    roas = ""
    spend = outputs.table(NB_ATTRIBUTION, "spend_efficiency") if key else None
    if spend is not None and len(spend):
        s = spend[(spend["model"] == key) & (spend["channel"] == r["channel"])]
        if len(s) and _num(s["cost"].iat[0]) > 0 and _finite(s["roas"].iat[0]):
            roas = _t(
                report.language, "f_channel_roas",
                roas=fmt_number(_num(s["roas"].iat[0]), report, decimals=1),
                cost=fmt_money(_num(s["cost"].iat[0]), report),
            )  # fmt: skip
    sentence = _t(
        report.language, "f_channel", channel=_cap(_words(r["channel"])), model=model,
        conv=fmt_number(r["conversions"], report, decimals=1),
        total=fmt_number(total, report), share=fmt_pct(float(r["conversions"]) / total, report),
        money=fmt_money(_num(r["value"]), report), roas=roas,
    )  # fmt: skip
    return {
        "kind": "channel", "sentence": sentence, "number": float(r["conversions"]) / total,
        "unit": "share", "denominator": total, "size": float(r["conversions"]),
        "at_stake": stake, "value_at_stake": np.nan,
        "source": f"{NB_ATTRIBUTION}/credit_by_model",
    }  # fmt: skip


def findings(
    outputs: Outputs,
    report: ReportSpec,
    *,
    top_n: int = 5,
    high_risk: float = 0.5,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The most important findings of a run, as sentences computed from its tables.

    One candidate per kind (:data:`FINDING_KINDS`), each only when its table exists and holds
    something to say; candidates affecting fewer than ``report.min_cell_count`` customers are
    left out (small cells). Ranked by ``score`` = ``at_stake`` / customers in the analysis (the
    conversion KPI's active customers; else the persona cards' total; else the scored
    customers; unnormalised when none is known): the share of the customer base whose outcome
    the finding puts at stake. Ties keep the order of :data:`FINDING_KINDS`.

    Parameters
    ----------
    outputs
        :func:`load_outputs` of the run.
    report
        Language and number formats (``language``, separators, currency) and
        ``min_cell_count``.
    top_n
        How many findings to keep.
    high_risk
        Churn probability from which a customer is at high risk: the playbook's ``high_risk``.
    labels
        Display names of stages and events (e.g. the stage model's labels in the report
        language); others are shown as words.

    Returns
    -------
    pandas.DataFrame
        One row per finding, best first: ``rank``, ``kind``, ``sentence`` (Markdown),
        ``number`` (the headline figure) and its ``unit`` (``share`` or ``money``),
        ``denominator`` (the base of that figure), ``size`` (customers affected; conversions
        credited for ``channel``, NPS answers for ``detractor_driver``), ``at_stake``,
        ``value_at_stake`` (money, where the analysis gives it), ``score``, ``source``.
    """
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, not {top_n!r}")
    if not 0 < high_risk < 1:
        raise ValueError(f"high_risk must be between 0 and 1, not {high_risk!r}")
    labels = dict(labels or {})
    candidates = [
        _f_pain_point(outputs, report, labels),
        _f_dropoff(outputs, report, labels),
        _f_persona(outputs, report),
        _f_churn(outputs, report, high_risk),
        _f_action(outputs, report),
        _f_detractor(outputs, report, labels),
        _f_channel(outputs, report),
    ]
    rows = [c for c in candidates if c is not None and c["size"] >= report.min_cell_count]
    out = pd.DataFrame(rows, columns=[c for c in _FINDING_COLUMNS if c not in ("rank", "score")])
    base = _base_customers(outputs)
    out["score"] = out["at_stake"] / base if _finite(base) and base > 0 else out["at_stake"]
    out["_o"] = out["kind"].map({k: i for i, k in enumerate(FINDING_KINDS)})
    out = out.sort_values(["score", "_o"], ascending=[False, True], kind="stable").head(top_n)
    out["rank"] = np.arange(1, len(out) + 1)
    for c in ("number", "denominator", "size", "at_stake", "value_at_stake", "score"):
        out[c] = out[c].astype("float64")
    return out[_FINDING_COLUMNS].reset_index(drop=True)
