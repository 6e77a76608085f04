"""Text sentiment and themes of customer feedback, offline (English and Bahasa Indonesia).

Three tools, none of which downloads anything at run time:

* :func:`lexicon_scores`: a lexicon scorer shipped with the package
  (``resources/lexicon_en.tsv``, ``resources/lexicon_id.tsv``, hand-curated for e-commerce
  reviews, surveys and social posts, with informal Indonesian spellings). Rules, after
  VADER (Hutto & Gilbert 2014):

  - text is lower-cased and split into words, numbers, emoji and clause punctuation; informal
    spellings are mapped to one form (``gak``/``ga``/``nggak``/``tdk``/``tak`` -> ``tidak``,
    ``bgt`` -> ``banget``, ``don't``/``didn't``/``cannot`` -> ``not``, ...); an unknown word
    is also looked up with stretched letters squeezed (``mantappp`` -> ``mantap``) and, for
    Indonesian, without the suffixes ``-nya``/``-lah``/``-kah``/``-pun`` (``bagusnya``);
  - phrases of the lexicon are matched first, longest first, leftmost first
    (``late delivery``, ``tidak sesuai``, ``not worth``); their words are not scored again and
    a negator inside a matched phrase negates nothing else;
  - a negator (en: not and the n't forms, no, never, without, nothing, ...; id: tidak, tak,
    bukan, belum, jangan, kurang, tanpa and their informal spellings) multiplies each weighted
    term among the next :data:`NEGATION_WINDOW` tokens by :data:`NEGATION_SCALAR` (-0.74,
    VADER's constant), stopping at clause punctuation and clause words (but, tapi, ...);
  - an intensifier before a term (very, really, so, extremely, ...; sangat, amat, paling,
    terlalu, ...; up to two in a row, or one before a negator: "sangat tidak puas") or an
    Indonesian one after it (banget, bgt, sekali, amat, ...) multiplies its weight by
    ``1 + boost`` (boost 0.1-0.5; negative for dampeners such as slightly, agak);
  - in a sentence with "but"/"however"/"tapi"/"tetapi"/"namun", terms before the first one
    count half and terms after it 1.5 times (VADER's rule);
  - a text's score is ``s / sqrt(s**2 + alpha)`` of the sum ``s`` of its term values
    (VADER's normalisation; weights are on a -2..2 scale, half VADER's, so ``alpha = 4`` plays
    the role of VADER's 15): in (-1, 1), 0 for a text without any lexicon term, and NaN for a
    missing or blank text (no word, number or emoji in it).

  English and Indonesian are scored together by default (``language="auto"``): mixed-language
  comments are common and the two vocabularies barely collide.

* :class:`TextSentimentModel`: a scikit-learn classifier (TF-IDF of word 1-2 grams, optionally
  character n-grams, and logistic regression) for clients with labelled text, and
  :func:`evaluate_text_model`, its held-out ROC AUC next to the lexicon's on the same rows
  (DeLong 95% intervals, :func:`auc_interval`).

* :func:`distinctive_terms`: the words and phrases that set a group of texts apart (a stage,
  a score band): the weighted log-odds ratio with an informative Dirichlet prior of Monroe,
  Colaresi & Quinn (2008, "Fightin' Words"), each group against all the others, so
  "late delivery" or "pembayaran gagal" surfaces by itself among detractors.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import norm, rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

__all__ = [
    "ALPHA",
    "LANGUAGES",
    "NEGATION_SCALAR",
    "NEGATION_WINDOW",
    "TextSentimentModel",
    "auc_interval",
    "distinctive_terms",
    "evaluate_text_model",
    "lexicon_scores",
    "load_lexicon",
    "load_stopwords",
]

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).parent / "resources"
#: ``language=`` values: English, Bahasa Indonesia, or both together (mixed-language text).
LANGUAGES = ("auto", "en", "id")
#: Normalisation constant of the score ``s / sqrt(s**2 + ALPHA)`` (weights on a -2..2 scale).
ALPHA = 4.0
#: Factor applied to a term in the scope of a negator (VADER's N_SCALAR).
NEGATION_SCALAR = -0.74
#: Number of tokens after a negator that it negates (VADER looks three words back).
NEGATION_WINDOW = 3
#: Weight of terms before / after the first "but" of a sentence (VADER).
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5
#: Longest phrase (in tokens) a lexicon may hold.
MAX_PHRASE = 4
WEIGHT_RANGE = (-2.0, 2.0)

_NEGATORS = {
    "en": ("not", "no", "never", "without", "nothing", "none", "nobody", "neither", "nor",
           "hardly", "barely"),
    "id": ("tidak", "bukan", "belum", "jangan", "kurang", "tanpa"),
}  # fmt: skip
#: Informal or contracted spellings mapped to one form before any lookup.
_NORMALISE = {
    "en": {
        **{w: "not" for w in (
            "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "cant", "cannot",
            "couldnt", "wouldnt", "shouldnt", "wont", "havent", "hasnt", "hadnt", "aint",
        )},
        "nope": "no",
    },
    "id": {
        **{w: "tidak" for w in (
            "gak", "ga", "gk", "nggak", "ngga", "nggk", "ngak", "enggak", "engga", "kagak",
            "ndak", "nda", "tdk", "tak", "gag",
        )},
        "bgt": "banget", "bngt": "banget", "bgd": "banget",
        "blm": "belum", "blum": "belum", "bkn": "bukan", "jgn": "jangan", "krg": "kurang",
        "sgt": "sangat", "tp": "tapi", "tpi": "tapi", "ttp": "tetapi", "bgs": "bagus",
        "cpt": "cepat", "lmbt": "lambat", "sampe": "sampai", "dtg": "datang", "brg": "barang",
        "udah": "sudah", "udh": "sudah", "sdh": "sudah", "yg": "yang", "lg": "lagi",
        "mantabs": "mantab", "mantaps": "mantap", "puass": "puas",
        "kecewaa": "kecewa", "lamaa": "lama",
    },
}  # fmt: skip
_PRE_INTENSIFIERS = {
    "en": {
        "very": 0.3, "really": 0.3, "so": 0.3, "extremely": 0.5, "super": 0.4, "totally": 0.3,
        "absolutely": 0.4, "completely": 0.3, "incredibly": 0.5, "highly": 0.4, "truly": 0.3,
        "too": 0.3, "quite": 0.1, "especially": 0.2, "particularly": 0.2, "most": 0.3,
        "awfully": 0.4, "insanely": 0.5, "ridiculously": 0.4, "utterly": 0.4, "deeply": 0.3,
        "hugely": 0.4, "exceptionally": 0.5, "seriously": 0.3, "freaking": 0.4, "damn": 0.3,
        "pretty": 0.1, "fairly": -0.1, "slightly": -0.4, "somewhat": -0.3, "kinda": -0.3,
        "bit": -0.3, "little": -0.3, "mildly": -0.4, "marginally": -0.4,
    },
    "id": {
        "sangat": 0.3, "amat": 0.3, "sungguh": 0.3, "paling": 0.4, "terlalu": 0.3,
        "banget": 0.3, "super": 0.4, "benar": 0.2, "agak": -0.3, "cukup": -0.1,
        "sedikit": -0.3,
    },
}  # fmt: skip
_POST_INTENSIFIERS = {
    "en": {},
    "id": {"banget": 0.3, "sekali": 0.3, "amat": 0.3, "bener": 0.2, "pisan": 0.3, "pol": 0.4,
           "poll": 0.4},
}  # fmt: skip
_CONTRAST = {"en": ("but", "however"), "id": ("tapi", "tetapi", "namun")}
_CLAUSE_WORDS = {
    "en": ("although", "though", "whereas", "except", "while"),
    "id": ("padahal", "walaupun", "meskipun", "walau", "sedangkan"),
}
_SENTENCE_END = (".", "!", "?")
_PUNCTUATION = (".", "!", "?", ";", ":", ",")
_SUFFIXES_ID = ("nya", "lah", "kah", "pun")
#: Emoji and symbols scored in every language.
EMOJI: dict[str, float] = {
    "👍": 1.2, "👌": 1.0, "😍": 1.6, "❤": 1.5, "💕": 1.4, "🥰": 1.5, "😊": 1.2, "🙂": 0.8,
    "😁": 1.2, "😀": 1.2, "😃": 1.2, "😄": 1.2, "🤩": 1.6, "💯": 1.2, "🔥": 0.8, "⭐": 0.8,
    "🙏": 0.6, "👏": 1.2, "😋": 1.3, "👎": -1.5, "😡": -1.8, "🤬": -2.0, "😠": -1.6,
    "😞": -1.3, "😢": -1.3, "😭": -0.8, "😤": -1.2, "💩": -1.6, "🙁": -1.0, "☹": -1.2,
    "😒": -1.0, "😔": -1.0, "🤮": -1.8, "🤢": -1.6,
}  # fmt: skip
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
# words (letters, inner apostrophes), numbers, clause punctuation, single emoji code points
_TOKEN = re.compile(
    r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[.!?;:,]|[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50]"
)
_CHUNK = 200_000  # texts tokenised at a time
_STRETCH3 = re.compile(r"(.)\1{2,}")
_STRETCH2 = re.compile(r"(.)\1+")


def _check_language(language: str) -> tuple[str, ...]:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    return ("en", "id") if language == "auto" else (language,)


def _read_lexicon(path: Path) -> dict[str, float]:
    """term<TAB>weight lines ('#' comments, blank lines skipped); problems name the lines."""
    terms: dict[str, float] = {}
    bad: list[int] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = raw.split("\t")
        try:
            term, weight = parts[0].strip().lower(), float(parts[1])
        except (IndexError, ValueError):
            bad.append(n)
            continue
        if len(parts) != 2 or not term or term in terms or not -2 <= weight <= 2:
            bad.append(n)
            continue
        terms[term] = weight
    if bad:
        raise ValueError(
            f"{path.name}: {len(bad)} line(s) are not 'term<TAB>weight' with a new term and a "
            f"weight in [-2, 2] (lines {bad[:10]})"
        )
    return terms


def load_lexicon(language: str = "auto") -> dict[str, float]:
    """The shipped polarity lexicon: term (word or phrase) -> weight in [-2, 2].

    Parameters
    ----------
    language : {"auto", "en", "id"}
        English, Indonesian, or both (Indonesian wins where a term is in both files).

    Returns
    -------
    dict
        A new dict (safe to extend and pass as ``lexicon=`` to :func:`lexicon_scores`).
    """
    out: dict[str, float] = {}
    for lang in _check_language(language):
        out.update(_read_lexicon(RESOURCES / f"lexicon_{lang}.tsv"))
    return out


@functools.cache
def _stopwords(lang: str) -> frozenset[str]:
    lines = (RESOURCES / f"stopwords_{lang}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def load_stopwords(language: str = "auto") -> frozenset[str]:
    """The shipped stopwords (function words) of English, Indonesian or both."""
    return frozenset().union(*(_stopwords(lang) for lang in _check_language(language)))


# ---- the lexicon scorer ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Lexicon:
    """A lexicon compiled for matching: canonical tokens, phrases by length, rule words."""

    words: dict[str, float]
    phrases: dict[int, dict[tuple[str, ...], float]]
    negators: frozenset[str]
    pre: dict[str, float]
    post: dict[str, float]
    contrast: frozenset[str]
    barrier: frozenset[str]
    normalise: dict[str, str]
    suffixes: tuple[str, ...]

    @functools.cached_property
    def known(self) -> frozenset[str]:
        phrase_words = {w for by_n in self.phrases.values() for p in by_n for w in p}
        return frozenset(
            set(self.words) | phrase_words | self.negators | set(self.pre) | set(self.post)
        )

    @functools.cached_property
    def phrase_vocab(self) -> dict[str, int]:
        words = sorted({w for by_n in self.phrases.values() for p in by_n for w in p})
        return {w: i for i, w in enumerate(words, 1)}

    def canonical(self, token: str) -> str:
        """The form a token is looked up under (see the module docstring)."""
        token = self.normalise.get(token, token)
        if token in self.known or token in self.barrier or token in self.contrast:
            return token
        if token.endswith("n't"):
            return "not"
        for pattern, repl in ((_STRETCH3, r"\1\1"), (_STRETCH2, r"\1")):
            squeezed = pattern.sub(repl, token)
            squeezed = self.normalise.get(squeezed, squeezed)
            if squeezed != token and squeezed in self.known:
                return squeezed
        for suffix in self.suffixes:
            stem = token[: -len(suffix)]
            if token.endswith(suffix) and len(stem) >= 3:
                stem = self.normalise.get(stem, stem)
                if stem in self.known:
                    return stem
        return token


def _compile(languages: tuple[str, ...], terms: Mapping[str, float]) -> _Lexicon:
    normalise: dict[str, str] = {}
    for lang in languages:
        normalise.update(_NORMALISE[lang])
    words: dict[str, float] = dict(EMOJI)
    phrases: dict[int, dict[tuple[str, ...], float]] = {}
    for term, weight in terms.items():
        toks = tuple(
            normalise.get(t, "not" if t.endswith("n't") else t)
            for t in _TOKEN.findall(str(term).lower().translate(_APOSTROPHES))
        )
        if not toks or len(toks) > MAX_PHRASE:
            raise ValueError(f"lexicon term of {len(toks)} tokens (allowed: 1 to {MAX_PHRASE})")
        if not WEIGHT_RANGE[0] <= float(weight) <= WEIGHT_RANGE[1]:
            raise ValueError(f"lexicon weights must lie in {list(WEIGHT_RANGE)}")
        if len(toks) == 1:
            words[toks[0]] = float(weight)
        else:
            phrases.setdefault(len(toks), {})[toks] = float(weight)
    return _Lexicon(
        words=words,
        phrases=phrases,
        negators=frozenset(itertools.chain(*(_NEGATORS[lang] for lang in languages))),
        pre={k: v for lang in languages for k, v in _PRE_INTENSIFIERS[lang].items()},
        post={k: v for lang in languages for k, v in _POST_INTENSIFIERS[lang].items()},
        contrast=frozenset(itertools.chain(*(_CONTRAST[lang] for lang in languages))),
        barrier=frozenset(
            itertools.chain(_PUNCTUATION, *(_CLAUSE_WORDS[lang] for lang in languages))
        ),
        normalise=normalise,
        suffixes=_SUFFIXES_ID if "id" in languages else (),
    )


@functools.cache
def _shipped(language: str) -> _Lexicon:
    return _compile(_check_language(language), load_lexicon(language))


def _text_list(texts: Any, what: str = "texts") -> tuple[list[str], np.ndarray, pd.Index]:
    """Texts as a list of str ("" for missing), the missing mask and the index to return."""
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a sequence of texts, not one string")
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    missing = s.isna().to_numpy(dtype=bool)
    values = s.astype(object).to_numpy()
    out = [
        "" if m else v if isinstance(v, str) else str(v)
        for v, m in zip(values, missing, strict=True)
    ]
    return out, missing, s.index


def _tokenise(texts: list[str]) -> tuple[list[list[str]], np.ndarray]:
    lists = [_TOKEN.findall(t.lower().translate(_APOSTROPHES)) if t else [] for t in texts]
    return lists, np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))


def _match_phrases(
    lex: _Lexicon, canon: np.ndarray, doc: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leftmost-longest phrase matches: (start weight, end position, covered mask)."""
    n_tok = len(canon)
    weight = np.zeros(n_tok)
    end = np.arange(n_tok)
    covered = np.zeros(n_tok, dtype=bool)
    vocab = lex.phrase_vocab
    if not lex.phrases or n_tok == 0:
        return weight, end, covered
    base = len(vocab) + 1
    if base**MAX_PHRASE >= 2**62:  # pragma: no cover - a lexicon of ~45k phrase words
        raise ValueError("too many distinct phrase words in the lexicon")
    pid = np.fromiter((vocab.get(c, 0) for c in canon), dtype=np.int64, count=n_tok)
    for n in sorted(lex.phrases, reverse=True):
        m = n_tok - n + 1
        if m <= 0:
            continue
        table = lex.phrases[n]
        keys = np.array(
            [functools.reduce(lambda a, w: a * base + vocab[w], p, 0) for p in table],
            dtype=np.int64,
        )
        order = np.argsort(keys)
        keys, values = keys[order], np.fromiter(table.values(), dtype=float)[order]
        key = np.zeros(m, dtype=np.int64)
        ok = np.ones(m, dtype=bool)
        for k in range(n):
            key = key * base + pid[k : k + m]
            ok &= (pid[k : k + m] > 0) & (doc[k : k + m] == doc[:m]) & ~covered[k : k + m]
        cand = np.flatnonzero(ok)
        where = np.searchsorted(keys, key[cand]).clip(max=len(keys) - 1)
        hit = keys[where] == key[cand]
        cand, where = cand[hit], where[hit]
        accepted, last = [], -1
        for j, i in enumerate(cand.tolist()):  # leftmost wins among overlapping matches
            if i > last:
                accepted.append(j)
                last = i + n - 1
        starts = cand[accepted]
        weight[starts] = values[where[accepted]]
        end[starts] = starts + n - 1
        for k in range(n):
            covered[starts + k] = True
    return weight, end, covered


def _term_values(lex: _Lexicon, tokens: list[str], doc: np.ndarray) -> np.ndarray:
    """The signed value each token position contributes to its text (0 for most)."""
    n_tok = len(tokens)
    codes, uniques = pd.factorize(np.array(tokens, dtype=object))
    canon_u = np.array([lex.canonical(u) for u in uniques], dtype=object)
    canon = canon_u[codes]

    def attr(f, dtype=float):
        return np.fromiter((f(c) for c in canon_u), dtype=dtype, count=len(canon_u))[codes]

    phrase_w, end, covered = _match_phrases(lex, canon, doc)
    word_w = attr(lambda c: lex.words.get(c, 0.0))
    value = np.where(covered, phrase_w, word_w)
    is_neg = attr(lambda c: c in lex.negators, bool) & ~covered
    pre = np.where(covered, 0.0, attr(lambda c: lex.pre.get(c, 0.0)))
    post = np.where(covered, 0.0, attr(lambda c: lex.post.get(c, 0.0)))
    contrast = attr(lambda c: c in lex.contrast, bool)
    barrier = attr(lambda c: c in lex.barrier, bool) | contrast

    pos = np.arange(n_tok)
    doc_start = np.r_[True, doc[1:] != doc[:-1]]
    # negation: the nearest negator before a token, in the same clause, at most WINDOW back
    last_barrier = np.maximum.accumulate(np.where(barrier | doc_start, pos, -1))
    last_neg = np.r_[-1, np.maximum.accumulate(np.where(is_neg, pos, -1))[:-1]]
    negated = (last_neg >= 0) & (last_neg >= last_barrier) & (pos - last_neg <= NEGATION_WINDOW)
    # intensifiers: one or two before (or one before a negator), one after the term's end
    scale = np.ones(n_tok)
    prev1 = np.r_[False, ~doc_start[1:]]
    b1 = np.r_[0.0, pre[:-1]]
    scale *= 1 + np.where(prev1, b1, 0.0)
    prev2 = prev1 & np.r_[False, prev1[:-1]]
    b2 = np.r_[0.0, 0.0, pre[:-2]][:n_tok]
    link = np.r_[False, (pre != 0) | is_neg][:n_tok]
    scale *= 1 + np.where(prev2 & link, b2, 0.0)
    nxt = end + 1
    has_next = nxt < n_tok
    nxt_c = np.minimum(nxt, n_tok - 1)
    scale *= 1 + np.where(has_next & (doc[nxt_c] == doc), post[nxt_c], 0.0)
    # "but": the part before the sentence's first contrast word counts half, after it 1.5x
    sent_end = np.isin(canon, _SENTENCE_END)
    sent_start = doc_start | np.r_[False, sent_end[:-1]]
    sent_id = np.cumsum(sent_start) - 1
    con_pos = np.where(contrast, pos, n_tok)
    first = np.minimum.reduceat(con_pos, np.flatnonzero(sent_start))[sent_id]
    has = first < n_tok
    factor = np.where(has & (pos < first), CONTRAST_BEFORE, 1.0)
    factor = np.where(has & (pos > first), CONTRAST_AFTER, factor)
    return value * scale * np.where(negated, NEGATION_SCALAR, 1.0) * factor


def lexicon_scores(
    texts: Iterable[Any],
    *,
    language: str = "auto",
    lexicon: Mapping[str, float] | None = None,
    alpha: float = ALPHA,
) -> pd.Series:
    """Sentiment of each text from the shipped lexicons, in [-1, 1].

    Parameters
    ----------
    texts : sequence of str
        A Series (its index is kept) or any sequence; None/NaN/blank texts score NaN.
    language : {"auto", "en", "id"}
        Lexicons and rule words to use; "auto" (default) scores English and Indonesian
        together, so mixed-language text works without a hint.
    lexicon : mapping, optional
        Terms -> weights in [-2, 2] used *instead of* the shipped ones (start from
        :func:`load_lexicon` to extend them); rule words and emoji still apply.
    alpha : float
        Normalisation constant: score = s / sqrt(s**2 + alpha) for the sum s of term values.

    Returns
    -------
    Series
        float, named ``sentiment``, one value per input text (same index). The rules are in
        the module docstring.

    Examples
    --------
    >>> lexicon_scores(["good", "not good", "tidak bagus", "", None]).round(3).tolist()
    [0.447, -0.347, -0.46, nan, nan]
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}")
    langs = _check_language(language)
    lex = _shipped(language) if lexicon is None else _compile(langs, dict(lexicon))
    values, missing, index = _text_list(texts)
    n = len(values)
    total, n_words = np.zeros(n), np.zeros(n)
    for start in range(0, n, _CHUNK):  # bounded memory: the token lists of one chunk at a time
        lists, lens = _tokenise(values[start : start + _CHUNK])
        tokens = list(itertools.chain.from_iterable(lists))
        if not tokens:
            continue
        doc = np.repeat(np.arange(len(lists)), lens)
        part = slice(start, start + len(lists))
        total[part] = np.bincount(doc, _term_values(lex, tokens, doc), minlength=len(lists))
        is_word = ~np.isin(np.array(tokens, dtype=object), _PUNCTUATION)
        n_words[part] = np.bincount(doc, weights=is_word, minlength=len(lists))
    score = total / np.sqrt(total**2 + alpha)
    score[missing | (n_words == 0)] = np.nan
    return pd.Series(score, index=index, name="sentiment", dtype=float)


# ---- trainable classifier -------------------------------------------------------------------
class TextSentimentModel(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression text classifier (for clients with labelled text).

    Word n-grams (1-2 by default, sublinear tf) and optionally character n-grams inside word
    boundaries, then an L2 logistic regression. Missing or empty texts are allowed: they
    become an all-zero row, scored by the intercept alone.

    Parameters
    ----------
    C : float
        Inverse regularisation strength of the logistic regression.
    class_weight : {None, "balanced"} or dict
        Passed to :class:`~sklearn.linear_model.LogisticRegression`.
    ngram_range : tuple of int
        Word n-gram lengths.
    min_df : int or float
        Minimum document frequency of a term (count, or share of texts when < 1).
    max_features : int, optional
        Keep only the most frequent terms.
    char_ngrams : bool
        Add character n-grams (``char_ngram_range``, within word boundaries): more robust
        to misspellings, slower.
    char_ngram_range : tuple of int
    sublinear_tf : bool
        Use 1 + log(tf).
    max_iter : int
    random_state : int
        Seed (used by solvers that randomise; the default lbfgs is deterministic).
    n_threads : int or None
        Threads of the BLAS pool during ``fit`` (``threadpoolctl``); None leaves it as it is.
        1 by default: lbfgs on a 4,000-review TF-IDF matrix takes 0.4 s on one thread and
        5 s on two threads of a busy 2-core machine (spin-waiting OpenBLAS threads).

    Attributes
    ----------
    vectorizer_ : FeatureUnion
        The fitted TF-IDF step.
    classifier_ : LogisticRegression
    classes_ : ndarray
    n_terms_ : int
        Number of TF-IDF features.
    """

    def __init__(
        self,
        *,
        C: float = 4.0,  # noqa: N803 - scikit-learn's name
        class_weight: str | dict | None = None,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 2,
        max_features: int | None = None,
        char_ngrams: bool = False,
        char_ngram_range: tuple[int, int] = (2, 5),
        sublinear_tf: bool = True,
        max_iter: int = 2000,
        random_state: int = 0,
        n_threads: int | None = 1,
    ):
        self.C = C
        self.class_weight = class_weight
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.char_ngrams = char_ngrams
        self.char_ngram_range = char_ngram_range
        self.sublinear_tf = sublinear_tf
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_threads = n_threads

    def _vectorizer(self) -> FeatureUnion:
        steps = [
            (
                "word",
                TfidfVectorizer(
                    ngram_range=tuple(self.ngram_range),
                    min_df=self.min_df,
                    max_features=self.max_features,
                    sublinear_tf=self.sublinear_tf,
                    dtype=np.float64,
                ),
            )
        ]
        if self.char_ngrams:
            steps.append(
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(self.char_ngram_range),
                        min_df=self.min_df,
                        max_features=self.max_features,
                        sublinear_tf=self.sublinear_tf,
                        dtype=np.float64,
                    ),
                )
            )
        return FeatureUnion(steps)

    def fit(self, X: Iterable[Any], y: Iterable[Any]) -> TextSentimentModel:  # noqa: N803
        """Learn the vocabulary and the classifier from texts ``X`` and labels ``y``."""
        texts, _, _ = _text_list(X, "X")
        y = np.asarray(list(y) if not isinstance(y, (np.ndarray, pd.Series)) else y)
        if y.ndim != 1 or len(y) != len(texts):
            raise ValueError(f"y must be 1-D with one label per text ({len(texts)}), got {y.shape}")
        missing = pd.isna(y)
        if missing.any():
            rows = np.flatnonzero(missing)[:5].tolist()
            raise ValueError(f"y has {int(missing.sum())} missing label(s) (rows {rows})")
        if len(np.unique(y)) < 2:
            raise ValueError("y must hold at least two classes to train a classifier")
        vectorizer = self._vectorizer()
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError as exc:  # empty vocabulary, min_df above the number of texts
            raise ValueError(
                f"TextSentimentModel: no term survives min_df={self.min_df} in the "
                f"{len(texts)} training texts ({exc}); lower min_df or give more text"
            ) from exc
        classifier = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        with threadpool_limits(limits=self.n_threads):
            self.classifier_ = classifier.fit(matrix, y)
        self.vectorizer_ = vectorizer
        self.classes_ = self.classifier_.classes_
        self.n_terms_ = int(matrix.shape[1])
        return self

    def _matrix(self, X: Iterable[Any]) -> sparse.csr_matrix:  # noqa: N803
        check_is_fitted(self, "classifier_")
        texts, _, _ = _text_list(X, "X")
        return self.vectorizer_.transform(texts)

    def predict_proba(self, X: Iterable[Any]) -> np.ndarray:  # noqa: N803
        """Class probabilities, one row per text, columns in ``classes_`` order."""
        matrix = self._matrix(X)  # checks the fit first
        return self.classifier_.predict_proba(matrix)

    def decision_function(self, X: Iterable[Any]) -> np.ndarray:  # noqa: N803
        """Log-odds of ``classes_[1]`` (binary) or one column per class."""
        matrix = self._matrix(X)  # checks the fit first
        return self.classifier_.decision_function(matrix)

    def predict(self, X: Iterable[Any]) -> np.ndarray:  # noqa: N803
        """The most probable class of each text."""
        matrix = self._matrix(X)  # checks the fit first
        return self.classifier_.predict(matrix)

    def coefficients(self, *, top_n: int = 20) -> pd.DataFrame:
        """The word features with the largest coefficients towards each class (binary only).

        Returns
        -------
        DataFrame
            One row per term: ``term``, ``coefficient`` (towards ``classes_[1]``),
            ``toward`` (the class it points to); the ``top_n`` most positive then the
            ``top_n`` most negative.
        """
        check_is_fitted(self, "classifier_")
        if len(self.classes_) != 2:
            raise ValueError("coefficients() is defined for two classes")
        names = self.vectorizer_.get_feature_names_out()
        coef = self.classifier_.coef_[0]
        word = np.char.startswith(names.astype(str), "word__")
        table = pd.DataFrame({"term": pd.Series(names[word]).str[6:], "coefficient": coef[word]})
        up = table.nlargest(top_n, "coefficient")
        down = table.nsmallest(top_n, "coefficient")
        out = pd.concat([up, down], ignore_index=True)
        out["toward"] = np.where(out["coefficient"] > 0, self.classes_[1], self.classes_[0])
        return out


def auc_interval(y_true: Any, score: Any, *, level: float = 0.95) -> tuple[float, float, float]:
    """ROC AUC with DeLong's confidence interval (DeLong, DeLong & Clarke-Pearson 1988).

    The AUC is the Mann-Whitney probability that a positive scores above a negative (ties
    count half); its variance is ``var(V10)/m + var(V01)/n`` of the structural components
    (V10 of each of the m positives: the share of negatives it beats; V01 of each of the n
    negatives: the share of positives that beat it), computed with mid-ranks (Sun & Xu 2014).
    The interval is AUC +- z * se, clipped to [0, 1].

    Returns
    -------
    tuple of float
        (auc, low, high).
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError("y_true and score must be 1-D and of the same length")
    if np.isnan(s).any():
        raise ValueError(f"score has {int(np.isnan(s).sum())} missing value(s)")
    pos, neg = s[y], s[~y]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        raise ValueError("ROC AUC needs both classes among the rows scored")
    r_all = rankdata(np.r_[pos, neg])
    auc = float((r_all[:m].sum() - m * (m + 1) / 2) / (m * n))
    v10 = (r_all[:m] - rankdata(pos)) / n
    v01 = 1.0 - (r_all[m:] - rankdata(neg)) / m
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    half = float(norm.ppf(0.5 + level / 2)) * math.sqrt(var)
    return auc, max(0.0, auc - half), min(1.0, auc + half)


def _binary_labels(labels: pd.Series, positive: Any) -> np.ndarray:
    missing = labels.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise ValueError(f"labels: {int(missing.sum())} missing value(s) (rows {rows})")
    values = labels.to_numpy(dtype=object)
    if positive is None:
        distinct = set(pd.unique(values))
        if distinct <= {True, False}:  # also 0/1
            return values.astype(bool)
        raise ValueError(
            f"labels have {len(distinct)} distinct values that are not booleans or 0/1: pass "
            "positive= (the label value counted as positive)"
        )
    y = values == positive
    if not y.any():
        raise ValueError("labels: no row carries the positive= value")
    if len(pd.unique(values)) > 2:
        log.debug("labels other than positive= count as negative")
    return y.astype(bool)


def evaluate_text_model(
    texts: Iterable[Any],
    labels: Iterable[Any],
    *,
    split: Iterable[Any] | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    positive: Any = None,
    model: TextSentimentModel | None = None,
    language: str = "auto",
    level: float = 0.95,
) -> pd.DataFrame:
    """Held-out ROC AUC of the trained classifier and of the lexicon, on the same test rows.

    Parameters
    ----------
    texts, labels : sequence
        One label per text (the positive class: ``positive``, or booleans / 0-1).
    split : sequence of {"train", "test"}, optional
        The client's own split (case-insensitive); by default a stratified split seeded with
        ``seed`` holding out ``test_size`` of the rows.
    positive : object, optional
        The label value counted as positive (e.g. ``"great"``); every other value is negative.
    model : TextSentimentModel, optional
        The (unfitted) classifier to train; a clone is fitted. Default:
        ``TextSentimentModel(random_state=seed)``.
    language : {"auto", "en", "id"}
        For the lexicon scorer. Test texts it cannot score (empty) count as neutral (0).
    level : float
        Confidence level of the DeLong intervals.

    Returns
    -------
    DataFrame
        One row per scorer (``text_model``, ``lexicon``): ``roc_auc``, ``ci_low``, ``ci_high``,
        ``n_train`` (0 for the lexicon, which learns nothing), ``n_test``, ``test_positives``.
    """
    text_values, _, _ = _text_list(texts)
    y = _binary_labels(pd.Series(list(labels), dtype=object), positive)
    n = len(text_values)
    if len(y) != n:
        raise ValueError(f"labels has {len(y)} rows but texts has {n}")
    if split is not None:
        parts = pd.Series(list(split), dtype=object)
        if len(parts) != n:
            raise ValueError(f"split has {len(parts)} rows but texts has {n}")
        lowered = parts.astype("string").str.strip().str.lower()
        bad = ~lowered.isin(["train", "test"]).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise ValueError(
                f"split: {int(bad.sum())} value(s) are neither 'train' nor 'test' (rows {rows})"
            )
        train = np.flatnonzero(lowered.to_numpy() == "train")
        test = np.flatnonzero(lowered.to_numpy() == "test")
    else:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must lie in (0, 1), got {test_size!r}")
        train, test = train_test_split(
            np.arange(n), test_size=test_size, random_state=seed, stratify=y
        )
        train, test = np.sort(train), np.sort(test)
    for name, rows in (("train", train), ("test", test)):
        if len(np.unique(y[rows])) < 2:
            raise ValueError(f"the {name} rows must hold both positives and negatives")
    fitted = clone(model if model is not None else TextSentimentModel(random_state=seed))
    fitted.fit([text_values[i] for i in train], y[train])
    test_texts = [text_values[i] for i in test]
    proba = fitted.predict_proba(test_texts)[:, list(fitted.classes_).index(True)]
    lex = lexicon_scores(test_texts, language=language).fillna(0.0).to_numpy()
    rows = []
    for scorer, score, n_train in (("text_model", proba, len(train)), ("lexicon", lex, 0)):
        auc, lo, hi = auc_interval(y[test], score, level=level)
        rows.append(
            {
                "scorer": scorer,
                "roc_auc": auc,
                "ci_low": lo,
                "ci_high": hi,
                "n_train": n_train,
                "n_test": len(test),
                "test_positives": int(y[test].sum()),
            }
        )
    return pd.DataFrame(rows)


# ---- distinctive terms ----------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_CLAUSE = re.compile(r"[.,!?;:()\"/\n\r\t]+|\s[-\u2013\u2014]+\s")
_PLACEHOLDER = re.compile(r"\[(?:email|phone)\]")  # what journeylib.privacy redaction leaves
TERM_COLUMNS = (
    "group", "rank", "term", "n_words", "count", "count_other", "doc_share", "group_texts",
    "log_odds", "z",
)  # fmt: skip


def _theme_analyzer(ngram_range: tuple[int, int], stop: frozenset[str], negators: frozenset[str]):
    lo, hi = ngram_range

    def analyze(text: str) -> list[str]:
        text = _PLACEHOLDER.sub(" ", text.lower().translate(_APOSTROPHES))
        out: list[str] = []
        for clause in _CLAUSE.split(text):
            toks = _WORD.findall(clause)
            drop = [t in stop or t.isdigit() for t in toks]
            lead = [d and t not in negators for t, d in zip(toks, drop, strict=True)]
            for n in range(lo, hi + 1):
                for i in range(len(toks) - n + 1):
                    if n == 1:
                        if not drop[i]:
                            out.append(toks[i])
                    elif not lead[i] and not any(drop[i + 1 : i + n]):
                        out.append(" ".join(toks[i : i + n]))
        return out

    return analyze


def _drop_subsumed(terms: list[str], counts: np.ndarray, share: float = 0.8) -> list[bool]:
    """Keep flags: a term is dropped when a longer candidate containing it (as whole words)
    accounts for at least ``share`` of its occurrences."""
    best: dict[str, float] = {}
    for term, count in zip(terms, counts, strict=True):
        words = term.split(" ")
        for n in range(1, len(words)):
            for i in range(len(words) - n + 1):
                part = " ".join(words[i : i + n])
                best[part] = max(best.get(part, 0.0), float(count))
    return [best.get(t, 0.0) < share * c for t, c in zip(terms, counts, strict=True)]


def distinctive_terms(
    texts: Iterable[Any],
    groups: Iterable[Any],
    *,
    ngram_range: tuple[int, int] = (1, 2),
    min_count: int = 3,
    top_n: int = 10,
    prior: float = 100.0,
    language: str = "auto",
    drop_subsumed: bool = True,
) -> pd.DataFrame:
    """The most distinctive words and phrases of each group of texts, against all the others.

    Each text is lower-cased and split into clauses at punctuation; n-grams do not cross a
    clause. Stopwords (English and/or Indonesian, ``resources/stopwords_*.txt``) and numbers
    are dropped as single words and may not appear inside a phrase, but a phrase may start
    with a negator ("not helpful", "tidak sesuai"). All n-gram counts form one multinomial.

    For group i against the rest j (Monroe, Colaresi & Quinn 2008, eq. 16-22), with ``y`` the
    counts of term w, ``n`` the total counts, and the informative Dirichlet prior
    ``a_w = prior * y_w(all) / n(all)`` (the term's share of the whole corpus, ``a_0 = prior``
    pseudo-counts in all):

    ``log_odds = log((y_iw + a_w) / (n_i + a_0 - y_iw - a_w))
    - log((y_jw + a_w) / (n_j + a_0 - y_jw - a_w))``,
    ``var = 1 / (y_iw + a_w) + 1 / (y_jw + a_w)``, ``z = log_odds / sqrt(var)``.

    Parameters
    ----------
    texts, groups : sequence
        One group per text (a stage, a score band, ...). Rows with a missing group or a
        missing/blank text are ignored; a group without text gives no rows.
    ngram_range : tuple of int
        Shortest and longest n-gram.
    min_count : int
        A term is listed for a group only if it occurs at least this often in it.
    top_n : int
        Terms per group, by z-score; only over-represented terms (z > 0) are listed.
    prior : float
        a_0, the total pseudo-count of the prior (larger = more shrinkage of rare terms).
    language : {"auto", "en", "id"}
        Stopword lists to use.
    drop_subsumed : bool
        Leave out a term whose occurrences in the group are (>= 80%) part of a longer listed
        phrase ("late" when "late delivery" is listed).

    Returns
    -------
    DataFrame
        One row per group x term: ``group``, ``rank`` (1 = most distinctive), ``term``,
        ``n_words``, ``count`` (in the group), ``count_other`` (in all other groups),
        ``doc_share`` (share of the group's texts containing it), ``group_texts``,
        ``log_odds``, ``z``. Groups in sorted (or categorical) order. Empty with these
        columns when fewer than two groups have text.
    """
    if not (1 <= ngram_range[0] <= ngram_range[1] <= MAX_PHRASE):
        raise ValueError(f"ngram_range must satisfy 1 <= low <= high <= {MAX_PHRASE}")
    if min_count < 1 or top_n < 1 or not prior > 0:
        raise ValueError("min_count and top_n must be >= 1 and prior > 0")
    text_values, missing, _ = _text_list(texts)
    if isinstance(groups, pd.Series):
        group_s = groups
    elif isinstance(groups, pd.Categorical):
        group_s = pd.Series(groups)
    else:
        group_s = pd.Series(list(groups), dtype=object)
    if len(group_s) != len(text_values):
        raise ValueError(f"groups has {len(group_s)} rows but texts has {len(text_values)}")
    blank = np.array([not t.strip() for t in text_values])
    keep = ~missing & ~blank & ~group_s.isna().to_numpy(dtype=bool)
    empty = pd.DataFrame({c: [] for c in TERM_COLUMNS})
    if isinstance(group_s.dtype, pd.CategoricalDtype):
        codes = group_s.cat.codes.to_numpy()[keep]
        present = np.unique(codes)
        labels = group_s.cat.categories[present]
        codes = np.searchsorted(present, codes)
    else:
        codes, labels = pd.factorize(group_s[keep], sort=True)
    if len(labels) < 2:
        return empty
    langs = _check_language(language)
    stop = load_stopwords(language)
    negators = frozenset(
        itertools.chain(
            *(_NEGATORS[lang] for lang in langs),
            *(k for lang in langs for k, v in _NORMALISE[lang].items() if v in ("not", "tidak")),
            ("don't", "didn't", "doesn't", "isn't", "wasn't", "can't", "won't", "cannot"),
        )
    )
    vectorizer = CountVectorizer(
        analyzer=_theme_analyzer(tuple(ngram_range), stop, negators), dtype=np.int64
    )
    docs = [t for t, k in zip(text_values, keep, strict=True) if k]
    try:
        matrix = vectorizer.fit_transform(docs).tocsc()
    except ValueError:  # nothing but stopwords
        return empty
    n_groups = len(labels)
    member = sparse.csr_matrix(
        (np.ones(len(docs)), (codes, np.arange(len(docs)))), shape=(n_groups, len(docs))
    )
    group_texts = np.asarray(member.sum(axis=1)).ravel()
    n_group = np.asarray(member @ matrix.sum(axis=1)).ravel()
    total_w = np.asarray(matrix.sum(axis=0)).ravel()
    n_all = float(total_w.sum())
    cols = np.flatnonzero(total_w >= min_count)
    if cols.size == 0:
        return empty
    sub = matrix[:, cols]
    terms = vectorizer.get_feature_names_out()[cols]
    y_i = np.asarray((member @ sub).todense(), dtype=float)
    present_docs = sub.copy()
    present_docs.data[:] = 1
    d_i = np.asarray((member @ present_docs).todense(), dtype=float)
    y_w = total_w[cols].astype(float)
    y_j = y_w - y_i
    n_i = n_group[:, None]
    n_j = n_all - n_i
    a_w = prior * y_w / n_all
    a_0 = prior
    log_odds = np.log((y_i + a_w) / (n_i + a_0 - y_i - a_w)) - np.log(
        (y_j + a_w) / (n_j + a_0 - y_j - a_w)
    )
    z = log_odds / np.sqrt(1 / (y_i + a_w) + 1 / (y_j + a_w))
    n_words = np.char.count(terms.astype(str), " ") + 1
    frames = []
    for g in range(n_groups):
        cand = np.flatnonzero((y_i[g] >= min_count) & (z[g] > 0))
        if cand.size == 0:
            continue
        order = np.lexsort((terms[cand], -y_i[g, cand], -z[g, cand]))
        cand = cand[order]
        if drop_subsumed:
            cand = cand[_drop_subsumed(list(terms[cand]), y_i[g, cand])]
        cand = cand[:top_n]
        frames.append(
            pd.DataFrame(
                {
                    "group": [labels[g]] * len(cand),
                    "rank": np.arange(1, len(cand) + 1),
                    "term": terms[cand].astype(str),
                    "n_words": n_words[cand],
                    "count": y_i[g, cand].astype(np.int64),
                    "count_other": y_j[g, cand].astype(np.int64),
                    "doc_share": d_i[g, cand] / group_texts[g],
                    "group_texts": np.full(len(cand), int(group_texts[g])),
                    "log_odds": log_odds[g, cand],
                    "z": z[g, cand],
                }
            )
        )
    if not frames:
        return empty
    return pd.concat(frames, ignore_index=True)
