"""Reading and writing: inputs of every kind, compression, atomic output, bad input with file and line."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, SEEDS, parse_jsonl
from corpus_tools.errors import InputError, OutputError, RecordError
from corpus_tools.io import (
    RecordWriter,
    document_id,
    expand_inputs,
    is_json_lines,
    open_output,
    read_items,
    read_records,
    write_records,
)

SEED_IDS = [
    "000_d71da426b8456c2b",
    "001_f74657ecf586bcea",
    "002_38a8e521ae68cf37",
    "003_275b2542cd664c9b",
    "004_94e41eeb8c470aa6",
]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_seed_directory_reads_five_documents_in_order_with_exact_text():
    records = list(read_records([str(SEEDS)]))
    assert [r["id"] for r in records] == SEED_IDS
    for record in records:
        assert list(record) == ["id", "text", "source", "metadata"]
        assert record["source"] == str(SEEDS / f"{record['id']}.txt")
        assert record["text"] == (SEEDS / f"{record['id']}.txt").read_bytes().decode("utf-8")
        assert record["metadata"] == {"encoding": "utf-8", "encoding_fallback": False}


def test_directory_walk_is_recursive_sorted_and_skips_hidden(tmp_path):
    for name in ["b/2.txt", "b/1.txt", "a.txt", ".hidden.txt", ".git/x.txt", "c/.d/y.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / n) for n in ["a.txt", "b/1.txt", "b/2.txt"]]


def test_directory_walk_skips_clean_manifests_but_not_named_ones(tmp_path):
    for name in ["manifest.json", "part-00000.jsonl.zst", "corpus.jsonl", "corpus.jsonl.manifest.json"]:
        (tmp_path / name).write_text("{}")
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "corpus.jsonl"), str(tmp_path / "part-00000.jsonl.zst")]
    assert expand_inputs([str(tmp_path / "manifest.json")]) == [str(tmp_path / "manifest.json")]


def test_glob_expands_sorted(tmp_path):
    for name in ["x2.txt", "x1.txt", "y.txt"]:
        (tmp_path / name).write_text(name)
    assert expand_inputs([str(tmp_path / "x*.txt")]) == [str(tmp_path / "x1.txt"), str(tmp_path / "x2.txt")]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: str(p / "missing.txt"), "no such file or directory"),
        (lambda p: str(p / "nothing-*.jsonl"), "no files match this pattern"),
        (lambda p: (p / "empty").mkdir() or str(p / "empty"), "directory holds no input files"),
    ],
)
def test_unusable_paths_raise_input_error_naming_the_path(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(InputError) as exc:
        expand_inputs([path])
    assert str(exc.value) == f"{path}: {reason}"


def test_no_inputs_means_stdin():
    assert expand_inputs([]) == ["-"]


@pytest.mark.parametrize(
    ("path", "json_lines", "doc_id"),
    [
        ("a/b.jsonl", True, "b"),
        ("b.json.gz", True, "b"),
        ("b.ndjson.zst", True, "b"),
        ("000_x.txt", False, "000_x"),
        ("notes", False, "notes"),
        ("v1.2.txt.gz", False, "v1.2"),
        ("page.html", False, "page"),
    ],
)
def test_format_and_id_from_file_name(path, json_lines, doc_id):
    assert is_json_lines(path) is json_lines
    assert document_id(path) == doc_id


def test_json_lines_keep_unknown_keys_and_line_numbers(tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl",
        ['{"id": "a", "text": "one", "x": {"nested": [1, 2.5, null, true]}}', "", '{"text": "two"}'],
    )
    items = list(read_items([str(path)]))
    assert [(i.line, i.record) for i in items] == [
        (1, {"id": "a", "text": "one", "x": {"nested": [1, 2.5, None, True]}}),
        (3, {"text": "two"}),
    ]


def test_invalid_json_is_an_item_with_its_line_and_raw_text(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"text": "ok"}', "{not json", '{"text": "after"}'])
    items = list(read_items([str(path)]))
    assert items[1].line == 2
    assert items[1].record is None
    assert items[1].raw == "{not json"
    assert items[1].error.startswith("invalid JSON (")
    assert items[2].record == {"text": "after"}


def test_invalid_utf8_line_is_reported_not_raised(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "\xff"}\n')
    items = list(read_items([str(path)]))
    assert (items[1].line, items[1].error) == (2, "invalid UTF-8")


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst", ".jsonl"])
def test_round_trip_through_compressed_output(tmp_path, suffix):
    records = list(read_records([str(SEEDS)]))
    out = tmp_path / f"x{suffix}"
    assert write_records(records, str(out)) == 5
    assert list(read_records([str(out)])) == records
    raw = out.read_bytes()
    if suffix.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif suffix.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
    assert parse_jsonl(raw) == records


def test_gzip_output_is_byte_reproducible(tmp_path):
    records = list(read_records([str(SEEDS)]))
    write_records(records, str(tmp_path / "a.jsonl.gz"))
    write_records(records, str(tmp_path / "b.jsonl.gz"))
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_compression_is_detected_from_content_not_name(tmp_path):
    misnamed = tmp_path / "really-gzip.jsonl"
    misnamed.write_bytes(gzip.compress(b'{"text": "hi"}\n'))
    assert list(read_records([str(misnamed)])) == [{"text": "hi"}]
    text_gz = tmp_path / "doc.txt.gz"
    text_gz.write_bytes(gzip.compress("Grüße\n".encode()))
    [record] = read_records([str(text_gz)])
    assert (record["id"], record["text"]) == ("doc", "Grüße\n")


def test_interrupted_output_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), open_output(str(target)) as stream:
        stream.write(b'{"partial": true}\n')
        raise RuntimeError("killed")
    assert target.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_output_into_missing_folder_is_output_error(tmp_path):
    path = str(tmp_path / "no/x.jsonl")
    with pytest.raises(OutputError) as exc, open_output(path):
        pass
    assert (str(exc.value), exc.value.exit_code) == (f"{path}: folder does not exist", 2)


def test_writer_rejects_unencodable_text_as_record_error(tmp_path):
    with open_output(str(tmp_path / "x.jsonl")) as stream:
        writer = RecordWriter(stream)
        with pytest.raises(RecordError, match="cannot encode as JSON"):
            writer.write({"text": "lone \ud800 surrogate"})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    # orjson refuses lone surrogates on both sides, so generated text is valid Unicode
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(extra=st.dictionaries(st.text(max_size=8).filter(lambda k: k != "text"), json_values, max_size=4))
def test_any_extra_keys_round_trip_untouched(tmp_path_factory, extra):
    record = {"text": "body", **extra}
    path = tmp_path_factory.mktemp("rt") / "x.jsonl"
    write_records([record], str(path))
    [back] = read_records([str(path)])
    assert back == record
    assert list(back) == list(record)
    assert orjson.dumps(back) == orjson.dumps(record)


def test_ingest_fixture_files_exist():
    # guards the encoding fixtures below against an accidental clean-up
    assert sorted(p.name for p in (DATA / "ingest").iterdir()) == ["binary.bin", "bom.txt", "cp1252.txt", "latin1.txt"]
