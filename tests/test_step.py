"""The step interface and the registry: options declared once, the runner's cut audit, drops, corpus passes."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus_tools.config import options_from
from corpus_tools.errors import ConfigError
from corpus_tools.pipeline import Dropped, Pipeline
from corpus_tools.registry import BUILTIN, step_named, step_names, steps
from corpus_tools.step import (
    CorpusPass,
    Doc,
    Labels,
    OrderedPass,
    Step,
    entry_lines,
    option,
    option_specs,
    orphaned_blank_lines,
)


@dataclasses.dataclass(frozen=True)
class CutOptions:
    word: str = option("cut", "Lines holding this word are cut.")
    at_most: int = option(3, "Cut at most this many lines.", low=1, high=9)


class CutWord(Step):
    name = "cutword"
    Options = CutOptions
    reasons = {"has_word": "the line holds the word"}

    def label(self, doc: Doc) -> Labels:
        hits = [i for i, line in enumerate(doc.lines) if self.options.word in line][: self.options.at_most]
        return Labels(doc, cuts=dict.fromkeys(hits, "has_word"))


def test_options_are_declared_once_with_flag_help_and_range():
    [word, at_most] = option_specs(CutOptions)
    assert (word.flag, word.help, word.default) == ("--word", "Lines holding this word are cut.", "cut")
    assert (at_most.low, at_most.high, at_most.cli_flag) == (1, 9, "--at-most")
    with pytest.raises(ConfigError, match="at_most must be at most 9, got 10"):
        options_from(CutOptions, {"at_most": 10}, where="c.toml [cutword]")
    with pytest.raises(TypeError):
        option([], "a list default would be shared")


def test_every_builtin_step_declares_what_the_registry_builds_from():
    assert step_names()[: len(BUILTIN)] == ("normalize", "credits", "residue", "teasers", "dedup")
    for step in steps():
        assert step.summary and step.reasons and option_specs(step.Options), step.name
        assert all(spec.help for spec in option_specs(step.Options)), step.name
        assert set(step.kinds) <= set(step.reasons), step.name
    with pytest.raises(ConfigError, match="no step named 'nope'"):
        step_named("nope")


def test_the_runner_records_cuts_at_the_lines_the_text_came_in_with():
    text = "keep\ncut one\nkeep\ncut two\nkeep"
    once = Pipeline((CutWord(CutOptions(at_most=1)),)).process({"text": text})
    assert once["metadata"]["cuts"] == [{"step": "cutword", "rule": "has_word", "paragraph": 1}]
    twice = Pipeline((CutWord(),)).process(once)  # the second cut was line 2 of its text, line 3 at first
    assert twice["text"] == "keep\nkeep\nkeep"
    assert [c["paragraph"] for c in twice["metadata"]["cuts"]] == [1, 3]
    counts: Counter[str] = Counter()
    Pipeline((CutWord(),)).process({"text": text}, counts)
    assert counts == {"cutword.has_word": 2}


def test_a_record_left_empty_is_dropped_with_the_step_that_emptied_it():
    dropped = Pipeline((CutWord(),)).process({"id": "a", "text": "cut\ncut"})
    assert isinstance(dropped, Dropped)
    assert (dropped.step, dropped.drop.reason, dropped.record["text"]) == (
        "cutword",
        "empty_after_cleaning",
        "cut\ncut",
    )


@given(st.lists(st.booleans(), max_size=30), st.lists(st.booleans(), max_size=30))
def test_entry_lines_undo_any_sequence_of_cuts(first, second):
    lines = [f"l{i}" for i in range(len(first))]
    kept = [i for i, cut in enumerate(first) if not cut]
    cuts = [{"step": "a", "rule": "r", "paragraph": i} for i, cut in enumerate(first) if cut]
    assert entry_lines(len(kept), cuts) == kept
    later = [i for k, i in enumerate(kept) if not (k < len(second) and second[k])]
    cuts += [{"step": "b", "rule": "r", "paragraph": i} for i in kept if i not in later]
    assert entry_lines(len(later), cuts) == later
    assert [lines[i] for i in later] == [lines[i] for i in entry_lines(len(later), cuts)]


def test_the_interfaces_are_the_two_shapes_of_a_corpus_pass():
    assert isinstance(step_named("teasers").corpus_pass, CorpusPass)
    assert isinstance(step_named("dedup").corpus_pass, OrderedPass)


def test_the_steps_do_not_import_each_other_in_a_cycle():
    # teasers asks credit_shapes whether a line is an end credit; credits asks teasers where the tail starts
    code = (
        "import sys, corpus_tools.teasers\n"
        "assert 'corpus_tools.credits' not in sys.modules, 'teasers imports the credits step'\n"
        "import corpus_tools.credit_shapes\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_passes_that_read_after_the_same_steps_share_one_read(monkeypatch, tmp_path):
    from corpus_tools import engine as engines
    from corpus_tools.registry import steps as registered

    stages = []
    real = engines.run_corpus_passes

    def recording(paths, prefix, stage, **kwargs):
        stages.append(([s.name for s in prefix.steps], [s.name for s in stage]))
        return real(paths, prefix, stage, **kwargs)

    monkeypatch.setattr(engines, "run_corpus_passes", recording)
    (tmp_path / "a.jsonl").write_text('{"id": "a", "text": "One line.", "source": "https://x.org/a"}\\n')
    plan = engines.CleanPlan(tuple((s.name, s.Options()) for s in registered()))  # every step on, residue too
    states = engines.corpus_states(plan, [str(tmp_path / "a.jsonl")], engines.LocalEngine(1))
    assert stages == [(["normalize"], ["credits", "teasers"]), (["normalize", "credits"], ["residue"])]
    assert set(states) == {"credits", "teasers", "residue"}


# ------------------------------------------------------------------------------ blank lines a cut leaves behind

# (lines, cut lines, the blank lines that go with them); "" is a blank line, "x" a line of text
ORPHANED_BLANK_LINES = [
    (["T", "", "by", "", "Body"], {2}, [3]),  # the two runs around the cut would join: one stays
    (["by", "", "Body"], {0}, [1]),  # the text would start with it
    (["Body", "", "credit"], {2}, [1]),  # the text would end with it
    (["Body", "", "bio", "", "credit", "", "tail"], {2, 4}, [3, 5]),
    (["Body", "", "bio", "", "credit", ""], {2, 4}, [1, 3]),  # the last blank line was there before the cut
    (["Body", "cut", "Body"], {1}, []),
    (["Body", "", "", "cut", "Body"], {3}, []),  # a run the text had stays as it was
    (["", "cut", "Body"], {1}, []),  # so does a blank line the text started with
    (["cut", "", "cut"], {0, 2}, [1]),  # nothing left but blank lines
]


@pytest.mark.parametrize(("lines", "cuts", "expected"), ORPHANED_BLANK_LINES)
def test_orphaned_blank_lines(lines, cuts, expected):
    assert orphaned_blank_lines(lines, dict.fromkeys(cuts, "rule")) == expected


@given(st.lists(st.sampled_from(["", "x", "y"]), max_size=12), st.data())
def test_cutting_the_orphaned_blank_lines_adds_no_blank_run_or_end(lines, data):
    cuts = data.draw(st.sets(st.integers(0, len(lines) - 1))) if lines else set()
    found = orphaned_blank_lines(lines, dict.fromkeys(cuts, "rule"))
    assert all(not lines[i] and i not in cuts for i in found)  # only kept blank lines
    kept = [line for i, line in enumerate(lines) if i not in cuts and i not in found]

    def flaws(seq: list[str]) -> bool:
        text = [i for i, line in enumerate(seq) if line]
        if not text:
            return False
        inner = seq[text[0] : text[-1] + 1]
        return text[0] > 0 or text[-1] < len(seq) - 1 or any(a == b == "" for a, b in itertools.pairwise(inner))

    if not flaws(lines):  # a text without blank runs or blank ends keeps none after any cut
        assert not flaws(kept)
