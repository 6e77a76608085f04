"""Touchpoints and channel attribution (notebook ``20_touchpoints_attribution``).

Modules, each small and built on the flat path container of :mod:`.pathdata`:

* ``pathdata``: :class:`Paths` (touchpoint paths in flat numpy arrays), reading pre-aggregated
  path tables (:func:`read_path_table`, the ``Data.csv`` format) and :func:`credit_table`, the
  one output table of every model (channel, conversions, value, share);
* ``rules``: rule-based models (first/last touch, last non-direct, linear, time decay,
  position-based U, J and inverse J);
* ``markov``: Markov-chain removal effects, solved exactly from the absorbing chain;
* ``shapley``: Shapley-value attribution, exact or sampled, set-based and order-aware;
* ``uncertainty``: bootstrap intervals of channel shares and the cross-model comparison;
* ``journeys``: conversion and non-converting paths built from events (lookback window,
  collapsed repeats, conversion value);
* ``roles``: journey roles (assisted vs last-touch conversions, early/mid/late shares, the
  channel x stage matrix, cost per acquisition and ROAS);
* ``suite``: the models a report compares, configured from the client's ``attribution:``
  settings, with bootstrap intervals for all of them.

Only classes and functions whose names differ from the modules are re-exported here, so
``from journeylib.attribution import shapley`` gives the module.
"""

from journeylib.attribution.journeys import build_paths, conversion_summary
from journeylib.attribution.markov import MarkovAttribution, select_order
from journeylib.attribution.pathdata import Paths, credit_table, read_path_table
from journeylib.attribution.rules import RULE_MODELS, rule_based
from journeylib.attribution.shapley import ShapleyAttribution
from journeylib.attribution.uncertainty import bootstrap, compare_models, rank_agreement

__all__ = [
    "RULE_MODELS",
    "MarkovAttribution",
    "Paths",
    "ShapleyAttribution",
    "bootstrap",
    "build_paths",
    "compare_models",
    "conversion_summary",
    "credit_table",
    "rank_agreement",
    "read_path_table",
    "rule_based",
    "select_order",
]
