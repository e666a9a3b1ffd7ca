"""The runner: steps in order on private copies, errors by policy, rejects with reasons, order kept."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from conftest import parse_jsonl
from corpus_tools.errors import InputError, RecordError
from corpus_tools.io import Item, RecordWriter
from corpus_tools.pipeline import OnError, Pipeline, Rejects, run


@dataclass(frozen=True)
class Upper:
    name: str = "upper"

    def process(self, record, text_field):
        if "boom" in record[text_field]:
            raise RecordError("boom found")
        record[text_field] = record[text_field].upper()
        record.setdefault("metadata", {})["upper"] = True
        return record


def items(*records):
    return [Item("in.jsonl", n, r) for n, r in enumerate(records, 1)]


def test_steps_work_on_copies_and_keep_unknown_keys():
    original = {"id": "a", "text": "x", "metadata": {"other": 1}, "extra": [1]}
    out = Pipeline((Upper(), Upper()), "text").process(original)
    assert out == {"id": "a", "text": "X", "metadata": {"other": 1, "upper": True}, "extra": [1]}
    assert original == {"id": "a", "text": "x", "metadata": {"other": 1}, "extra": [1]}


def test_run_fail_raises_input_error_with_location():
    buffer = io.BytesIO()
    with pytest.raises(InputError) as exc:
        run(items({"text": "a"}, {"text": "boom"}), Pipeline((Upper(),)), RecordWriter(buffer))
    assert str(exc.value) == "in.jsonl:2: boom found"
    assert parse_jsonl(buffer.getvalue()) == [{"text": "A", "metadata": {"upper": True}}]


def test_run_skip_keeps_order_and_sends_rejects_with_original_record():
    out, rejected = io.BytesIO(), io.BytesIO()
    stats = run(
        [*items({"text": "a"}, {"text": "boom"}, {"text": "c"}), Item("in.jsonl", 4, error="invalid JSON", raw="{")],
        Pipeline((Upper(),)),
        RecordWriter(out),
        on_error=OnError.skip,
        rejects=Rejects(rejected),
    )
    assert [r["text"] for r in parse_jsonl(out.getvalue())] == ["A", "C"]
    assert parse_jsonl(rejected.getvalue()) == [
        {"source": "in.jsonl", "line": 2, "reason": "boom found", "record": {"text": "boom"}},
        {"source": "in.jsonl", "line": 4, "reason": "invalid JSON", "raw": "{"},
    ]
    assert (stats.read, stats.written, stats.rejected) == (4, 2, 2)
    assert stats.summary_of_rejects() == "skipped 2 of 4 records: 1 boom found, 1 invalid JSON"
