"""TOML config tables map onto options dataclasses with typed, named errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from corpus_tools.config import check_tables, config_hash, load_config, options_dict, options_from
from corpus_tools.errors import ConfigError


@dataclass(frozen=True)
class Example:
    count: int = 1
    share: float = 0.5
    names: tuple[str, ...] = ()
    form: Literal["NFC", "NFKC"] = "NFC"
    label: str | None = None
    flag: bool = False


def test_table_maps_onto_fields_with_coercion():
    table = {"count": 3, "share": 1, "names": ["a", "b"], "form": "NFKC", "label": "x", "flag": True}
    assert options_from(Example, table, where="c.toml [ex]") == Example(3, 1.0, ("a", "b"), "NFKC", "x", True)


def test_empty_table_gives_defaults_or_base():
    assert options_from(Example, None, where="w") == Example()
    base = Example(count=7)
    assert options_from(Example, {}, where="w", base=base) is base
    assert options_from(Example, {"flag": True}, where="w", base=base) == Example(count=7, flag=True)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"cuont": 1}, "c.toml [ex]: unknown option 'cuont' (known: count, flag, form, label, names, share)"),
        ({"count": "3"}, "c.toml [ex]: option 'count' must be int, got '3'"),
        ({"count": True}, "c.toml [ex]: option 'count' must be an integer, got True"),
        ({"form": "NFD"}, "c.toml [ex]: option 'form' must be one of 'NFC', 'NFKC', got 'NFD'"),
        ({"names": "a"}, "c.toml [ex]: option 'names' must be an array, got 'a'"),
        ({"flag": 1}, "c.toml [ex]: option 'flag' must be bool, got 1"),
    ],
)
def test_bad_values_name_file_table_and_key(table, message):
    with pytest.raises(ConfigError) as exc:
        options_from(Example, table, where="c.toml [ex]")
    assert str(exc.value) == message


@dataclass(frozen=True)
class Validated:
    low: int = 1
    high: int = 2

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ConfigError(f"low ({self.low}) must be <= high ({self.high})")


def test_an_options_class_own_validation_names_the_file():
    with pytest.raises(ConfigError) as exc:
        options_from(Validated, {"low": 5}, where="c.toml [v]")
    assert str(exc.value) == "c.toml [v]: low (5) must be <= high (2)"


def test_load_config_reads_tables_and_reports_errors(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[normalize]\nuncurl_quotes = true\n[teasers]\nmin_words = 60\n")
    assert load_config(str(good)) == {"normalize": {"uncurl_quotes": True}, "teasers": {"min_words": 60}}
    bad = tmp_path / "bad.toml"
    bad.write_text("[normalize\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML: "):
        load_config(str(bad))
    with pytest.raises(ConfigError, match=r"missing\.toml: No such file or directory"):
        load_config(str(tmp_path / "missing.toml"))
    top = tmp_path / "top.toml"
    top.write_text("jobs = 2\n")
    with pytest.raises(ConfigError, match=r"'jobs' must be a table"):
        load_config(str(top))


def test_unknown_table_is_an_error():
    with pytest.raises(ConfigError, match=r"^c.toml: unknown table \[normalise\] \(known: normalize, teasers\)$"):
        check_tables({"normalise": {}}, {"normalize", "teasers"}, where="c.toml")


def test_hash_is_stable_and_order_independent():
    a = {"normalize": options_dict(Example(names=("x",)))}
    b = {"normalize": dict(reversed(list(options_dict(Example(names=("x",))).items())))}
    assert config_hash(a) == config_hash(b)
    assert len(config_hash(a)) == 16
    assert config_hash(a) != config_hash({"normalize": options_dict(Example())})
    assert options_dict(Example(names=("x",)))["names"] == ["x"]
