"""Typed column mapping (``types:``) and a customer attribute table alone, through the loader.

Tiny hand-written exports with the expected values worked out by hand next to them; then the two
real attribute tables of issues 5 and 6 (marketing_data.csv, IBM Telco churn), checked against an
independent pandas parse written here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_io import FILES, _config_dict

from journeylib.config import ConfigError, load_config
from journeylib.engine import DuckDBEngine
from journeylib.io import DataValidationError, empty_table, parse_column, prepare
from journeylib.privacy import DEMO_KEY
from journeylib.schema import PROCESSED_SCHEMAS


def _hash(raw_id: str) -> str:
    """Independent HMAC-SHA256 pseudonym (20 hex digits) with the public demo key."""
    return hmac.new(DEMO_KEY.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:20]


@pytest.fixture
def client(tmp_path, monkeypatch):
    """Write ``customers.csv`` and a customers-only config; returns a function -> Config."""
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    raw = tmp_path / "raw"
    raw.mkdir()

    def make(csv: str, columns: dict, **source) -> object:
        (raw / "customers.csv").write_text(csv, encoding="utf-8")
        cfg = {
            "client": "attrs",
            "data": {
                "raw_dir": str(raw),
                "sources": {"customers": {"path": "customers.csv", "columns": columns, **source}},
            },
            "privacy": {"allow_demo_key": True},
            "output": {
                "processed_dir": str(tmp_path / "processed"),
                "reports_dir": str(tmp_path / "reports"),
            },
        }
        path = tmp_path / "attrs.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        return load_config(path)

    return make


def _customers(config) -> pd.DataFrame:
    return pd.read_parquet(config.processed_dir / "customers.parquet").set_index("customer_id")


def _notices(result) -> dict[tuple[str, str | None, str], dict]:
    return {(n["table"], n["column"], n["check"]): n for n in result.manifest["notices"]}


# ---------------------------------------------------------------------------------------------
# parse_column: one rule per line
# ---------------------------------------------------------------------------------------------
def test_money_strips_currency_spaces_and_thousands():
    raw = pd.Series(
        ["$84,835.00 ", " ", None, "(1,234.50)", "IDR 5,000", "\u20ac 12", "1 234", "-$3", "1e3"]
    )
    before = raw.copy()
    values, bad = parse_column(raw, "money")
    # currency symbols/codes, spaces and ',' thousands are ignored; blanks are missing, not bad;
    # accounting parentheses are negative
    expected = [84835.0, np.nan, np.nan, -1234.5, 5000.0, 12.0, 1234.0, -3.0, 1000.0]
    np.testing.assert_array_equal(values.to_numpy(), expected)
    assert values.dtype == "float64" and not bad.any()
    pd.testing.assert_series_equal(raw, before)  # the input is not modified


def test_number_rejects_what_it_cannot_read_unambiguously():
    raw = pd.Series(["1,5", "12abc", "n/a", "inf", "1.2.3", "--5", "Rpx5", "7", "-Rp 7"])
    values, bad = parse_column(raw, "number")
    # with decimal '.', ',' separates groups of three digits: "1,5" is not 15 but an error;
    # a sign may stand before the currency, but two signs or letters left over are errors
    assert bad.tolist() == [True] * 7 + [False, False]
    assert values.tolist()[-2:] == [7.0, -7.0] and values.isna().sum() == 7


def test_decimal_comma_swaps_the_separators():
    raw = pd.Series(["Rp1.250.000,50", "Rp150.000", "1,5", "84,835.00"])
    values, bad = parse_column(raw, "money", decimal=",")
    # Indonesian style: '.' between thousands, ',' before the decimals; a '.' after the ','
    # means the file does not use decimal commas, so the last value is an error
    np.testing.assert_array_equal(values.to_numpy(), [1250000.5, 150000.0, 1.5, np.nan])
    assert bad.tolist() == [False, False, False, True]


def test_integer_requires_whole_numbers():
    values, bad = parse_column(pd.Series(["2", "2.0", "2.5", "", "1,000"]), "integer")
    assert values.dtype == "Int64"
    assert values.tolist() == [2, 2, pd.NA, pd.NA, 1000]
    assert bad.tolist() == [False, False, True, False, False]


def test_boolean_spellings():
    raw = pd.Series(["Yes", "no", "Y", "n", "TRUE", "false", "1", "0", "t", "F", "ya", "Tidak"])
    values, bad = parse_column(raw, "boolean")
    assert values.dtype == "boolean" and not bad.any()
    assert values.tolist() == [True, False] * 6
    values, bad = parse_column(pd.Series(["maybe", " ", "2"]), "boolean")
    assert bad.tolist() == [True, False, True] and values.isna().all()


def test_date_uses_the_format_and_drops_time_of_day():
    values, bad = parse_column(
        pd.Series(["6/16/14", "12/31/13", "13/01/14", ""]), "date", date_format="%m/%d/%y"
    )
    assert values.dtype == "datetime64[us]"
    assert values.tolist()[:2] == [pd.Timestamp("2014-06-16"), pd.Timestamp("2013-12-31")]
    assert bad.tolist() == [False, False, True, False]  # month 13 is bad; a blank is missing
    values, _ = parse_column(pd.Series(["2025-03-01 23:10:00"]), "date")
    assert values.iloc[0] == pd.Timestamp("2025-03-01")


def test_category_and_text_are_trimmed_strings():
    values, bad = parse_column(pd.Series(["  Gold   member ", "", None]), "category")
    assert values.tolist() == ["Gold member", pd.NA, pd.NA] and not bad.any()
    values, _ = parse_column(pd.Series(["  two  spaces "]), "text")
    assert values.tolist() == ["two  spaces"]  # text keeps its inner spacing


def test_native_parquet_values_pass_through():
    assert parse_column(pd.Series([1.5, np.nan]), "money")[0].tolist()[0] == 1.5
    values, bad = parse_column(pd.Series([1, 0, 2]), "boolean")
    assert values.tolist()[:2] == [True, False] and bad.tolist() == [False, False, True]
    values, _ = parse_column(pd.Series([True, False]), "boolean")
    assert values.dtype == "boolean"


# ---------------------------------------------------------------------------------------------
# through ingest
# ---------------------------------------------------------------------------------------------
ATTRS = (
    "id, Income ,kids,vip,joined,tier,notes\n"
    'C1,"$84,835.00 ",2,Yes,6/16/14,Gold  ,mail ani@example.com\n'
    "C2, ,0,no,4/8/14,  Silver,\n"
    'C3,"(1,250.50)",1,TRUE,12/31/13,gold   member,\n'
    "C4,,3,0,1/2/14,,\n"
)
ATTR_COLUMNS = {
    "customer_id": "id",
    "income": " Income ",
    "kids": "kids",
    "vip": "vip",
    "joined": "joined",
    "tier": "tier",
    "notes": "notes",
}
ATTR_TYPES = {
    "income": "money",
    "kids": "integer",
    "vip": "boolean",
    "joined": "date",
    "tier": "category",
    "notes": "text",
}


def test_typed_attributes_are_parsed_and_blanks_counted(client):
    config = client(ATTRS, ATTR_COLUMNS, types=ATTR_TYPES, date_format="%m/%d/%y")
    result = prepare(config)
    cust = _customers(config).loc[[_hash(c) for c in ("C1", "C2", "C3", "C4")]]
    np.testing.assert_array_equal(cust["income"].to_numpy(), [84835.0, np.nan, -1250.5, np.nan])
    assert cust["kids"].tolist() == [2, 0, 1, 3] and cust["kids"].dtype == "Int64"
    assert cust["vip"].tolist() == [True, False, True, False]
    assert cust["joined"].tolist() == [
        pd.Timestamp(d) for d in ("2014-06-16", "2014-04-08", "2013-12-31", "2014-01-02")
    ]
    assert cust["tier"].tolist() == ["Gold", "Silver", "gold member", pd.NA]
    assert cust["notes"].tolist() == ["mail [email]", pd.NA, pd.NA, pd.NA]
    notices = _notices(result)
    # C2 (a space) and C4 (empty) have no income: 2 blanks read as missing
    assert notices[("customers", "income", "blank value")]["count"] == 2
    assert notices[("customers", "notes", "e-mail or phone number in free text")]["count"] == 1
    assert ("customers", "kids", "blank value") not in notices  # none blank: no notice
    assert result.manifest["column_types"] == {"customers": ATTR_TYPES}


def test_bad_values_are_problems_naming_column_check_count_rows_never_values(client):
    csv = (
        "id,income,kids,vip,joined\n"
        "C1,$1.000.50,2,yes,6/16/14\n"  # income: two '.' with decimal '.'
        "C2,12,2.5,maybe,2014-06-16\n"  # kids fractional, vip unknown, joined in another format
        "C3,abc,1,no,13/01/14\n"  # income not a number, joined month 13
    )
    columns = {c: c for c in ("income", "kids", "vip", "joined")} | {"customer_id": "id"}
    types = {"income": "money", "kids": "integer", "vip": "boolean", "joined": "date"}
    config = client(csv, columns, types=types, date_format="%m/%d/%y")
    with pytest.raises(DataValidationError) as info:
        prepare(config)
    msg = str(info.value)
    assert msg.startswith("Data validation failed with 4 problems:")
    assert "customers.csv [customers, column 'income'] not a number: 2 rows (rows 1, 3)" in msg
    assert "[customers, column 'kids'] not a whole number: 1 row (rows 2)" in msg
    assert "[customers, column 'vip'] not a yes/no value: 1 row (rows 2)" in msg
    assert "[customers, column 'joined'] unparseable date: 2 rows (rows 2, 3) — expected" in msg
    for value in ("1.000.50", "2.5", "maybe", "abc", "13/01", "2014-06-16"):
        assert value not in msg
    assert not config.processed_dir.exists()


def test_bad_values_can_be_read_as_missing_and_counted(client):
    csv = "id,income,vip\nC1,abc,yes\nC2,10,perhaps\nC3,x,no\n"
    config = client(
        csv,
        {"customer_id": "id", "income": "income", "vip": "vip"},
        types={"income": "number", "vip": "boolean"},
        on_bad_values="missing",
    )
    result = prepare(config)
    cust = _customers(config).loc[[_hash(c) for c in ("C1", "C2", "C3")]]
    np.testing.assert_array_equal(cust["income"].to_numpy(), [np.nan, 10.0, np.nan])
    assert cust["vip"].tolist() == [True, pd.NA, False]
    notices = _notices(result)
    # rows 1 and 3 hold no number, row 2 no yes/no: counted with row numbers, never values
    assert notices[("customers", "income", "not a number")]["count"] == 2
    assert notices[("customers", "income", "not a number")]["detail"] == {"rows": [1, 3]}
    assert notices[("customers", "vip", "not a yes/no value")]["action"] == "set to missing"
    assert "perhaps" not in json.dumps(result.manifest)


def test_decimal_comma_source_with_semicolons(client):
    csv = 'id;income;spend\nC1;Rp1.250.000,50;"1,5"\nC2;84.835;2\n'
    config = client(
        csv,
        {"customer_id": "id", "income": "income", "spend": "spend"},
        types={"income": "money", "spend": "number"},
        decimal=",",
        delimiter=";",
    )
    prepare(config)
    cust = _customers(config).loc[[_hash("C1"), _hash("C2")]]
    # '.' groups thousands and ',' is the decimal point: 1 250 000.50 and 84 835
    assert cust["income"].tolist() == [1250000.5, 84835.0]
    assert cust["spend"].tolist() == [1.5, 2.0]


def test_three_digit_decimals_raise_a_notice(client):
    # "1.250" with decimal '.' is 1.25; when every value has three decimals the '.' is probably
    # a thousands separator, so ingest asks to check the setting (and still reads 1.25)
    config = client(
        "id,income\nC1,1.250\nC2,2.500\nC3,300\n",
        {"customer_id": "id", "income": "income"},
        types={"income": "money"},
    )
    result = prepare(config)
    assert (
        _notices(result)[("customers", "income", "every decimal part has three digits")]["count"]
        == 2
    )
    assert _customers(config).loc[_hash("C1"), "income"] == 1.25


def test_raw_names_with_spaces_exact_or_tolerant(client):
    csv = 'id, Income \nC1,"$1,000"\n'
    for written in (" Income ", "Income", "Income  "):
        # exactly as in the file, or matching it once surrounding white space is ignored
        config = client(csv, {"customer_id": "id", "income": written}, types={"income": "money"})
        assert prepare(config, force=True).tables["customers"] == 1
        assert _customers(config)["income"].tolist() == [1000.0]
    # two headers that only differ by surrounding spaces: the trimmed name is ambiguous...
    csv = "id,Income, Income \nC1,1,2\n"
    config = client(csv, {"customer_id": "id", "income": "Income  "})
    with pytest.raises(DataValidationError, match=r"column 'income'\] ambiguous column"):
        prepare(config, force=True)
    # ...while the exact name still picks one
    config = client(csv, {"customer_id": "id", "income": " Income "}, types={"income": "number"})
    prepare(config, force=True)
    assert _customers(config)["income"].tolist() == [2.0]


def test_missing_column_hint_shows_spaces_in_header_names(client):
    config = client('id, Income \nC1,"1"\n', {"customer_id": "id", "income": "Salary"})
    with pytest.raises(DataValidationError) as info:
        prepare(config)
    assert "(found: id, ' Income ')" in str(info.value)


def test_canonical_numbers_can_be_typed(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in FILES.items():
        (raw / name).write_text(text, encoding="utf-8")
    orders = "order_id,customer_ref,order_time,sku,quantity,revenue\n"
    orders += 'O1,C1,2025-01-03 12:00:00,S1,"1,0",Rp150.000\n'
    (raw / "orders.csv").write_text(orders, encoding="utf-8")
    cfg = _config_dict(tmp_path)
    cfg["data"]["sources"]["orders"].update(
        types={"revenue": "money", "quantity": "integer"}, decimal=","
    )
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(cfg))
    config = load_config(path)
    prepare(config)
    out = pd.read_parquet(config.processed_dir / "orders.parquet")
    # Rp150.000 with decimal ',' is 150 000; quantity "1,0" is 1 and stays float64 (canonical)
    assert out["revenue"].tolist() == [150000.0] and out["quantity"].dtype == "float64"
    assert out["quantity"].tolist() == [1.0]


def test_missing_policy_cannot_empty_a_required_column(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in FILES.items():
        (raw / name).write_text(text, encoding="utf-8")
    (raw / "orders.csv").write_text(FILES["orders.csv"].replace(",150000", ",lots"))
    cfg = _config_dict(tmp_path)
    cfg["data"]["sources"]["orders"].update(types={"revenue": "money"}, on_bad_values="missing")
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    # the unreadable revenue becomes missing, and revenue is required: still an error
    with pytest.raises(DataValidationError) as info:
        prepare(load_config(path))
    msg = str(info.value)
    assert msg.startswith("Data validation failed with 1 problem:")
    assert "[orders, column 'revenue'] null value in required column: 1 row (rows 1)" in msg


def test_untyped_canonical_number_with_decimal_comma(tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in FILES.items():
        (raw / name).write_text(text, encoding="utf-8")
    orders = "order_id;customer_ref;order_time;sku;quantity;revenue\n"
    orders += "O1;C1;2025-01-03 12:00:00;S1;1;150000,5\nO2;C1;2025-01-03 12:00:00;S2;1;150.000\n"
    (raw / "orders.csv").write_text(orders, encoding="utf-8")
    cfg = _config_dict(tmp_path)
    cfg["data"]["sources"]["orders"].update(decimal=",", delimiter=";")
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(cfg))
    # untyped numbers stay plain: the decimal comma is read, a thousands separator is not
    with pytest.raises(DataValidationError) as info:
        prepare(load_config(path))
    assert "[orders, column 'revenue'] wrong dtype (expected a number): 1 row (rows 2)" in str(
        info.value
    )


# ---------------------------------------------------------------------------------------------
# config validation of the new keys
# ---------------------------------------------------------------------------------------------
def _validate(tmp_path: Path, sources: dict) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        yaml.safe_dump({"client": "c", "data": {"raw_dir": "raw", "sources": sources}}),
        encoding="utf-8",
    )
    load_config(path)


def test_types_must_name_mapped_columns_and_suit_canonical_ones(tmp_path):
    with pytest.raises(ConfigError) as info:
        _validate(
            tmp_path,
            {
                "customers": {
                    "path": "c.csv",
                    "columns": {"customer_id": "id", "first_seen": "t", "region": "r"},
                    "types": {"customer_id": "number", "income": "money", "first_seen": "date"},
                }
            },
        )
    msg = str(info.value)
    assert "customers.types: column(s) ['income'] are typed but not mapped" in msg
    assert "customers.types.customer_id: the canonical column cannot be number" in msg
    assert "first_seen" not in msg.split("cannot be number")[1]  # a date type suits first_seen
    with pytest.raises(ConfigError, match=r"customers\.types\.x: Input should be 'number'"):
        _validate(
            tmp_path,
            {
                "customers": {
                    "path": "c",
                    "columns": {"customer_id": "i", "x": "x"},
                    "types": {"x": "currency"},
                }
            },
        )


def test_only_customers_is_required(tmp_path):
    _validate(tmp_path, {"customers": {"path": "c.csv", "columns": {"customer_id": "id"}}})
    with pytest.raises(ConfigError, match=r"data\.sources\.customers: required key is missing"):
        _validate(tmp_path, {"events": {"path": "e.csv", "columns": {}}})


# ---------------------------------------------------------------------------------------------
# a customer attribute table alone
# ---------------------------------------------------------------------------------------------
def test_customers_alone_writes_empty_core_tables(client, tmp_path):
    config = client("id,segment\nC1,gold\nC2,silver\n", {"customer_id": "id", "segment": "segment"})
    result = prepare(config)
    assert result.tables == {"customers": 2, "events": 0, "orders": 0, "feedback": 0}
    assert result.manifest["absent_sources"] == ["events", "orders", "feedback"]
    notices = _notices(result)
    for name in ("events", "orders", "feedback"):
        assert notices[(name, None, "no source in the config")]["action"] == "written empty"
    # the empty tables have the columns and dtypes a full ingest writes (test_io's tiny client)
    full = tmp_path / "full"
    (full / "raw").mkdir(parents=True)
    for name, text in FILES.items():
        (full / "raw" / name).write_text(text, encoding="utf-8")
    (full / "full.yaml").write_text(yaml.safe_dump(_config_dict(full)))
    full_config = load_config(full / "full.yaml")
    prepare(full_config)
    for name in ("events", "orders", "feedback"):
        empty = pd.read_parquet(config.processed_dir / f"{name}.parquet")
        written = pd.read_parquet(full_config.processed_dir / f"{name}.parquet")
        assert len(empty) == 0
        # column order follows the mapping in a full ingest; compare by name
        pd.testing.assert_series_equal(
            empty.dtypes.sort_index(), written.dtypes.sort_index(), obj=name
        )
        PROCESSED_SCHEMAS[name].validate(empty)
    # customers without activity keep first_seen missing, and every customer is identified
    cust = _customers(config)
    assert cust["first_seen"].isna().all() and cust["identified"].all()
    # event timelines are written (empty) and the engine reads every table
    with DuckDBEngine(config.processed_dir) as engine:
        assert {"events", "orders", "feedback", "event_timelines"} <= set(engine.tables())
        assert engine.query("SELECT COUNT(*) AS n FROM event_timelines")["n"].iloc[0] == 0
        assert engine.query("SELECT COUNT(*) AS n FROM events")["n"].iloc[0] == 0
    assert prepare(config).reused


def test_empty_table_matches_the_processed_schema():
    for name in ("customers", "orders", "feedback"):
        PROCESSED_SCHEMAS[name].validate(empty_table(name))
    assert empty_table("events")["ts"].dtype == "datetime64[us, UTC]"


# ---------------------------------------------------------------------------------------------
# real attribute tables nobody here designed
# ---------------------------------------------------------------------------------------------
MARKETING_INTEGERS = {
    "year_birth": "Year_Birth",
    "kidhome": "Kidhome",
    "teenhome": "Teenhome",
    "recency": "Recency",
    "mnt_wines": "MntWines",
    "num_web_purchases": "NumWebPurchases",
    "num_web_visits_month": "NumWebVisitsMonth",
}


def _shared_config(tmp_path: Path, client: str, raw_dir: Path, customers: dict):
    cfg = {
        "client": client,
        "data": {"raw_dir": str(raw_dir), "sources": {"customers": customers}},
        "privacy": {"allow_demo_key": True},
        "output": {
            "processed_dir": str(tmp_path / "processed"),
            "reports_dir": str(tmp_path / "reports"),
        },
    }
    path = tmp_path / f"{client}.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return load_config(path)


@pytest.mark.shared_data
def test_marketing_data_income_through_the_mapping(shared_datasets, tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    folder = shared_datasets / "persona_clustering"
    customers = {
        "path": "marketing_data.csv",
        "ts_format": "%m/%d/%y",
        "columns": {
            "customer_id": "ID",
            "first_seen": "Dt_Customer",
            "income": " Income ",
            "enrolled": "Dt_Customer",
            "education": "Education",
            "marital_status": "Marital_Status",
            "complain": "Complain",
            "country": "Country",
            **MARKETING_INTEGERS,
        },
        "types": {
            "income": "money",
            "enrolled": "date",
            "education": "category",
            "marital_status": "category",
            "complain": "boolean",
            "country": "category",
            **dict.fromkeys(MARKETING_INTEGERS, "integer"),
        },
    }
    config = _shared_config(tmp_path, "marketing", folder, customers)
    result = prepare(config)
    cust = _customers(config)

    # independent parse: drop '$', ',' and spaces by hand; an empty remainder is missing
    raw = pd.read_csv(folder / "marketing_data.csv", dtype=str, encoding="utf-8-sig")
    raw.index = [_hash(i) for i in raw["ID"]]
    text = raw[" Income "].fillna("").str.replace(r"[$,\s]", "", regex=True)
    income = pd.to_numeric(text.replace("", np.nan)).astype("float64")
    assert len(cust) == len(raw) == 2240
    assert cust["income"].dtype == "float64"
    n_missing = int(income.isna().sum())
    assert n_missing == 24  # the documented number of blank incomes in this file
    assert int(cust["income"].isna().sum()) == n_missing
    assert _notices(result)[("customers", "income", "blank value")]["count"] == n_missing
    pd.testing.assert_series_equal(
        cust["income"].reindex(raw.index), income, check_names=False, check_index=True
    )
    for canon, rawname in MARKETING_INTEGERS.items():
        assert cust[canon].dtype == "Int64"
        assert (
            cust[canon].reindex(raw.index).astype("int64").tolist()
            == raw[rawname].astype("int64").tolist()
        )
    enrolled = pd.to_datetime(raw["Dt_Customer"], format="%m/%d/%y")
    assert (cust["enrolled"].reindex(raw.index) == enrolled).all()
    # first_seen (a timestamp, UTC since data.timezone is UTC) is the same day
    assert (cust["first_seen"].reindex(raw.index).dt.tz_localize(None) == enrolled).all()
    assert cust["complain"].sum() == (raw["Complain"] == "1").sum()
    assert cust["education"].value_counts().to_dict() == raw["Education"].value_counts().to_dict()
    assert result.tables["events"] == 0


@pytest.mark.shared_data
def test_telco_blank_total_charges_and_yes_no_churn(shared_datasets, tmp_path, monkeypatch):
    monkeypatch.delenv("JOURNEY_ID_KEY", raising=False)
    folder = shared_datasets / "ibm_telco_churn"
    customers = {
        "path": "Telco-Customer-Churn_IBM.csv",
        "columns": {
            "customer_id": "customerID",
            "tenure_months": "tenure",
            "monthly_charges": "MonthlyCharges",
            "total_charges": "TotalCharges",
            "contract": "Contract",
            "senior_citizen": "SeniorCitizen",
            "churn": "Churn",
        },
        "types": {
            "tenure_months": "integer",
            "monthly_charges": "money",
            "total_charges": "number",
            "contract": "category",
            "senior_citizen": "boolean",
            "churn": "boolean",
        },
    }
    config = _shared_config(tmp_path, "telco", folder, customers)
    result = prepare(config)
    cust = _customers(config)

    raw = pd.read_csv(folder / "Telco-Customer-Churn_IBM.csv", dtype=str, keep_default_na=False)
    raw.index = [_hash(i) for i in raw["customerID"]]
    total = pd.to_numeric(raw["TotalCharges"].str.strip().replace("", np.nan)).astype("float64")
    assert len(cust) == len(raw) == 7043
    # 11 customers (tenure 0) have a blank TotalCharges: missing, and counted as a notice
    assert int(total.isna().sum()) == 11 == int(cust["total_charges"].isna().sum())
    assert _notices(result)[("customers", "total_charges", "blank value")]["count"] == 11
    pd.testing.assert_series_equal(
        cust["total_charges"].reindex(raw.index), total, check_names=False
    )
    churn = raw["Churn"].eq("Yes")
    assert int(churn.sum()) == 1869 == int(cust["churn"].sum())
    assert cust["churn"].reindex(raw.index).astype(bool).tolist() == churn.tolist()
    assert cust["senior_citizen"].sum() == (raw["SeniorCitizen"] == "1").sum()
