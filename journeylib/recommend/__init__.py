"""Product recommendations from orders (notebook ``50_recommendations``).

* :mod:`~journeylib.recommend.interactions`: the customer x product matrix as of a cut-off
  (:func:`interactions`, sparse), product categories.
* :mod:`~journeylib.recommend.itemknn`: :class:`ItemKNN`, item-to-item collaborative filtering
  (cosine, BM25 or Jaccard similarity, top neighbours per product, optional popularity prior),
  :meth:`ItemKNN.recommend` and :meth:`ItemKNN.similar_items`.
* :mod:`~journeylib.recommend.popularity`: :class:`PopularityRecommender`, global or per
  persona (the baseline and the fallback for customers without orders).
* :mod:`~journeylib.recommend.topn`: every customer's top-N as a tidy table (:func:`top_n`).
* :mod:`~journeylib.recommend.evaluate`: the time-split offline evaluation (precision, recall,
  NDCG, hit rate, coverage) against popularity, with a plotly twin.

Typical use::

    train = interactions(engine, as_of=config.effective_as_of)
    model = ItemKNN(similarity="cosine", neighbours=50).fit(train)
    fallback = PopularityRecommender(by="persona").fit(train, groups=personas)
    table = top_n(model, train, k=10, customers=all_customers, fallback=fallback, groups=...)
    evaluation = offline_evaluation(engine, config.recommend)
"""

from journeylib.recommend._base import TopN
from journeylib.recommend.evaluate import (
    METRICS,
    Holdout,
    RecommendDataError,
    RecommendEvaluation,
    TimeSplit,
    customer_metrics,
    evaluate_topn,
    holdout,
    offline_evaluation,
    plot_evaluation,
    plot_weight_curve,
    popularity_weight_curve,
    time_split,
)
from journeylib.recommend.interactions import Interactions, interactions, product_categories
from journeylib.recommend.itemknn import ItemKNN, popularity_ranking
from journeylib.recommend.popularity import PopularityRecommender, customer_personas
from journeylib.recommend.topn import SOURCES, persona_top_products, top_n, topn_table

__all__ = [
    "METRICS",
    "SOURCES",
    "Holdout",
    "Interactions",
    "ItemKNN",
    "PopularityRecommender",
    "RecommendDataError",
    "RecommendEvaluation",
    "TimeSplit",
    "TopN",
    "customer_metrics",
    "customer_personas",
    "evaluate_topn",
    "holdout",
    "interactions",
    "offline_evaluation",
    "persona_top_products",
    "plot_evaluation",
    "plot_weight_curve",
    "popularity_ranking",
    "popularity_weight_curve",
    "product_categories",
    "time_split",
    "top_n",
    "topn_table",
]
