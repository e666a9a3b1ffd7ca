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
from itertools import repeat
from operator import itemgetter

import regex

from corpus_tools.errors import InputError
from corpus_tools.labels import words_between

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


def covering_band(min_words: int, max_words: int) -> tuple[int, int]:
    """The eligibility band of an index built for teasers of ``min_words``..``max_words`` words: the default band,
    widened as far as needed to count every one of them (so the default teasers band gets the default index)."""
    return min(DEFAULT_MIN_WORDS, min_words), max(DEFAULT_MAX_WORDS, max_words)


def band_warning(index: TailIndex, min_words: int, max_words: int, source: str) -> str | None:
    """The warning line for an index (read from ``source``) that does not count every paragraph of a teasers band
    of ``min_words``..``max_words`` words, or ``None`` when it does: recurrence is silent for the paragraphs it never
    counted. ``teasers --index`` and ``clean --index`` both print it on stderr."""
    if index.min_words <= min_words <= max_words <= index.max_words:
        return None
    return (
        f"warning: {source} counts paragraphs of {index.min_words}..{index.max_words} words; "
        f"teasers of {min_words}..{max_words} words outside that band get no recurrence signal"
    )


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


# ----------------------------------------------------------------------------------- a whole document at once
#
# ``add_text`` is the corpus-aware first pass of ``clean``, so it must run at I/O-like speed. It works on the
# document's UTF-8 bytes with a handful of C-level passes instead of per-word Python objects, and every shortcut
# gives exactly the plain definitions' answer (``len(p.split())`` for the band, ``_WORDS.findall`` for the key):
#
# - the band: whitespace separates words, so a line has at most (whitespace characters + 1) words. In a document
#   whose only whitespace is " " and "\n" (found with one translate that keeps non-ASCII bytes and the other ASCII
#   whitespace), a line with fewer than ``min_words - 1`` spaces is out of the band, and one without a double,
#   leading or trailing space has exactly (spaces + 1) words; any other line, or any line of a document with other
#   whitespace, is counted by ``words_between`` itself.
# - the keys of a document's eligible lines are built together, joined by "\n" (never part of a word, never
#   produced by NFKC or casefold, and a starter that composes with nothing, so each line's key is its own):
#   NFKC only when a character that NFKC could change or combine is present; the ASCII part case-folded and
#   non-word characters made spaces by one translate; each distinct non-ASCII character that case folding changes
#   or that is not a word character is mapped once per process (a bounded memo keyed by character, not by text);
#   U+2000..U+203F (general punctuation: quotes, dashes, spaces; none a word character) become spaces in one split;
#   then runs of spaces are squeezed and each line stripped.

#: Every character ``str.split()`` splits on (``str.isspace``); a test checks the list against all code points.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_OTHER_SPACE = frozenset(WHITESPACE) - {" ", "\n"}
_other_space = re.compile("[" + "".join(map(re.escape, sorted(_OTHER_SPACE))) + "]").search
_ASCII = bytes(range(0x80))
# Deleting these leaves a document's non-ASCII bytes and its ASCII whitespace other than " " and "\n".
_PLAIN_ASCII = bytes(c for c in range(0x80) if chr(c) not in _OTHER_SPACE)
# ASCII letters and digits lower-cased, every other ASCII byte but "\n" a space, non-ASCII bytes untouched.
_KEY_TABLE = bytes(
    c if c >= 0x80 or c == 0x0A else ord(chr(c).lower()) if chr(c).isalnum() else 0x20 for c in range(256)
)
#: U+2000..U+203F (UTF-8 E2 80 xx) hold no word character (a test checks it), so each is a separator in a key.
_PUNCTUATION_LEAD = b"\xe2\x80"
# character -> (NFKC leaves it alone in any context, bytes it becomes in a key or None when it stays itself)
_CHARS: dict[str, tuple[bool, bytes | None]] = {}
_CHARS_MAX = 1 << 17


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _unicode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _char(char: str) -> tuple[bool, bytes | None]:
    """What a non-ASCII character does in a key, worked out once per process."""
    info = _CHARS.get(char)
    if info is None:
        # NFKC cannot touch a text whose characters all have NFKC_Quick_Check=Yes and canonical class 0. Python
        # does not expose the property; this is a sufficient condition: the character is its own NFKC, is not a
        # combining mark (so it neither reorders nor composes onto a previous character; the only starters that
        # compose onto one are Hangul jamo, excluded, and vowel signs, which are marks). A test checks it against
        # every canonical composition pair in the Unicode database.
        stable = (
            unicodedata.normalize("NFKC", char) == char
            and unicodedata.combining(char) == 0
            and not unicodedata.category(char).startswith("M")
            and not ("\u1100" <= char <= "\u11ff" or "\ua960" <= char <= "\ua97f" or "\ud7b0" <= char <= "\ud7ff")
        )
        # A key is _WORDS.findall(casefold(text)): case folding works character by character, and each character
        # of the result stays (a word character) or becomes a space.
        mapped = "".join(c if _WORDS.fullmatch(c) else " " for c in char.casefold())
        info = (stable, None if mapped == char else _utf8(mapped))
        if len(_CHARS) < _CHARS_MAX:
            _CHARS[char] = info
    return info


#: The last UTF-8 byte of each U+2000..U+203F that is its own NFKC and a separator in a key.
_PUNCTUATION_TAILS = bytes(0x80 + c - 0x2000 for c in range(0x2000, 0x2040) if _char(chr(c)) == (True, b" "))
_CONTINUATION = bytes(range(0x80, 0xC0))
_AFTER_FIRST = itemgetter(slice(1, None))
_SPACE = repeat(b" ")
_KEY_TABLE_PUNCTUATION = _KEY_TABLE[:0xE2] + b" " + _KEY_TABLE[0xE3:]


def _line_keys(lines: list[bytes]) -> list[bytes]:
    """``paragraph_key`` (UTF-8) of each line, for lines (UTF-8, surrogates passed) holding no "\n"."""
    joined = b"\n".join(lines)
    rare = joined.translate(None, _ASCII)
    if not rare:
        key = joined.translate(_KEY_TABLE)
    elif not rare.replace(_PUNCTUATION_LEAD, b"").translate(None, _PUNCTUATION_TAILS):
        # Every non-ASCII character is general punctuation NFKC leaves alone (curly quotes, dashes: the usual
        # case): each is a separator, and becomes one space (E2 a space, the two bytes after it deleted).
        key = joined.translate(_KEY_TABLE_PUNCTUATION, _CONTINUATION)
    else:
        chars = set(_unicode(rare))
        if not all(_char(c)[0] for c in chars):
            joined = _utf8(unicodedata.normalize("NFKC", _unicode(joined)))
            rare = joined.translate(None, _ASCII)
            chars = set(_unicode(rare)) if rare else set()
        key = joined.translate(_KEY_TABLE)
        punctuation = [char for char in chars if "\u2000" <= char <= "\u203f"]
        if punctuation and all(_char(char)[1] == b" " for char in punctuation):
            chars.difference_update(punctuation)
        else:
            punctuation = []
        for char in chars:
            replacement = _char(char)[1]
            if replacement is not None:
                key = key.replace(_utf8(char), replacement)
        if punctuation:
            # E2 80 starts only these characters (a replacement above is word characters and spaces, none of
            # them): drop it and the byte after it, and put a space there.
            parts = key.split(_PUNCTUATION_LEAD)
            parts[1:] = map(_AFTER_FIRST, parts[1:])
            # The spaces next to them belong to the same run of separators: strip them here, keep one space.
            key = b" ".join(filter(None, map(bytes.strip, parts, _SPACE)))
    if b"  " in key:
        # Cut at every double space: a piece holds no double space, and what is left of a run of spaces is at
        # most one space at the start of the next piece; pieces of nothing but spaces come from longer runs.
        key = b" ".join(filter(None, map(bytes.strip, key.split(b"  "), _SPACE)))
    return list(map(bytes.strip, key.split(b"\n"), _SPACE))


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
        lines = self._eligible_lines(text)
        if lines:
            added = self._added
            for key in {blake2b(key, digest_size=8).digest() for key in _line_keys(lines)}:
                number = int.from_bytes(key, "little")
                added[number] = added.get(number, 0) + 1
        self._maybe_compact()

    def _eligible_lines(self, text: str) -> list[bytes]:
        """:meth:`eligible` of ``split_paragraphs(text)``, in UTF-8, without splitting most lines into words."""
        data = _utf8(text)
        lines = data.split(b"\n")
        out: list[bytes] = []
        rest = iter(lines)
        for line in rest:  # the first non-blank line
            if line and not _unicode(line).isspace():
                out.append(line)
                break
        low, high = self.min_words, self.max_words
        rare = data.translate(None, _PLAIN_ASCII)
        if rare and _other_space(_unicode(rare)):
            out.extend(line for line in rest if words_between(_unicode(line), low, high))
            return out
        # Only " " separates words here: a line has at most (spaces + 1) words, exactly that many when no space
        # starts or ends it or follows another.
        # A line of fewer than 2 * low - 1 bytes holds fewer than low words (a word is at least one byte, and a space
        # separates two): only the longer ones have their spaces counted.
        shortest = 2 * low - 1
        rest = [line for line in rest if len(line) >= shortest]
        spaces = list(map(bytes.count, rest, repeat(b" ")))
        least = low - 1
        for i in [i for i, n in enumerate(spaces) if n >= least]:
            line = rest[i]
            exact = spaces[i] < high and b"  " not in line and line[0] != 0x20 and line[-1] != 0x20
            if exact or words_between(_unicode(line), low, high):
                out.append(line)
        return out

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
        """Read an index written by :meth:`save` (gzip/zstd compressed files are read transparently).

        A compressed file that is cut short or fails its checksum is an :class:`InputError` naming ``path`` (the
        reader the raw documents go through), not a shorter index.
        """
        from corpus_tools.io import read_document_bytes

        return cls.from_bytes(read_document_bytes(path), path)
