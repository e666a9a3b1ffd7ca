"""TOML config tables map onto options dataclasses with typed, named errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from conftest import SEEDS
from corpus_tools.config import check_tables, config_hash, load_config, options_dict, options_from, tables
from corpus_tools.errors import ConfigError
from corpus_tools.registry import step_named


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


def test_a_choice_is_taken_in_any_case_as_its_flag_takes_it(cli, tmp_path):
    # `--form nfkc` was accepted and `unicode_form = "nfkc"` refused: both give the canonical spelling now
    assert options_from(Example, {"form": "nfkc"}, where="w").form == "NFKC"
    config = tmp_path / "c.toml"
    config.write_text('[normalize]\nunicode_form = "nfkc"\n', encoding="utf-8")
    tables_ = load_config(str(config))
    normalize = step_named("normalize").Options
    assert options_from(normalize, tables_["normalize"], where="c.toml").unicode_form == "NFKC"
    record = b'{"id": "a", "text": "x\xc2\xb2", "source": "s", "metadata": {}}\n'
    by_file = cli(["normalize", "--config", config], input=record)
    by_flag = cli(["normalize", "--form", "nfkc"], input=record)
    assert by_file.exit_code == 0, by_file.stderr
    assert by_file.stdout == by_flag.stdout and '"text":"x2"' in by_file.stdout


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
        ({"count": True}, "c.toml [ex]: option 'count' must be an integer, got true"),
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
    with pytest.raises(
        ConfigError,
        match=r"^c.toml: unknown table \[normalise\] "
        r"\(known: check, credits, dedup, normalize, residue, stats, teasers\)$",
    ):
        check_tables({"normalise": {}}, {"normalize", "teasers"}, where="c.toml")


@pytest.mark.parametrize(
    ("toml", "flags", "message"),
    [
        (
            '[dedup]\nmode = "fuzzy"\n',
            ["--no-dedup"],
            "[dedup]: option 'mode' must be one of 'exact', 'near', got 'fuzzy'",
        ),
        ("[residue]\nbogus = 5\n", [], "[residue]: unknown option 'bogus' (known: "),
    ],
)
def test_the_table_of_a_step_that_does_not_run_is_checked_all_the_same(cli, tmp_path, toml, flags, message):
    """A typo in a step's table fails the run that has the step off too, not the first run that switches it on."""
    config = tmp_path / "c.toml"
    config.write_text(toml, encoding="utf-8")
    result = cli(["clean", SEEDS, "-q", "--config", config, *flags])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {config}: {message}")


def test_hash_is_stable_and_order_independent():
    a = {"normalize": options_dict(Example(names=("x",)))}
    b = {"normalize": dict(reversed(list(options_dict(Example(names=("x",))).items())))}
    assert config_hash(a) == config_hash(b)
    assert len(config_hash(a)) == 16
    assert config_hash(a) != config_hash({"normalize": options_dict(Example())})
    assert options_dict(Example(names=("x",)))["names"] == ["x"]


# ------------------------------------------------------------------------ loading never tracebacks


def test_a_file_that_is_not_utf8_is_not_valid_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_bytes(b"[check]\nmin_chars = 2\n# caf\xe9\n")
    with pytest.raises(ConfigError) as exc:
        load_config("c.toml")
    assert str(exc.value) == "c.toml: not valid TOML: byte 0xe9 on line 3 is not UTF-8"


@pytest.mark.parametrize("command", ["clean", "check", "stats"])
def test_every_command_reports_a_non_utf8_config_in_one_line(cli, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe")
    result = cli([command, "--config", "c.toml"], input=RECORD)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "error: c.toml: not valid TOML: byte 0xff on line 1 is not UTF-8\n",
    )


def test_a_path_that_is_no_file_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(ConfigError) as exc:
        load_config("d.toml")
    assert str(exc.value) == "d.toml: Is a directory"
    with pytest.raises(ConfigError) as exc:
        load_config("c\0.toml")
    assert str(exc.value) == "c\0.toml: embedded null byte"


@dataclass(frozen=True)
class Numbers:
    count: int = 1
    share: float = 0.5
    counts: tuple[int, ...] = ()
    one: Literal[1, 2] = 1


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        # a table (inline or not) where a value is expected
        ("count = {a = 1}", "c.toml [n]: option 'count' must be int, got {'a': 1}"),
        ("[n.count]\na = 1", "c.toml [n]: option 'count' must be int, got {'a': 1}"),
        ("counts = {a = 1}", "c.toml [n]: option 'counts' must be an array, got {'a': 1}"),
        # arrays of mixed or wrong types
        ("counts = [1, 'x']", "c.toml [n]: option 'counts' must be int, got 'x'"),
        ("counts = [1, [2]]", "c.toml [n]: option 'counts' must be int, got [2]"),
        ("counts = [1, true]", "c.toml [n]: option 'counts' must be an integer, got true"),
        # integers beyond 64 bits (TOML promises no more; JSON writers take no more)
        ("count = 9223372036854775808", "c.toml [n]: option 'count' must be a 64-bit integer, got 9223372036854775808"),
        (
            "share = -99999999999999999999999",
            "c.toml [n]: option 'share' must be a 64-bit integer, got -99999999999999999999999",
        ),
        (
            "counts = [0, 99999999999999999999]",
            "c.toml [n]: option 'counts' must be a 64-bit integer, got 99999999999999999999",
        ),
        # a float where an int is expected, and isinstance(True, int)
        ("count = 2.0", "c.toml [n]: option 'count' must be int, got 2.0"),
        ("count = inf", "c.toml [n]: option 'count' must be int, got inf"),
        ("share = true", "c.toml [n]: option 'share' must be float, got true"),
        ("one = true", "c.toml [n]: option 'one' must be one of 1, 2, got true"),
        ("count = 1979-05-27", "c.toml [n]: option 'count' must be int, got datetime.date(1979, 5, 27)"),
    ],
)
def test_valid_toml_of_the_wrong_shape_is_a_config_error(tmp_path, toml, message):
    path = tmp_path / "c.toml"
    path.write_text(f"[n]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        options_from(Numbers, load_config(str(path), known=("n",))["n"], where="c.toml [n]")
    assert str(exc.value) == message


def test_64_bit_extremes_and_numbers_are_taken():
    table = {"count": -(2**63), "share": 2**63 - 1, "counts": [0, 2**63 - 1], "one": 2}
    assert options_from(Numbers, table, where="w") == Numbers(-(2**63), float(2**63 - 1), (0, 2**63 - 1), 2)
    assert options_from(Numbers, {"share": 3}, where="w").share == 3.0


# ------------------------------------------------------------------- one project file for every command

RECORD = b'{"id": "a", "text": "One paragraph of text.", "source": "s", "metadata": {}}\n'

EVERY_TABLE = """\
[normalize]
straighten_quotes = true
[credits]
bios = false
[teasers]
min_words = 90
[check]
ignore = ["teaser-tail"]
[stats]
top = 0
"""


def test_tables_name_every_commands_options_dataclass():
    import dataclasses
    import importlib

    found = tables()
    assert list(found) == ["normalize", "credits", "residue", "teasers", "dedup", "check", "stats"]
    for cls in found.values():
        assert dataclasses.is_dataclass(cls) and cls.__module__.startswith("corpus_tools.")
    assert importlib.import_module("corpus_tools.registry").steps()[0].Options is found["normalize"]


def test_load_config_reads_every_commands_tables_and_rejects_a_typo(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(EVERY_TABLE, encoding="utf-8")
    assert set(load_config(str(path))) == {"normalize", "credits", "teasers", "check", "stats"}
    path.write_text(EVERY_TABLE + "[credit]\nbios = true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(str(path))
    assert (
        str(exc.value)
        == f"{path}: unknown table [credit] (known: check, credits, dedup, normalize, residue, stats, teasers)"
    )


def test_a_command_ignores_the_tables_of_the_others():
    # clean reads normalize, credits and teasers: check and stats are another command's, not typos
    check_tables({"normalize": {}, "check": {}, "stats": {}}, {"normalize", "credits", "teasers"}, where="c.toml")
    with pytest.raises(ConfigError) as exc:
        check_tables({"normalize": {}, "chek": {}}, {"normalize", "credits", "teasers"}, where="c.toml")
    assert (
        str(exc.value)
        == "c.toml: unknown table [chek] (known: check, credits, dedup, normalize, residue, stats, teasers)"
    )


@pytest.mark.parametrize("command", ["clean", "check", "stats"])
def test_one_file_serves_every_command(cli, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(EVERY_TABLE, encoding="utf-8")
    # each command takes the file, and reads its own table: the same output as its flags give
    flags = {
        "clean": ["--straighten-quotes", "--no-bios", "--min-words", "90", "-q"],
        "check": ["--ignore", "teaser-tail"],
        "stats": ["--top", "0"],
    }
    with_file = cli([command, "--config", "c.toml", *(["-q"] if command == "clean" else [])], input=RECORD)
    with_flags = cli([command, *flags[command]], input=RECORD)
    assert (with_file.exit_code, with_file.stderr) == (0, "")
    assert with_file.stdout == with_flags.stdout
    # another command's table is not read, even with a key this command would not know
    config.write_text(
        EVERY_TABLE.replace("[stats]\n", "[stats]\nbogus = 1\n")
        if command != "stats"
        else EVERY_TABLE.replace("[check]\n", "[check]\nbogus = 1\n"),
        encoding="utf-8",
    )
    assert cli([command, "--config", "c.toml"], input=RECORD).exit_code == 0
    # a typo in a table name is still an error, listing the known ones
    config.write_text(EVERY_TABLE + "[credit]\n", encoding="utf-8")
    typo = cli([command, "--config", "c.toml"], input=RECORD)
    assert (typo.exit_code, typo.stdout, typo.stderr) == (
        2,
        "",
        "error: c.toml: unknown table [credit] (known: check, credits, dedup, normalize, residue, stats, teasers)\n",
    )


@pytest.mark.parametrize(
    ("command", "table", "line", "message"),
    [
        ("clean", "credits", "max_bio_lines = -1", "c.toml: [credits]: max_bio_lines must be >= 1 (got -1)"),
        ("clean", "credits", "max_line_chars = -3", "c.toml: [credits]: max_line_chars must be >= 5 (got -3)"),
        ("clean", "credits", "max_bio_words = 0", "c.toml: [credits]: max_bio_words must be >= 1 (got 0)"),
        ("clean", "teasers", "min_recurrence = 1", "c.toml: [teasers]: min_recurrence must be >= 2 (got 1)"),
        (
            "clean",
            "normalize",
            "unicode_form = 'NFX'",
            "c.toml: [normalize]: option 'unicode_form' must be one of 'NFC', 'NFKC', 'NFD', 'NFKD', 'none', got 'NFX'",
        ),
        ("check", "check", "min_chars = -5", "c.toml: [check]: min_chars must be >= 1 (got -5)"),
        (
            "check",
            "check",
            "ignore = ['nope']",
            "c.toml: [check]: unknown rule 'nope' in ignore (rules: schema, types, duplicate-id, empty-text, unicode, "
            "mojibake, html-entities, credit-lines, teaser-tail, no-records, unusable-input, replacement-char, "
            "duplicate-text)",
        ),
        ("stats", "stats", "top = -3", "c.toml: [stats]: top must be >= 0 (got -3)"),
        (
            "stats",
            "stats",
            "length_bins = [5, 1]",
            "c.toml: [stats]: length_bins must be strictly increasing word counts starting at 0 (got [5, 1])",
        ),
        # a key unknown in a table the command reads is still an error
        (
            "clean",
            "credits",
            "max_bio_line = 3",
            "c.toml: [credits]: unknown option 'max_bio_line' (known: bios, bylines, dry_run, extra_roles, "
            "max_bio_lines, max_bio_words, max_line_chars, min_bio_recurrence, translators)",
        ),
        (
            "stats",
            "stats",
            "tops = 3",
            "c.toml: [stats]: unknown option 'tops' (known: length_bins, max_tracked, min_repeats, top)",
        ),
    ],
)
def test_an_option_out_of_range_names_the_file_table_option_and_range(
    cli, tmp_path, monkeypatch, command, table, line, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(f"[{table}]\n{line}\n", encoding="utf-8")
    result = cli([command, "--config", "c.toml"], input=RECORD)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {message}\n")


# ------------------------------------------------------------------- the CLI's bounds are the library's


def _cli_int_options() -> list[tuple[str, str, Any]]:
    """(command, field, lower bound) of every flag of a command that sets an integer field of its options."""
    import typing

    import typer

    from corpus_tools.cli.app import app_for

    group = typer.main.get_command(app_for(["--help"]))
    found = []
    for table, cls in tables().items():
        hints = typing.get_type_hints(cls)
        for param in group.commands[table].params:  # type: ignore[attr-defined]
            if hints.get(param.name) is int:
                # typer keeps the bound on the option (or, with plain click, on its IntRange type)
                low = getattr(param, "min", getattr(getattr(param, "type", None), "min", None))
                found.append((table, param.name, low))
    return found


def test_every_integer_flag_of_a_command_is_bounded_as_its_options_field_is():

    found = _cli_int_options()
    assert {(table, field) for table, field, _ in found} == {
        ("credits", "max_bio_words"),
        ("credits", "max_bio_lines"),
        ("credits", "max_line_chars"),
        ("credits", "min_bio_recurrence"),
        ("teasers", "min_words"),
        ("teasers", "max_words"),
        ("teasers", "heading_max_words"),
        ("teasers", "min_recurrence"),
        ("residue", "min_preview_words"),
        ("residue", "max_headline_words"),
        ("residue", "max_short_words"),
        ("residue", "footer_max_words"),
        ("residue", "nav_run_min"),
        ("residue", "guard_lines"),
        ("residue", "listing_min_previews"),
        ("residue", "recurrence_min_docs"),
        ("dedup", "shingle"),
        ("dedup", "permutations"),
        ("dedup", "seed"),
        ("check", "max_findings"),
        ("stats", "top"),
    }
    for table, field, low in found:
        cls = tables()[table]
        assert low is not None, f"{table} --{field} has no lower bound"
        with pytest.raises(ConfigError) as exc:  # one below the flag's bound: the library refuses it too
            cls(**{field: low - 1})
        assert f"{field} must be >= {low} (got {low - 1})" in str(exc.value)
        try:  # the flag's bound itself: the library takes it (unless another option must move with it)
            cls(**{field: low})
        except ConfigError as other:
            assert f"{field} must be >=" not in str(other)


def test_a_flag_beyond_64_bits_is_refused_by_the_options_not_a_traceback_in_the_manifest(cli):
    result = cli(["clean", "-q", "--max-bio-words", str(2**64)], input=RECORD)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "error: credits: max_bio_words must be a 64-bit integer (got 18446744073709551616)\n",
    )


def test_overrides_are_validated_together_with_the_table():
    # the file alone is invalid (low 5 > high 2); the flag that moves high with it makes it valid
    assert options_from(Validated, {"low": 5}, where="c.toml [v]", overrides={"high": 6}) == Validated(5, 6)
    assert options_from(Validated, None, where="w", overrides={"high": 6}) == Validated(1, 6)
    with pytest.raises(ConfigError) as exc:
        options_from(Validated, {"low": 5}, where="c.toml [v]", overrides={"high": 4})
    assert str(exc.value) == "c.toml [v]: low (5) must be <= high (4)"


def test_an_override_that_makes_valid_options_invalid_is_reported_as_itself():
    # the file is fine; the flag is wrong: the error is the options' own, not blamed on the file
    with pytest.raises(ConfigError) as exc:
        options_from(Validated, {"high": 3}, where="c.toml [v]", overrides={"low": 4})
    assert str(exc.value) == "low (4) must be <= high (3)"
    with pytest.raises(ConfigError) as exc:
        options_from(Validated, None, where="None [v]", overrides={"low": 4})
    assert str(exc.value) == "low (4) must be <= high (2)"


def test_an_override_wins_over_the_table_for_the_same_option():
    assert options_from(Validated, {"high": 3}, where="w", overrides={"high": 9}) == Validated(1, 9)
