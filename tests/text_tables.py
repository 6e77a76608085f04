"""Checks shared by the tests of modules with en/id text tables."""

from __future__ import annotations

import string


def same_fields(texts: dict) -> None:
    """Every text of an en/id table exists in both languages with the same format fields."""
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    assert texts["en"].keys() == texts["id"].keys()
    for key, text in texts["en"].items():
        assert fields(text) == fields(texts["id"][key]), key
