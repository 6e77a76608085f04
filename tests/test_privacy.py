"""Pseudonyms and redaction, checked against independently computed values."""

import hashlib
import hmac

import pandas as pd
import pytest

from journeylib.privacy import (
    PrivacyError,
    check_no_direct_identifiers,
    contains_direct_identifier,
    get_key,
    pseudonymise,
    redact_text,
)


def test_pseudonym_is_truncated_hmac_sha256():
    out = pseudonymise(pd.Series(["C1", None, "C1", "C2"]), b"secret")
    expected = hmac.new(b"secret", b"C1", hashlib.sha256).hexdigest()[:20]
    assert out.iloc[0] == expected and out.iloc[2] == expected
    assert pd.isna(out.iloc[1])
    assert out.iloc[3] != expected and len(out.iloc[3]) == 20


def test_key_required_unless_demo(monkeypatch):
    monkeypatch.delenv("JOURNEY_TEST_KEY", raising=False)
    with pytest.raises(PrivacyError, match="JOURNEY_TEST_KEY is not set"):
        get_key("JOURNEY_TEST_KEY")
    assert get_key("JOURNEY_TEST_KEY", allow_demo_key=True) == b"journeylib-demo-key-not-secret"
    monkeypatch.setenv("JOURNEY_TEST_KEY", "k")
    assert get_key("JOURNEY_TEST_KEY") == b"k"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hubungi saya di 0812-3456-7890 ya", "hubungi saya di [phone] ya"),
        ("call +62 812 3456 7890 now", "call [phone] now"),
        ("mail ani.lestari@example.co.id pls", "mail [email] pls"),
        ("order 12345 arrived in 3 days", "order 12345 arrived in 3 days"),  # short numbers stay
        ("rated 10/10, Rp 150.000", "rated 10/10, Rp 150.000"),
    ],
)
def test_redact_text(text, expected):
    red, changed = redact_text(pd.Series([text]))
    assert red.iloc[0] == expected
    assert changed == int(text != expected)
    assert not contains_direct_identifier(red).iloc[0]


def test_identifier_columns_detected():
    assert check_no_direct_identifiers("customers", {"customer_id": "id", "region": "Email"}) == [
        "region"
    ]
    assert check_no_direct_identifiers("customers", {"customer_id": "email", "nama": "x"}) == [
        "nama"
    ]
    assert (
        check_no_direct_identifiers("events", {"customer_id": "visitor_id", "event": "name"}) == []
    )


def test_pseudonyms_equal_hmac_on_many_ids_and_keys():
    from journeylib.privacy import pseudonyms

    ids = [f"C{k:07d}" for k in range(2000)] + ["", "é ✓ 日本", "web:v1", "x" * 300]
    # a short key, a key of exactly one SHA-256 block and one longer (hashed first, RFC 2104)
    for key in (b"k", b"b" * 64, b"long-key-" * 20, "kunci-rahasia-é".encode()):
        want = [hmac.new(key, i.encode(), hashlib.sha256).hexdigest()[:20] for i in ids]
        assert pseudonyms(ids, key) == want
        assert pseudonymise(pd.Series(ids), key).tolist() == want


def test_pseudonymise_all_equals_one_column_at_a_time():
    from journeylib.privacy import pseudonymise_all

    a = pd.Series(["C1", None, "C2"], index=[10, 11, 12], name="customer_id")
    b = pd.Series(["C2", "v9"], name="source_id", dtype="string")
    got = pseudonymise_all([a, b], b"k")
    for col, out in zip([a, b], got, strict=True):
        pd.testing.assert_series_equal(out, pseudonymise(col, b"k"))
    assert pseudonymise_all([], b"k") == []
