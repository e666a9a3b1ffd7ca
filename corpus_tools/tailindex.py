"""Paragraph recurrence across a corpus, for the teasers step: 64-bit hashes and counts, no text.

A teaser (the first ~100 words of another article) recurs on many pages; a body paragraph does not. The index
counts, for each *eligible* paragraph, the number of documents it appears in (once per document however often
it repeats there). Eligible paragraphs are:

- every paragraph of ``min_words`` to ``max_words`` words (the teaser candidates), and
- the document's first non-blank paragraph, whatever its length: its count is the document's *baseline*, so a
  document that is itself duplicated in the corpus (the same article under two URLs) does not make its own
  body look like a recurring teaser.

A paragraph is keyed by the first 8 bytes of the BLAKE2b digest of its *words* (NFKC, case-folded, punctuation
and spacing dropped), so curly vs straight quotes or a re-wrapped space do not split a count.

File format (little-endian), version 1::

    offset  size  field
    0       8     magic  b"CTTAILIX"
    8       2     version (1)
    10      2     flags (0, reserved)
    12      4     min_words
    16      4     max_words
    20      8     documents (how many documents were added)
    28      8     n (distinct hashes)
    36      8n    hashes, uint64, sorted ascending, unique
    36+8n   4n    counts, uint32 (saturating), in hash order

12 bytes per distinct eligible paragraph plus a 36-byte header; recurring teasers are stored once for the whole
corpus, so the size grows with the number of distinct lead and teaser-length paragraphs.
"""

from __future__ import annotations

import re
import struct
import sys
import unicodedata
from array import array
from bisect import bisect_left
from hashlib import blake2b

import regex

from corpus_tools.errors import InputError
from corpus_tools.labels import split_paragraphs, words_between

MAGIC = b"CTTAILIX"
VERSION = 1
_HEADER = struct.Struct("<8sHHIIQQ")
_MAX_COUNT = 0xFFFFFFFF
_WORDS = regex.compile(r"[\p{L}\p{N}\p{M}]+")
_BIG_ENDIAN = sys.byteorder == "big"

#: Default eligibility band: wider than the teasers step's default word band (95-110), so the index serves
#: any band inside it.
DEFAULT_MIN_WORDS = 80
DEFAULT_MAX_WORDS = 140
#: Additions held in a dict before they are folded into the sorted arrays.
COMPACT_EVERY = 1 << 18


# Key building without scanning every character with ``_WORDS`` (the regex engine's property lookups were most of
# the cost of indexing), yet with exactly ``_WORDS.findall``'s words: the few distinct non-ASCII characters of a
# text are classified once each by ``_WORDS`` itself (and remembered); those that are not word characters become
# spaces; then in the UTF-8 bytes every ASCII character that is not a letter or digit (the ASCII part of
# ``_WORDS``' class) becomes a space, and the words are what lies between spaces. No whitespace character is a
# letter, number or mark, so splitting never cuts a word.
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_NON_WORD_TO_SPACE = bytes(c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256))
_NON_WORD: dict[str, bool] = {}
_NON_WORD_MAX = 1 << 17  # the memo stays bounded, whatever the input


def _is_non_word(char: str) -> bool:
    value = _NON_WORD.get(char)
    if value is None:
        value = _WORDS.fullmatch(char) is None
        if len(_NON_WORD) < _NON_WORD_MAX:
            _NON_WORD[char] = value
    return value


def _key_bytes(paragraph: str) -> bytes:
    """``paragraph_key(paragraph)`` in UTF-8."""
    text = unicodedata.normalize("NFKC", paragraph).casefold()
    if not text.isascii():
        for char in set(_NON_ASCII.findall(text)):
            if _is_non_word(char):
                text = text.replace(char, " ")
    return b" ".join(text.encode("utf-8").translate(_ASCII_NON_WORD_TO_SPACE).split())


def paragraph_key(paragraph: str) -> str:
    """The normalized form a paragraph is hashed by: its words, NFKC and case-folded, one space apart."""
    # Defined as " ".join(_WORDS.findall(NFKC(paragraph).casefold())); built faster by _key_bytes.
    return _key_bytes(paragraph).decode("utf-8")


def paragraph_hash(paragraph: str) -> int:
    """The 64-bit key of a paragraph (see :func:`paragraph_key`)."""
    digest = blake2b(_key_bytes(paragraph), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class TailIndex:
    """Counts of documents per eligible paragraph, keyed by 64-bit hash.

    Build with :meth:`add_text` (one call per document) and :meth:`merge` (partial indexes from workers); query
    with :meth:`count`; persist with :meth:`save` / :meth:`load`. A loaded index keeps its sorted arrays (12 bytes
    per entry in memory) and only new additions live in a dict.
    """

    def __init__(self, min_words: int = DEFAULT_MIN_WORDS, max_words: int = DEFAULT_MAX_WORDS) -> None:
        if min_words < 1 or max_words < min_words:
            raise ValueError(f"bad eligibility band: {min_words}..{max_words} words")
        self.min_words = min_words
        self.max_words = max_words
        self.documents = 0
        self._hashes: array[int] = array("Q")  # sorted, unique: the loaded / compacted part
        self._counts: array[int] = array("I")
        self._added: dict[int, int] = {}  # additions since the last compaction

    # ------------------------------------------------------------------------------------------------ build

    def eligible(self, paragraphs: list[str]) -> list[str]:
        """The paragraphs of one document this index counts (see the module docstring), first one included."""
        out: list[str] = []
        first = True
        for paragraph in paragraphs:
            if not paragraph or paragraph.isspace():  # == not paragraph.strip(), without the copy
                continue
            if first or self._in_band(paragraph):
                out.append(paragraph)
            first = False
        return out

    def _in_band(self, paragraph: str) -> bool:
        return words_between(paragraph, self.min_words, self.max_words)

    def add_text(self, text: str) -> None:
        """Count one document: each distinct eligible paragraph once."""
        self.documents += 1
        added = self._added
        for key in {paragraph_hash(p) for p in self.eligible(split_paragraphs(text))}:
            added[key] = added.get(key, 0) + 1
        self._maybe_compact()

    def merge(self, other: TailIndex) -> None:
        """Add ``other``'s counts and documents to this index (both must share the eligibility band)."""
        if (other.min_words, other.max_words) != (self.min_words, self.max_words):
            raise ValueError(
                f"cannot merge indexes with different bands: {self.min_words}..{self.max_words} "
                f"and {other.min_words}..{other.max_words} words"
            )
        self.documents += other.documents
        added = self._added
        for key, n in other.items():
            added[key] = added.get(key, 0) + n
        self._maybe_compact()

    # ------------------------------------------------------------------------------------------------ query

    def count(self, paragraph: str) -> int:
        """In how many documents ``paragraph`` appears (0 when it is unknown or not eligible)."""
        return self.count_hash(paragraph_hash(paragraph))

    def count_hash(self, key: int) -> int:
        n = self._added.get(key, 0)
        hashes = self._hashes
        i = bisect_left(hashes, key)
        if i < len(hashes) and hashes[i] == key:
            n += self._counts[i]
        return min(n, _MAX_COUNT)

    def items(self) -> list[tuple[int, int]]:
        """Every (hash, count), sorted by hash."""
        self._compact()
        return list(zip(self._hashes, self._counts, strict=True))

    def __len__(self) -> int:
        self._compact()
        return len(self._hashes)

    def _compact(self) -> None:
        """Fold the additions into the sorted arrays (a linear merge: no second copy of the whole index)."""
        if not self._added:
            return
        old_hashes, old_counts = self._hashes, self._counts
        hashes: array[int] = array("Q")
        counts: array[int] = array("I")
        i, n = 0, len(old_hashes)
        for key in sorted(self._added):
            while i < n and old_hashes[i] < key:
                hashes.append(old_hashes[i])
                counts.append(old_counts[i])
                i += 1
            count = self._added[key]
            if i < n and old_hashes[i] == key:
                count += old_counts[i]
                i += 1
            hashes.append(key)
            counts.append(min(count, _MAX_COUNT))
        hashes.extend(old_hashes[i:])
        counts.extend(old_counts[i:])
        self._hashes, self._counts, self._added = hashes, counts, {}

    def _maybe_compact(self) -> None:
        # A dict entry costs ~100 bytes, an array entry 12: keep the dict part bounded on big corpora.
        if len(self._added) >= COMPACT_EVERY:
            self._compact()

    # -------------------------------------------------------------------------------------------------- file

    def to_bytes(self) -> bytes:
        """The file format described in the module docstring."""
        self._compact()
        hashes, counts = array("Q", self._hashes), array("I", self._counts)
        if _BIG_ENDIAN:  # pragma: no cover - the format is little-endian on every machine
            hashes.byteswap()
            counts.byteswap()
        header = _HEADER.pack(MAGIC, VERSION, 0, self.min_words, self.max_words, self.documents, len(hashes))
        return header + hashes.tobytes() + counts.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> TailIndex:
        """Parse :meth:`to_bytes`' output; raises :class:`InputError` naming ``source`` when it is not one."""
        if len(data) < _HEADER.size or data[:8] != MAGIC:
            raise InputError("not a tail index (bad magic; build one with `corpus-tools index`)", source)
        _, version, _flags, min_words, max_words, documents, n = _HEADER.unpack_from(data)
        if version != VERSION:
            raise InputError(f"tail index version {version} is not supported (expected {VERSION})", source)
        if len(data) != _HEADER.size + 12 * n:
            raise InputError(f"tail index is truncated or padded ({len(data)} bytes for {n} entries)", source)
        if min_words < 1 or max_words < min_words:
            raise InputError(f"tail index has a bad band ({min_words}..{max_words} words)", source)
        index = cls(min_words, max_words)
        index.documents = documents
        start = _HEADER.size
        index._hashes = array("Q", data[start : start + 8 * n])
        index._counts = array("I", data[start + 8 * n :])
        if _BIG_ENDIAN:  # pragma: no cover
            index._hashes.byteswap()
            index._counts.byteswap()
        hashes = index._hashes
        if any(hashes[i] >= hashes[i + 1] for i in range(len(hashes) - 1)):
            raise InputError("tail index hashes are not sorted (corrupt file)", source)
        return index

    def save(self, path: str) -> int:
        """Write the index to ``path`` atomically; returns the number of bytes written."""
        from corpus_tools.io import open_output  # all file I/O lives in io.py

        data = self.to_bytes()
        with open_output(path) as stream:
            stream.write(data)
        return len(data)

    @classmethod
    def load(cls, path: str) -> TailIndex:
        """Read an index written by :meth:`save` (gzip/zstd compressed files are read transparently)."""
        from corpus_tools.io import open_binary

        with open_binary(path) as stream:
            data = stream.read()
        return cls.from_bytes(data, path)
