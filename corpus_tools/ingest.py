"""Raw text documents -> records. Decoding is the only judgement call here, so it is explicit and flagged.

Strategy for bytes that are not UTF-8 (documented in the README):
0. UTF-16 or UTF-32 when the bytes start with its byte order mark (dropped);
1. UTF-8, with a leading BOM dropped;
2. else cp1252, when every byte is defined in it (the usual case for Windows-made news text);
3. else latin-1, which maps every byte and so never fails.
The encoding used is recorded in ``metadata.encoding``; ``metadata.encoding_fallback`` is true when 2 or 3 applied.
A NUL byte marks a binary file: that is unusable input, not text to guess at.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from corpus_tools.errors import RecordError
from corpus_tools.records import Record, make_record

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    fallback: bool


#: Byte order marks of the encodings other than UTF-8 that a text file announces (UTF-32 first: its little-endian
#: mark starts with UTF-16's).
UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_document(data: bytes) -> Decoded:
    """Decode one document's bytes; raise :class:`RecordError` for binary data."""
    for bom, encoding in UNICODE_BOMS:
        if data.startswith(bom):  # UTF-16/32 text is full of NUL bytes: its mark says what it is
            try:
                return Decoded(data[len(bom) :].decode(encoding), encoding[:6], False)
            except UnicodeDecodeError as exc:
                raise RecordError(f"not {encoding[:6].upper()} after its byte order mark ({exc.reason})") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise RecordError(f"binary file (NUL byte at offset {nul})")
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return Decoded(data.decode("utf-8"), "utf-8", False)
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(data.decode("cp1252"), "cp1252", True)
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1"), "latin-1", True)


def document_record(doc_id: str, source: str, data: bytes, text_field: str = "text") -> Record:
    """The record for one raw text document (``id`` = file stem, ``source`` = path as given)."""
    decoded = decode_document(data)
    # Both keys always present, so every ingested record has the same schema.
    metadata = {"encoding": decoded.encoding, "encoding_fallback": decoded.fallback}
    record = make_record(doc_id, decoded.text, source, metadata)
    if text_field != "text":
        record = {text_field if k == "text" else k: v for k, v in record.items()}
    return record
