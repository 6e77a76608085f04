"""The set of attribution models a client's report compares, configured once from the YAML.

:func:`model_suite` turns the ``attribution:`` settings into named callables ``Paths -> credit
table``; :func:`credit_all` runs them, :func:`bootstrap_all` puts a bootstrap interval on every
one of them (the same resamples for every model, so their intervals are comparable). The notebook
``20_touchpoints_attribution`` calls these three instead of wiring each model by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd

from journeylib.attribution import rules
from journeylib.attribution.markov import MarkovAttribution
from journeylib.attribution.pathdata import Paths
from journeylib.attribution.shapley import shapley
from journeylib.attribution.uncertainty import bootstrap_models
from journeylib.config import AttributionSpec

__all__ = [
    "MODEL_LABELS",
    "MODEL_LABELS_ID",
    "TIMED_MODELS",
    "bootstrap_all",
    "credit_all",
    "model_label",
    "model_suite",
]

Model = Callable[[Paths], pd.DataFrame]

#: Display names of the models (the data-driven ones last).
MODEL_LABELS: dict[str, str] = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "last_non_direct": "Last non-direct",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position-based (U)",
    "j_shaped": "J-shaped",
    "inverse_j": "Inverse J",
    "markov": "Markov",
    "shapley": "Shapley",
}


#: Display names of the models in Bahasa Indonesia (``report.language: id``).
MODEL_LABELS_ID: dict[str, str] = {
    "first_touch": "Sentuhan pertama",
    "last_touch": "Sentuhan terakhir",
    "last_non_direct": "Sentuhan terakhir non-direct",
    "linear": "Linear",
    "time_decay": "Peluruhan waktu (time decay)",
    "position_based": "Berbasis posisi (U)",
    "j_shaped": "Berbentuk J",
    "inverse_j": "J terbalik",
    "markov": "Markov",
    "shapley": "Shapley",
}


def model_label(name: str, *, language: str = "en") -> str:
    """The display name of a model in ``language`` (``en`` or ``id``; its key when unknown).

    >>> model_label("last_touch"), model_label("last_touch", language="id")
    ('Last touch', 'Sentuhan terakhir')
    """
    if language == "id" and name in MODEL_LABELS_ID:
        return MODEL_LABELS_ID[name]
    return MODEL_LABELS.get(name, name)


def _markov(paths: Paths, *, order: int) -> pd.DataFrame:
    # only the credits: the labelled state and transition tables are not read (and a
    # bootstrap refits the chain on every resample)
    return MarkovAttribution(order=order)._fit(paths, tables=False).attribution_


def model_suite(
    spec: AttributionSpec | None = None, *, markov_order: int = 1, seed: int = 0
) -> dict[str, Model]:
    """Name -> model callable for every model of the comparison, with the client's settings.

    Parameters
    ----------
    spec
        The config's ``attribution`` section (defaults when None): direct channel, time-decay
        half-life, U-shape weights, Shapley's exact-computation limit.
    markov_order
        The Markov order (chosen out of sample by :func:`journeylib.attribution.markov.select_order`).
    seed
        Seed of Shapley's sampling (used only beyond ``shapley_max_exact_channels`` channels).

    Returns
    -------
    dict
        Model key (:data:`MODEL_LABELS` order) -> callable ``Paths -> credit table``. The rule
        models are :class:`~journeylib.attribution.rules.LinearRule` objects, which
        :func:`bootstrap_all` credits on every resample from their weight matrix.
    """
    spec = spec or AttributionSpec()
    rule = rules.LinearRule
    return {
        "first_touch": rule("first_touch"),
        "last_touch": rule("last_touch"),
        "last_non_direct": rule("last_non_direct", direct=spec.direct_channel),
        "linear": rule("linear"),
        "time_decay": rule("time_decay", half_life=spec.time_decay_half_life_days),
        "position_based": rule(
            "position_based", first=spec.position_first, last=spec.position_last
        ),
        "j_shaped": rule("j_shaped"),
        "inverse_j": rule("inverse_j"),
        "markov": partial(_markov, order=markov_order),
        "shapley": partial(
            shapley, max_exact_channels=spec.shapley_max_exact_channels, random_state=seed
        ),
    }


#: Models that read the time of each touch (``Paths.lag_days``), which aggregated paths lack.
TIMED_MODELS = frozenset({"time_decay"})


def _data(name: str, paths: Paths, journeys: Paths | None) -> Paths:
    return journeys if journeys is not None and name in TIMED_MODELS else paths


def credit_all(
    paths: Paths, suite: dict[str, Model], *, journeys: Paths | None = None
) -> dict[str, pd.DataFrame]:
    """Model name -> credit table (channel, conversions, value, share).

    ``paths`` are usually aggregated (one row per distinct path: fast for every model);
    ``journeys``, one row per journey with touch times, when given, feed the models that need
    those times (:data:`TIMED_MODELS`).
    """
    return {name: model(_data(name, paths, journeys)) for name, model in suite.items()}


def bootstrap_all(
    paths: Paths,
    suite: dict[str, Model],
    *,
    journeys: Paths | None = None,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Model name -> :func:`~journeylib.attribution.uncertainty.bootstrap` table.

    Every model is refitted on the same ``n_boot`` resamples of journeys (one seed), so the
    intervals of two models differ only through the models. ``n_boot=0`` returns the point
    estimates with empty intervals. ``journeys`` as in :func:`credit_all`.

    The models that read the same data share one draw of the resamples
    (:func:`~journeylib.attribution.uncertainty.bootstrap_models`); the result equals
    bootstrapping each model on its own.
    """
    if n_boot == 0:
        out = {}
        for name, model in suite.items():
            t = model(_data(name, paths, journeys))
            out[name] = t.assign(share_low=float("nan"), share_high=float("nan"), n_boot=0)
        return out
    on_paths = {n: m for n, m in suite.items() if _data(n, paths, journeys) is paths}
    on_journeys = {n: m for n, m in suite.items() if n not in on_paths}
    tables: dict[str, pd.DataFrame] = {}
    for data, models in ((paths, on_paths), (journeys, on_journeys)):
        if models:
            tables |= bootstrap_models(data, models, n_boot=n_boot, ci=ci, random_state=seed)
    return {name: tables[name] for name in suite}
