"""The runner: steps in order on private copies, errors by policy, rejects with reasons, order kept."""

from __future__ import annotations

import base64
import io
import os

import pytest

from conftest import parse_jsonl, run_shell
from corpus_tools.errors import InputError, RecordError
from corpus_tools.io import Item, RecordWriter, read_items
from corpus_tools.pipeline import OnError, Pipeline, Rejects, run
from corpus_tools.step import Doc, Labels, Step


class Upper(Step):
    name = "upper"
    Options = type(None)

    def label(self, doc: Doc) -> Labels:
        if "boom" in doc.text:
            raise RecordError("boom found")
        return Labels(doc)

    def apply(self, record, labels):
        text_field = labels.doc.text_field
        record[text_field] = record[text_field].upper()
        record.setdefault("metadata", {})["upper"] = True
        return record


def items(*records):
    return [Item("in.jsonl", n, r) for n, r in enumerate(records, 1)]


def test_steps_work_on_copies_and_keep_unknown_keys():
    original = {"id": "a", "text": "x", "metadata": {"other": 1}, "extra": [1]}
    out = Pipeline((Upper(), Upper()), "text").process(original)
    assert out == {"id": "a", "text": "X", "metadata": {"other": 1, "upper": True, "cuts": []}, "extra": [1]}
    assert original == {"id": "a", "text": "x", "metadata": {"other": 1}, "extra": [1]}


def test_run_fail_raises_input_error_with_location():
    buffer = io.BytesIO()
    with pytest.raises(InputError) as exc:
        run(items({"text": "a"}, {"text": "boom"}), Pipeline((Upper(),)), RecordWriter(buffer))
    assert str(exc.value) == "in.jsonl:2: boom found"
    assert parse_jsonl(buffer.getvalue()) == [{"text": "A", "metadata": {"upper": True, "cuts": []}}]


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


def _skip_to_rejects(items_):
    out, rejected = io.BytesIO(), io.BytesIO()
    run(items_, Pipeline((Upper(),)), RecordWriter(out), on_error=OnError.skip, rejects=Rejects(rejected))
    return rejected.getvalue()


def test_rejects_escape_a_file_name_that_is_not_utf8():
    name = os.fsdecode(b"fn/bad\xffname.txt")  # what a directory walk gives for such a name
    record = {"id": os.fsdecode(b"bad\xffname"), "text": "boom", "source": name}
    written = _skip_to_rejects([Item(name, None, error="binary file"), Item(name, None, record)])
    assert written == (
        b'{"source":"fn/bad\\\\xffname.txt","line":null,"reason":"binary file","raw":null}\n'
        b'{"source":"fn/bad\\\\xffname.txt","line":null,"reason":"boom found",'
        b'"record":{"id":"bad\\\\xffname","text":"boom","source":"fn/bad\\\\xffname.txt"}}\n'
    )
    assert os.fsencode(name).decode("utf-8", "backslashreplace") == parse_jsonl(written)[0]["source"]


def test_rejects_keep_the_exact_bytes_of_a_line_that_is_not_utf8(tmp_path):
    lines = [b'{"text": "caf\xe9 \\\\xe9 \xff"}', b'{"text": "ok"}', b"\xfe\xfe not json\r"]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    entries = parse_jsonl(_skip_to_rejects(read_items([str(path)])))
    assert [(e["line"], e["reason"]) for e in entries] == [(1, "invalid UTF-8"), (3, "invalid UTF-8")]
    assert [base64.b64decode(e["raw_base64"]) for e in entries] == [lines[0], lines[2]]
    assert entries[0]["raw"] == '{"text": "caf\ufffd \\\\xe9 \ufffd"}'  # readable, but lossy: hence raw_base64


def test_rejects_of_valid_utf8_lines_have_no_base64(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "caf\xc3\xa9"\n')
    [entry] = parse_jsonl(_skip_to_rejects(read_items([str(path)])))
    assert list(entry) == ["source", "line", "reason", "raw"]  # the text is exact already
    assert entry["raw"].encode() == b'{"text": "caf\xc3\xa9"'


def test_cli_rejects_with_a_file_name_that_is_not_utf8(tmp_path):
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "good.txt").write_text("ok text\n")
    with open(os.path.join(os.fsencode(folder), b"bad\xffname.txt"), "wb") as stream:
        stream.write(b"hello\n")
    result = run_shell("corpus-tools ingest fn --on-error skip --rejects r.jsonl > out.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr.decode("utf-8", "replace")
    [entry] = parse_jsonl((tmp_path / "r.jsonl").read_bytes())
    assert entry["source"] == "fn/bad\\xffname.txt"
    assert entry["record"]["text"] == "hello\n"
    assert [r["id"] for r in parse_jsonl((tmp_path / "out.jsonl").read_bytes())] == ["good"]


class MenuRun(Step):
    """A toy step whose labels read the lines around them: it cuts a 'menu' line only when a menu line stands
    right above it, or it is the first line, so each cut lets the next one in."""

    name = "menurun"
    Options = type(None)
    rounds = 3
    rerun = ("marker",)

    def label(self, doc: Doc) -> Labels:
        lines = doc.lines
        cuts = {i: "menu" for i, line in enumerate(lines) if line == "menu" and (i == 0 or lines[i - 1] == "menu")}
        return Labels(doc, cuts=dict(list(cuts.items())[:1]))  # one at a time: the lines around decide


class Marker(Step):
    """A toy earlier step that cuts a 'by' line once it is the first line (as credits takes a byline once the
    menu above it is gone)."""

    name = "marker"
    Options = type(None)

    def label(self, doc: Doc) -> Labels:
        return Labels(doc, cuts={0: "first"} if doc.lines[0] == "by" else {})


def test_a_step_with_rounds_cuts_what_a_second_run_would_and_reruns_the_steps_it_names():
    text = "menu\nmenu\nmenu\nmenu\nby\nbody"
    once = Pipeline((Marker(), MenuRun())).process({"text": text})
    # three rounds of the menu step, each cutting one line; the marker runs again before rounds 2 and 3
    assert once["text"] == "menu\nby\nbody"
    assert once["metadata"]["cuts"] == [
        {"step": "menurun", "rule": "menu", "paragraph": 0},
        {"step": "menurun", "rule": "menu", "paragraph": 1},
        {"step": "menurun", "rule": "menu", "paragraph": 2},
    ]
    # the last round cut too: the marker reads what it left once more, as a second run would
    last = Pipeline((Marker(), MenuRun())).process({"text": "menu\nmenu\nmenu\nby\nbody"})
    assert last["text"] == "body"
    assert [(c["step"], c["paragraph"]) for c in last["metadata"]["cuts"]] == [
        ("menurun", 0),
        ("menurun", 1),
        ("menurun", 2),
        ("marker", 3),
    ]
    done = Pipeline((Marker(), MenuRun())).process({"text": "menu\nby\nbody"})
    assert done["text"] == "body"  # the menu line goes, then the marker takes 'by', now the first line
    assert [(c["step"], c["paragraph"]) for c in done["metadata"]["cuts"]] == [("menurun", 0), ("marker", 1)]
    # one round only (the default): one cut a run
    MenuRun.rounds = 1
    try:
        assert Pipeline((Marker(), MenuRun())).process({"text": text})["text"] == "menu\nmenu\nmenu\nby\nbody"
    finally:
        MenuRun.rounds = 3
