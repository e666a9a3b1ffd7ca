"""The line-level residue fixtures (tests/data/residue/lines.jsonl: real lines of the pages in ../shared/realworld/,
each labelled with its kind) keep their shape, and scripts/residue_kinds.py counts what a command removed exactly."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import DATA, ROOT

SCRIPT = ROOT / "scripts" / "residue_kinds.py"
FIXTURES = DATA / "residue" / "lines.jsonl"
MAX_LINE = 320  # the repository holds short labelled lines only


def _load_script():
    spec = importlib.util.spec_from_file_location("residue_kinds", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("residue_kinds", module)
    spec.loader.exec_module(module)
    return module


rk = _load_script()
PY = shlex.quote(sys.executable)


def _windows() -> list[dict]:
    return [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------------ the fixture file


def test_every_window_has_the_documented_shape() -> None:
    for w in _windows():
        assert set(w) == {"page", "rendering", "part", "lang", "lines"}, w.get("page")
        assert len(w["page"]) == 8 and w["page"].startswith("page") and w["page"][4:].isdigit()
        assert w["rendering"] in rk.RENDERINGS
        assert w["part"] == rk.part_of(w["page"]), w["page"]  # even last digit: tune; odd: report
        assert isinstance(w["lang"], str) and 2 <= len(w["lang"]) <= 3 and w["lang"].islower()
        assert w["lines"], w["page"]
        for line in w["lines"]:
            assert set(line) == {"text", "kind"}
            assert line["kind"] in rk.KINDS, line
            text = line["text"]
            assert text == text.strip() and text and "\n" not in text and "\r" not in text
            assert len(text) <= MAX_LINE, text[:60]


def test_the_set_is_big_enough_and_covers_both_parts_and_renderings() -> None:
    windows = _windows()
    kinds = Counter(line["kind"] for w in windows for line in w["lines"])
    assert sum(kinds.values()) >= 400
    assert kinds["body"] >= 150
    assert {(w["part"], w["rendering"]) for w in windows} == {(p, r) for p in rk.PARTS for r in rk.RENDERINGS}
    for part in rk.PARTS:
        body = sum(1 for w in windows if w["part"] == part for x in w["lines"] if x["kind"] == "body")
        residue = sum(1 for w in windows if w["part"] == part for x in w["lines"] if x["kind"] != "body")
        assert body and residue, part
    assert len({w["page"] for w in windows}) >= 50  # many sites, not one template
    assert len({w["lang"] for w in windows}) >= 5
    # every residue kind is there (translator credits are rare on these pages: a handful)
    assert all(kinds[k] >= 3 for k in rk.KINDS), kinds


def test_window_record_ids_are_unique_and_in_the_documented_form() -> None:
    windows = _windows()
    ids = [r["id"] for r in rk.records(windows)]
    assert len(set(ids)) == len(ids)
    assert all(i.rsplit("-", 2)[1] in rk.RENDERINGS and i.rsplit("-", 1)[1].isdigit() for i in ids)


# ------------------------------------------------------------------------------------------------ the scoring


TINY = [
    {
        "page": "page0001",
        "rendering": "plain",
        "part": "report",
        "lang": "en",
        "lines": [
            {"text": "The council voted on Tuesday.", "kind": "body"},
            {"text": "It passed 7-2...", "kind": "body"},
            {"text": "Read more", "kind": "preview"},
            {"text": "Subscribe to our newsletter", "kind": "cta"},
            {"text": "© 2024 Example News", "kind": "furniture"},
        ],
    },
    {
        "page": "page0002",
        "rendering": "extracted",
        "part": "tune",
        "lang": "de",
        "lines": [
            {"text": "Der Rat tagte am Dienstag.", "kind": "body"},
            {"text": "Read more", "kind": "body"},  # the same text, another kind: counted per line, not per text
            {"text": "Foto: dpa", "kind": "photo_credit"},
        ],
    },
]

# Drops every line "Read more" and every line starting with "©" from each record's text (a stub cleaner).
DROP = f"{PY} -c " + shlex.quote(
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    r = json.loads(line)\n"
    "    keep = [x for x in r['text'].split('\\n') if x != 'Read more' and not x.startswith('©')]\n"
    "    r['text'] = '\\n'.join(keep)\n"
    "    print(json.dumps(r))\n"
)


def _score(cmd: str, windows: list[dict] = TINY) -> dict:
    outputs, problem = rk.run_command(cmd, rk.records(windows))
    assert problem == ""
    return rk.score(windows, outputs)


def _removed(result: dict) -> dict[str, tuple[int, int]]:
    return {k: (c["lines"], c["removed"]) for k, c in result["kinds"].items()}


def test_cat_removes_nothing() -> None:
    result = _score("cat")
    assert _removed(result) == {
        "body": (4, 0),
        "preview": (1, 0),
        "cta": (1, 0),
        "furniture": (1, 0),
        "photo_credit": (1, 0),
    }
    assert result["precision"] is None and result["removed"] == 0 and result["records_missing"] == 0
    assert result["residue"] == {"lines": 4, "removed": 0, "recall": 0.0}
    assert result["rules"] == {}


def test_a_command_that_removes_known_lines_is_counted_per_kind() -> None:
    result = _score(DROP)
    assert _removed(result) == {
        "body": (4, 1),  # page0002's "Read more" is body here
        "preview": (1, 1),
        "cta": (1, 0),
        "furniture": (1, 1),
        "photo_credit": (1, 0),
    }
    assert result["kinds"]["body"]["rate"] == 0.25
    assert result["removed"] == 3
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["residue"] == {"lines": 4, "removed": 2, "recall": 0.5}
    assert result["rules"] == {"(no cut entry)": {"body": 1, "furniture": 1, "preview": 1}}


def test_a_missing_record_counts_all_its_lines_as_removed() -> None:
    result = _score(f"{PY} -c " + shlex.quote("import sys; print(next(iter(sys.stdin)), end='')"))
    assert result["records_missing"] == 1
    assert _removed(result) == {
        "body": (4, 2),
        "preview": (1, 0),
        "cta": (1, 0),
        "furniture": (1, 0),
        "photo_credit": (1, 1),
    }
    assert result["rules"] == {"(record missing)": {"body": 2, "photo_credit": 1}}


def test_normalizing_quotes_or_spaces_is_not_a_cut() -> None:
    windows = [dict(TINY[0], lines=[{"text": 'He said "no".', "kind": "body"}])]
    outputs = {"page0001-plain-0": {"id": "page0001-plain-0", "text": "He  said “no”."}}
    assert rk.score(windows, outputs)["kinds"]["body"]["removed"] == 0


def test_cuts_in_metadata_give_the_per_rule_breakdown() -> None:
    # The stub cuts lines 2 and 3; each entry names the line in the text as it came in.
    stub = f"{PY} -c " + shlex.quote(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    r = json.loads(line)\n"
        "    lines = r['text'].split('\\n')\n"
        "    if len(lines) == 5:\n"
        "        del lines[2]; del lines[2]\n"
        "        r['metadata'] = {'cuts': [{'step': 'credits', 'rule': 'more_link', 'paragraph': 2},\n"
        "                                  {'step': 'residue', 'rule': 'cta', 'paragraph': 3},\n"
        "                                  {'step': 'teasers', 'rule': 'x', 'paragraph': 1, 'dry_run': True}]}\n"
        "    r['text'] = '\\n'.join(lines)\n"
        "    print(json.dumps(r))\n"
    )
    result = _score(stub)
    assert result["rules"] == {"credits:more_link": {"preview": 1}, "residue:cta": {"cta": 1}}
    assert result["precision"] == 1.0


def test_the_script_prints_text_and_json_and_exits_0(tmp_path: Path) -> None:
    fixtures = tmp_path / "tiny.jsonl"
    fixtures.write_text("".join(json.dumps(w) + "\n" for w in TINY), encoding="utf-8")
    base = [sys.executable, str(SCRIPT), "--fixtures", str(fixtures), "--cmd", DROP]
    text = subprocess.run(base, capture_output=True, text=True, cwd=ROOT)
    assert text.returncode == 0, text.stderr
    assert "precision 0.6667 (3 lines removed)" in text.stdout
    out = subprocess.run([*base, "--format", "json", "--part", "report"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["part"] == "report" and data["windows"] == 1
    assert data["kinds"]["preview"] == {"lines": 1, "removed": 1, "rate": 1.0}
    assert data["kinds"]["body"] == {"lines": 2, "removed": 0, "rate": 0.0}
    failing = subprocess.run([*base[:-1], "exit 3"], capture_output=True, text=True, cwd=ROOT)
    assert failing.returncode == 0 and "command exited 3" in failing.stderr
    only_plain = subprocess.run([*base, "--rendering", "plain", "--format", "json"], capture_output=True, text=True)
    assert json.loads(only_plain.stdout)["windows"] == 1


def test_the_fixtures_are_what_the_window_list_says() -> None:
    builder = ROOT / "scripts" / "residue_fixtures.py"
    spec = importlib.util.spec_from_file_location("residue_fixtures", builder)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = module.default_data()
    if not (data / "docs-plain.jsonl.zst").is_file():
        pytest.skip(f"the shared pages are not at {data}")
    assert module.dumps(module.build(DATA / "residue" / "windows.txt", data)) == FIXTURES.read_text(encoding="utf-8")
