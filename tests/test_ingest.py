"""Decoding raw documents: UTF-8 first, then a flagged, documented fallback; binary is unusable input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA
from corpus_tools.errors import RecordError
from corpus_tools.ingest import decode_document, document_record


def test_utf8_with_bom_drops_the_bom():
    decoded = decode_document((DATA / "ingest" / "bom.txt").read_bytes())
    assert (decoded.text, decoded.encoding, decoded.fallback) == ("With a BOM\n", "utf-8", False)


def test_cp1252_fallback_decodes_smart_quotes_and_euro():
    decoded = decode_document((DATA / "ingest" / "cp1252.txt").read_bytes())
    assert (decoded.text, decoded.encoding, decoded.fallback) == ("Café “quoted” € price\n", "cp1252", True)


def test_latin1_fallback_when_cp1252_has_no_such_byte():
    decoded = decode_document((DATA / "ingest" / "latin1.txt").read_bytes())
    assert (decoded.text, decoded.encoding, decoded.fallback) == ("Only latin-1: \x81\x8d byte\n", "latin-1", True)


def test_binary_is_a_record_error_with_the_offset():
    with pytest.raises(RecordError, match=r"^binary file \(NUL byte at offset 3\)$"):
        decode_document((DATA / "ingest" / "binary.bin").read_bytes())


def test_record_shape_and_flag_always_present():
    assert document_record("a", "dir/a.txt", b"x\n") == {
        "id": "a",
        "text": "x\n",
        "source": "dir/a.txt",
        "metadata": {"encoding": "utf-8", "encoding_fallback": False},
    }


def test_custom_text_field_keeps_key_order():
    record = document_record("a", "a.txt", b"x", text_field="content")
    assert list(record) == ["id", "content", "source", "metadata"]


# Bytes that start with a UTF-16 byte order mark are UTF-16, or refused as broken UTF-16 (test_hardening.py).
@given(st.binary(max_size=200).filter(lambda b: b"\x00" not in b and not b.startswith((b"\xff\xfe", b"\xfe\xff"))))
def test_any_bytes_without_nul_decode_and_utf8_round_trips(data):
    decoded = decode_document(data)
    if not decoded.fallback:
        assert decoded.text.encode("utf-8") == data.removeprefix(b"\xef\xbb\xbf")
    else:
        assert decoded.text.encode(decoded.encoding) == data
