"""Exact and near-duplicate documents: the first in input order is kept, every other one names the id it duplicates.

The library core of ``dedup`` (issue 15): pure functions and classes over texts, ids and input ordinals; the only
file access is :func:`save_index` / :func:`load_index`. A step wraps it with a corpus pass and the dropped-records
stream (reasons :data:`REASON_EXACT` and :data:`REASON_NEAR`).

Exact
    A document's key is :func:`exact_key`: the 16-byte XXH3-128 digest (``DIGEST_BYTES``) of its text folded as
    ``DedupOptions.fold`` says (:data:`FOLDS`). Records with the same key are one document; the first in input order
    is kept. :class:`ExactIndex` holds 16 bytes of digest per kept document plus its id.

Near
    MinHash over word shingles with LSH banding. The MinHash library is rensa (``RMinHash``, Rust; ``near`` extra),
    chosen over datasketch by ``scripts/bench_dedup.py`` on 100,000 documents (734 MB): signatures from the same
    shingles at 72 MB/s per core against datasketch's 6.5 (its per-token hashing is Python), so the whole near pass
    runs at 16 MB/s per core with rensa and could not reach 10 with datasketch (3.8); the two agree on 97% of the
    dropped documents (the rest sit at the threshold, where estimates of different hash families differ). rensa is
    imported only by the near path; an index file records its algorithm version. The bands and rows are chosen as
    datasketch's ``MinHashLSH`` chooses them (:func:`lsh_parameters`: 9 x 13 for 0.8 and 128 permutations).
    The pass is written as phases that can run apart:

    1. map: :func:`signature` (or :func:`signatures` for a batch) per document, then :func:`band_keys` of it;
    2. shuffle: group ``(ordinal, signature)`` by band key (only groups of two or more matter);
    3. :func:`decide` over the groups: candidate pairs verified by estimated Jaccard >= threshold
       (:func:`candidate_pairs`), union-find over them (:func:`clusters`), the kept record of a cluster is its
       smallest input ordinal; each other member is dropped, naming the kept one and its estimated Jaccard with it.

    Every phase depends only on the documents, never on how they were partitioned or in which order groups and pairs
    arrive, so the verdicts are the same for any ``--jobs`` or engine. Union-find is transitive: a chain A~B~C
    drops B and C as duplicates of A even when C alone is below the threshold against A (the recorded similarity is
    C's with A, so such a drop shows a value below the threshold).

    Words are :func:`corpus_tools.tailindex.paragraph_key`'s (NFKC, case-folded, punctuation dropped). A document
    with fewer words than the shingle size has one shingle (all its words); a document without words has the empty
    signature (no band keys): it is never a near duplicate (the exact mode folds empty documents together).

Across runs
    :class:`DedupIndex` keeps the ids, digests and (near mode) signatures of what a run kept; :func:`save_index`
    writes it (format below), :func:`load_index` reads it, and ``dedup_records(..., against=index)`` drops the
    records that duplicate one of its documents (``duplicate_of`` is the earlier run's id).

Index file, version 1 (little-endian)::

    offset  size  field
    0       8     magic b"CTDEDUPX"
    8       2     version (1)
    10      2     flags: bit 0 digests present, bit 1 signatures present
    12      4     L, the length of the parameters
    16      L     parameters, a JSON object: mode, fold, digest; near mode also shingle, permutations, seed,
                  shingles (SHINGLES_VERSION), minhash
    16+L    ...   one zstd frame holding: n (uint64), J (uint64), the ids as a JSON array (J bytes),
                  then n * 16 bytes of digests (when flagged), then n * permutations * 4 bytes of signatures
                  (uint32, when flagged), all in the order the documents were kept.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from hashlib import blake2b
from operator import add, eq
from typing import Any, Literal

import orjson
import regex
from xxhash import xxh3_128_digest

from corpus_tools.errors import ConfigError, InputError, below_bounds
from corpus_tools.records import Record, metadata_of
from corpus_tools.step import EARLIER_RUN, Doc, Drop, Labels, Link, Member, OrderedPass, Ordinal, Step
from corpus_tools.tailindex import paragraph_key

EXACT = "exact"
NEAR = "near"
MODES = (EXACT, NEAR)

#: How the exact mode folds a text before hashing it:
#: ``none`` the text as it is; ``whitespace`` runs of whitespace become one space, the ends stripped;
#: ``case+whitespace`` (the default) the same after case folding (``str.casefold``); ``alnum`` only the words
#: (letters, digits, marks), NFKC and case-folded, one space apart: punctuation and quote styles do not count.
FOLD_NONE = "none"
FOLD_WHITESPACE = "whitespace"
FOLD_CASE_WHITESPACE = "case+whitespace"
FOLD_ALNUM = "alnum"
FOLDS = (FOLD_NONE, FOLD_WHITESPACE, FOLD_CASE_WHITESPACE, FOLD_ALNUM)

#: Bytes of an exact key, and its algorithm: XXH3-128 (not cryptographic, which a digest of public text need not
#: be; ~40x faster than BLAKE2b here, and a collision in 128 bits is as unlikely). An index file records it.
DIGEST_BYTES = 16
DIGEST = "xxh3-128"

#: The dropped-records stream's reasons.
REASON_EXACT = "duplicate_exact"
REASON_NEAR = "duplicate_near"

#: Version of the words and shingle hashes near signatures are computed over (stored in an index file).
SHINGLES_VERSION = 1
MAX_PERMUTATIONS = 1024
MAX_SHINGLE = 64

MAGIC = b"CTDEDUPX"
VERSION = 1
_HEADER = struct.Struct("<8sHHI")
_COUNTS = struct.Struct("<QQ")
_FLAG_DIGESTS = 1
_FLAG_SIGNATURES = 2
_BIG_ENDIAN = sys.byteorder == "big"
_EMPTY = b""
_MISSING = object()


@dataclass(frozen=True)
class DedupOptions:
    """What counts as a duplicate. A value out of range is a :class:`ConfigError` naming the option and its range.

    ``mode``: ``exact`` (same text after ``fold``) or ``near`` (estimated word-shingle Jaccard >= ``threshold``).
    ``fold``: exact mode's normalization, one of :data:`FOLDS`.
    ``threshold``: near mode's Jaccard threshold, in (0, 1].
    ``shingle``: words per shingle, 1..64.
    ``permutations``: MinHash permutations (signature length), 2..1024; each costs 4 bytes per document.
    ``seed``: MinHash seed, 0..2**63-1. Signatures (and index files) of different seeds do not compare.
    """

    mode: Literal["exact", "near"] = field(
        default=EXACT,
        metadata={
            "help": "exact: the same text after --fold; near: MinHash of word shingles",
            "flag": "--dedup",
            "switches": True,
        },
    )
    fold: Literal["none", "whitespace", "case+whitespace", "alnum"] = field(
        default=FOLD_CASE_WHITESPACE,
        metadata={"help": "exact mode's normalization: none, whitespace, case+whitespace or alnum", "flag": "--fold"},
    )
    threshold: float = field(
        default=0.8,
        metadata={"help": "near mode: estimated Jaccard of word shingles, in (0, 1]", "flag": "--threshold"},
    )
    shingle: int = field(
        default=5, metadata={"help": "near mode: words per shingle", "flag": "--shingle", "low": 1, "high": MAX_SHINGLE}
    )
    permutations: int = field(
        default=128,
        metadata={
            "help": "near mode: MinHash permutations",
            "flag": "--permutations",
            "low": 2,
            "high": MAX_PERMUTATIONS,
        },
    )
    seed: int = field(default=1, metadata={"help": "near mode: MinHash seed", "flag": "--seed", "low": 0})
    against: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Also drop records that duplicate one kept by an earlier run (its --save-index file); repeat "
            "(or comma-separate) for several runs.",
            "flag": "--against",
        },
    )
    save_index: str | None = field(
        default=None,
        metadata={
            "help": "Write the digests (and signatures) of the records kept here, for a later --against.",
            "flag": "--save-index",
        },
    )

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in MODES:
            problems.append(f"mode must be one of {', '.join(MODES)} (got {self.mode!r})")
        if self.fold not in FOLDS:
            problems.append(f"fold must be one of {', '.join(FOLDS)} (got {self.fold!r})")
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
            problems.append(f"threshold must be in (0, 1] (got {threshold!r})")
        for name, low, high in (("shingle", 1, MAX_SHINGLE), ("permutations", 2, MAX_PERMUTATIONS), ("seed", 0, None)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name} must be an integer (got {value!r})")
            elif high is not None and value > high:
                problems.append(f"{name} must be <= {high} (got {value!r})")
            else:
                problems.extend(below_bounds(self, ((name, low),)))
        against = self.against
        if isinstance(against, str):  # one path, as 0.4.0 took it (a config file's `against = "x.idx"`)
            against = (against,) if against else ()
            object.__setattr__(self, "against", against)
        if not isinstance(against, tuple) or not all(isinstance(path, str) for path in against):
            problems.append(f"against must be a list of index paths (got {against!r})")
        elif self.save_index and any(_same_path(self.save_index, path) for path in against):
            # the new index holds this run's kept records only: it would silently lose the earlier ones
            problems.append(
                f"--save-index {self.save_index} is also an --against index: it would be replaced by this run's "
                "kept records alone; save to a new file and pass both to the next run's --against"
            )
        if problems:
            raise ConfigError("dedup: " + "; ".join(problems))

    @property
    def bands(self) -> int:
        """LSH bands (see :func:`lsh_parameters`)."""
        return lsh_parameters(float(self.threshold), self.permutations)[0]

    @property
    def rows(self) -> int:
        """Signature slots per LSH band (see :func:`lsh_parameters`)."""
        return lsh_parameters(float(self.threshold), self.permutations)[1]


# ------------------------------------------------------------------------------------------------------- exact


def fold_text(text: str, fold: str = FOLD_CASE_WHITESPACE) -> str:
    """``text`` as the exact mode compares it (see :data:`FOLDS`)."""
    if fold == FOLD_CASE_WHITESPACE:
        return " ".join(text.casefold().split())
    if fold == FOLD_WHITESPACE:
        return " ".join(text.split())
    if fold == FOLD_NONE:
        return text
    if fold == FOLD_ALNUM:
        return paragraph_key(text)
    raise ConfigError(f"dedup: fold must be one of {', '.join(FOLDS)} (got {fold!r})")


def exact_key(text: str, fold: str = FOLD_CASE_WHITESPACE) -> bytes:
    """The exact mode's key: XXH3-128 (16 bytes) of the folded text in UTF-8 (lone surrogates passed)."""
    return xxh3_128_digest(folded_bytes(text, fold))


# The folds of ``fold_text`` without splitting the text into words (the split and join were most of the cost): in
# the UTF-8 bytes, each distinct non-ASCII character that is whitespace becomes a space and, when case folds, each
# that ``str.casefold`` changes becomes its folding (case folding maps character by character and never makes or
# removes whitespace, and a folding folds to itself, so replacing them one by one gives ``casefold``'s text); then one
# translate makes the ASCII whitespace a space (and folds ASCII case), runs of spaces are squeezed and the ends
# stripped: ``" ".join(text.casefold().split())`` byte for byte (a test checks it on generated texts).
_ASCII = bytes(range(0x80))
_ASCII_SPACE = frozenset(c for c in range(0x80) if chr(c).isspace())
_WHITESPACE_TABLE = bytes(0x20 if c in _ASCII_SPACE else c for c in range(256))
_CASE_WHITESPACE_TABLE = bytes(
    0x20 if c in _ASCII_SPACE else ord(chr(c).lower()) if c < 0x80 else c for c in range(256)
)
_SPACES = re.compile(b"  +")
# The regex module's literal search: `b"  " in data` (and re's) stop at every space of a text full of them and took
# a third of the fold; this one takes ~60% of that on 7 KB texts.
_DOUBLE_SPACE = regex.compile(b"  ")
_FOLDED: dict[tuple[str, bool], bytes | None] = {}
_FOLDED_MAX = 1 << 17  # the memo stays bounded, whatever the input


def _folded_char(char: str, case: bool) -> bytes | None:
    """What a non-ASCII character becomes in a fold (``None``: itself)."""
    key = (char, case)
    if key in _FOLDED:
        return _FOLDED[key]
    if char.isspace():
        value: bytes | None = b" "
    else:
        folded = char.casefold() if case else char
        value = None if folded == char else folded.encode("utf-8", "surrogatepass")
    if len(_FOLDED) < _FOLDED_MAX:
        _FOLDED[key] = value
    return value


#: The non-ASCII characters ``str.isspace`` calls whitespace (a test checks the list against every code point).
NON_ASCII_SPACES = (
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NON_ASCII_SPACE = re.compile(f"[{NON_ASCII_SPACES}]")


def _changes(chars: str, case: bool) -> bool:
    """Whether the fold changes any of the non-ASCII ``chars`` (most texts' are quotes and dashes: it does not)."""
    return (case and chars.casefold() != chars) or _NON_ASCII_SPACE.search(chars) is not None


_cache_utf8: Callable[[str, None], int] | None = None


def utf8(text: str) -> bytes:
    """``text.encode("utf-8", "surrogatepass")``, leaving the UTF-8 cached on ``text`` (CPython keeps the
    encoding ``PyUnicode_AsUTF8AndSize`` makes on the string): the writer's ``orjson.dumps`` then reads that cache
    instead of encoding the text again, so the fold's encoding is the output's too."""
    global _cache_utf8
    if text.isascii():
        return text.encode()  # the string's own bytes: nothing to cache
    if _cache_utf8 is None:
        import ctypes  # here: only the exact fold needs it

        function = ctypes.pythonapi.PyUnicode_AsUTF8AndSize  # a PyDLL function: a Python error is raised
        function.argtypes = (ctypes.py_object, ctypes.c_void_p)
        function.restype = ctypes.c_void_p
        _cache_utf8 = function
    with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate: nothing cached, the encoding passes it
        _cache_utf8(text, None)
    return text.encode("utf-8", "surrogatepass")  # a copy of the cache, when there is one


def folded_bytes(text: str, fold: str = FOLD_CASE_WHITESPACE) -> bytes:
    """``fold_text(text, fold)`` in UTF-8 (lone surrogates passed), built faster."""
    if fold == FOLD_NONE:
        return text.encode("utf-8", "surrogatepass")
    if fold == FOLD_ALNUM:
        return paragraph_key(text).encode("utf-8", "surrogatepass")
    if fold not in (FOLD_CASE_WHITESPACE, FOLD_WHITESPACE):
        raise ConfigError(f"dedup: fold must be one of {', '.join(FOLDS)} (got {fold!r})")
    case = fold == FOLD_CASE_WHITESPACE
    data = utf8(text)
    if len(data) != len(text):  # a character outside ASCII (one byte each): look at those
        rare = data.translate(None, _ASCII)
        if _changes(rare.decode("utf-8", "surrogatepass"), case):
            for char in set(rare.decode("utf-8", "surrogatepass")):
                replacement = _folded_char(char, case)
                if replacement is not None:
                    data = data.replace(char.encode("utf-8", "surrogatepass"), replacement)
    data = data.translate(_CASE_WHITESPACE_TABLE if case else _WHITESPACE_TABLE)
    if _DOUBLE_SPACE.search(data) is not None:  # runs of whitespace (a blank line, say) become one space
        data = _SPACES.sub(b" ", data)
    return data.strip(b" ")


class ExactIndex:
    """Digest -> id of the first document seen with it.

    :meth:`add` in input order; :meth:`merge` another index whose documents all come after this one's (a later
    partition): a digest both hold keeps this index's id. Memory: the 16-byte digest, the id and a dict slot.
    """

    def __init__(self) -> None:
        self._ids: dict[bytes, Any] = {}

    def add(self, digest: bytes, id: Any) -> tuple[bool, Any]:
        """Record a document: ``(True, id)`` when it is the first with ``digest`` (kept), else ``(False, kept_id)``."""
        kept = self._ids.get(digest, _MISSING)
        if kept is _MISSING:
            self._ids[digest] = id
            return True, id
        return False, kept

    def lookup(self, digest: bytes) -> Any | None:
        """The id kept for ``digest``, or ``None``."""
        return self._ids.get(digest)

    def merge(self, other: ExactIndex) -> None:
        """Add ``other``'s digests that this index lacks (``other``'s documents come later in input order)."""
        ids = self._ids
        for digest, id in other._ids.items():
            ids.setdefault(digest, id)

    def items(self) -> Iterable[tuple[bytes, Any]]:
        return self._ids.items()

    def __contains__(self, digest: object) -> bool:
        return digest in self._ids

    def __len__(self) -> int:
        return len(self._ids)


# -------------------------------------------------------------------------------------------------------- near


def words(text: str) -> list[str]:
    """The words near signatures are built over: NFKC, case-folded, punctuation dropped."""
    return paragraph_key(text).split()


def shingles(text: str, size: int) -> set[str]:
    """The distinct word ``size``-grams of ``text``, each its words one space apart (one shingle of all its words
    when it has fewer; none when it has no words)."""
    tokens = words(text)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    # shingle i is tokens[i] + " " + tokens[i + 1] + ... , built a position at a time over the whole document by
    # map(add) (C loops; faster than joining a zip's tuples)
    spaced = list(map(" ".__add__, tokens))
    grams: Iterable[str] = tokens
    for offset in range(1, size):
        grams = map(add, grams, spaced[offset:])
    return set(grams)


@cache
def _rensa() -> Any:
    try:
        import rensa
    except ImportError:  # pragma: no cover - the near extra is part of the test extra
        raise ConfigError("dedup: near mode needs the 'rensa' package: pip install 'corpus-tools[near]'") from None
    return rensa


@cache
def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - the near extra is part of the test extra
        raise ConfigError("dedup: near mode needs the 'numpy' package: pip install 'corpus-tools[near]'") from None
    return numpy


def minhash_name() -> str:
    """The MinHash implementation and algorithm version signatures come from (an index file records it)."""
    rensa = _rensa()
    return f"rensa.RMinHash/{getattr(rensa.RMinHash, 'ALGORITHM_VERSION', 'unknown')}"


# Shingle hashes (SHINGLES_VERSION 1): a shingle is the UTF-8 bytes b_0..b_m-1 of its words one space apart; its
# 64-bit hash is splitmix64's finalizer of sum(b_j * P**j) mod 2**64. Over a document's key (``paragraph_key``,
# words one space apart) every shingle's sum comes from one prefix sum: (H[end] - H[start]) * P**-start, all in
# numpy's wrapping uint64 arithmetic, so no Python object is made per shingle (building the shingle strings was
# most of the near pass's time). The power tables grow to the longest key seen (16 bytes per byte of it).
_P = 0x100000001B3  # odd, so invertible modulo 2**64
_POWERS: list[Any] = []  # [P**j, P**-j] for j < the tables' length


def _power_tables(n: int) -> tuple[Any, Any]:
    np = _numpy()
    if not _POWERS or len(_POWERS[0]) < n:
        size = max(1 << 16, 1 << (n - 1).bit_length())
        tables = []
        for base in (_P, pow(_P, -1, 1 << 64)):
            factors = np.full(size, base, dtype=np.uint64)
            factors[0] = 1
            tables.append(np.cumprod(factors, dtype=np.uint64))
        _POWERS[:] = tables
    return _POWERS[0], _POWERS[1]


def shingle_hashes(text: str, size: int) -> list[int]:
    """The 64-bit hashes of ``text``'s word ``size``-grams (of :func:`shingles`' strings, one per position, so a
    repeated shingle repeats; MinHash takes the minimum, which repeats do not change); none without words."""
    key = paragraph_key(text).encode("utf-8", "surrogatepass")
    if not key:
        return []
    np = _numpy()
    data = np.frombuffer(key, dtype=np.uint8)
    n = len(data)
    powers, inverses = _power_tables(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(data.astype(np.uint64) * powers[:n], out=prefix[1:])
        spaces = np.flatnonzero(data == 32)
        count = len(spaces) + 1  # words
        starts = np.empty(count, dtype=np.int64)
        starts[0] = 0
        starts[1:] = spaces + 1
        ends = np.empty(count, dtype=np.int64)
        ends[:-1] = spaces
        ends[-1] = n
        if count <= size:
            starts, ends = starts[:1], ends[-1:]
        else:
            starts, ends = starts[: count - size + 1], ends[size - 1 :]
        x = (prefix[ends] - prefix[starts]) * inverses[starts]
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x.tolist()


def _pack(values: Sequence[int]) -> bytes:
    packed = array("I", values)
    if _BIG_ENDIAN:  # pragma: no cover - signatures are little-endian on every machine
        packed.byteswap()
    return packed.tobytes()


def signatures(texts: Iterable[str], options: DedupOptions) -> list[bytes]:
    """:func:`signature` of each text, computed as one batch (faster than one call per text)."""
    hashes = [shingle_hashes(text, options.shingle) for text in texts]
    present = [h for h in hashes if h]
    rows = iter(
        _rensa().RMinHash.digest_matrix_from_token_hash_sets(present, options.permutations, options.seed).to_rows()
        if present
        else ()
    )
    return [_pack(next(rows)) if h else _EMPTY for h in hashes]


def signature(text: str, options: DedupOptions) -> bytes:
    """The MinHash signature of ``text``'s word shingles (their :func:`shingle_hashes`): ``permutations`` uint32
    values, little-endian (``4 * permutations`` bytes), or ``b""`` for a text without words."""
    return signatures([text], options)[0]


@cache
def lsh_parameters(threshold: float, permutations: int) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= permutations`` minimizing the sum of the probabilities of a false
    candidate (Jaccard below ``threshold``) and of a missed pair (at or above it), each integrated over the Jaccard
    range, as datasketch's ``MinHashLSH`` chooses them (same weights, 0.5 and 0.5; integrals by Simpson's rule)."""

    def integral(f: Callable[[float], float], a: float, b: float, steps: int = 64) -> float:
        if b <= a:
            return 0.0
        h = (b - a) / steps
        total = f(a) + f(b)
        total += sum((4 if i % 2 else 2) * f(a + i * h) for i in range(1, steps))
        return total * h / 3

    best: tuple[float, int, int] | None = None
    for bands in range(1, permutations + 1):
        for rows in range(1, permutations // bands + 1):
            false_positive = integral(lambda s, b=bands, r=rows: 1 - (1 - s**r) ** b, 0.0, threshold)
            false_negative = integral(lambda s, b=bands, r=rows: 1 - (1 - (1 - s**r) ** b), threshold, 1.0)
            error = 0.5 * false_positive + 0.5 * false_negative
            if best is None or error < best[0]:
                best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


def band_keys(sig: bytes, options: DedupOptions) -> list[int]:
    """The LSH keys of a signature, one 64-bit key per band (the band's number is part of the key, so equal slots
    in different bands do not meet); none for the empty signature. Two documents are candidates when they share a
    key (a 64-bit collision only adds a candidate, which verification rejects)."""
    if not sig:
        return []
    bands, rows = options.bands, options.rows
    width = 4 * rows
    return [
        int.from_bytes(
            blake2b(sig[band * width : (band + 1) * width], digest_size=8, person=band.to_bytes(16, "little")).digest(),
            "little",
        )
        for band in range(bands)
    ]


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard of two signatures: the share of equal slots (0.0 when either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    slots_a, slots_b = array("I", a), array("I", b)
    return sum(map(eq, slots_a, slots_b)) / len(slots_a)


class _UnionFind:
    """Union-find whose root is always the smallest ordinal of its set."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra < rb:
            self.parent[rb] = ra
        elif rb < ra:
            self.parent[ra] = rb


def candidate_pairs(
    group: Iterable[tuple[int, bytes]], options: DedupOptions, _connected: _UnionFind | None = None
) -> list[tuple[int, int, float]]:
    """The verified pairs ``(i, j, similarity)``, ``i < j``, of one band group: estimated Jaccard >= threshold.

    Members with the very same signature are paired with the first of them only (similarity 1.0), so a group of
    many copies costs one comparison per distinct signature. The pairs connect the group's members exactly as
    all verified pairs would (what :func:`clusters` needs), though not every such pair is listed.
    """
    members = sorted(dict(group).items())
    pairs: list[tuple[int, int, float]] = []
    if len(members) < 2:
        return pairs
    connected = _connected or _UnionFind()
    first_of: dict[bytes, int] = {}
    distinct: list[tuple[int, bytes]] = []
    for ordinal, sig in members:
        if not sig:
            continue
        first = first_of.setdefault(sig, ordinal)
        if first == ordinal:
            distinct.append((ordinal, sig))
        else:
            pairs.append((first, ordinal, 1.0))
            connected.union(first, ordinal)
    threshold = options.threshold
    for n, (i, sig_i) in enumerate(distinct):
        for j, sig_j in distinct[n + 1 :]:
            if connected.find(i) == connected.find(j):
                continue  # already one cluster: this pair would change nothing
            score = similarity(sig_i, sig_j)
            if score >= threshold:
                pairs.append((i, j, score))
                connected.union(i, j)
    return pairs


def clusters(pairs: Iterable[tuple[int, int, float]]) -> dict[int, int]:
    """Union-find over verified pairs: ``{ordinal: kept_ordinal}`` for every ordinal of a pair that is not the
    smallest ordinal (the kept one) of its connected component."""
    union_find = _UnionFind()
    for i, j, _score in pairs:
        union_find.union(i, j)
    roots = {ordinal: union_find.find(ordinal) for ordinal in list(union_find.parent)}
    return {ordinal: root for ordinal, root in roots.items() if root != ordinal}


def decide(groups: Iterable[Iterable[tuple[int, bytes]]], options: DedupOptions) -> dict[int, tuple[int, float]]:
    """The keep-first decision over band groups (each an iterable of ``(ordinal, signature)`` sharing a band key):
    ``{dropped_ordinal: (kept_ordinal, estimated_jaccard_with_kept)}``.

    The result does not depend on the order of the groups or of their members, nor on a group appearing twice.
    """
    sigs: dict[int, bytes] = {}
    pairs: list[tuple[int, int, float]] = []
    connected = _UnionFind()
    for group in groups:
        members = dict(group)
        if len(members) < 2:
            continue
        sigs.update(members)
        pairs.extend(candidate_pairs(members.items(), options, connected))
    return {dropped: (kept, similarity(sigs[dropped], sigs[kept])) for dropped, kept in clusters(pairs).items()}


# ------------------------------------------------------------------------------------------------ across runs


class DedupIndex:
    """Ids, digests and (near mode) signatures of the documents a run kept, in the order they were kept."""

    def __init__(self, options: DedupOptions) -> None:
        self.options = options
        #: where it was read from (named in messages); "<index>" for one built in memory
        self.source = "<index>"
        self.ids: list[Any] = []
        self.digests: list[bytes] = []
        self.signatures: list[bytes] = []
        self._by_digest: dict[bytes, int] | None = None
        self._by_band: dict[int, list[int]] | None = None
        self._band_options: DedupOptions | None = None

    @property
    def has_signatures(self) -> bool:
        return self.options.mode == NEAR

    def add(self, id: Any, digest: bytes, sig: bytes | None = None) -> None:
        """Append a kept document (``sig`` is required in near mode)."""
        if self.has_signatures and sig is None:
            raise ValueError("a near-mode index needs each document's signature")
        self.ids.append(id)
        self.digests.append(digest)
        if self.has_signatures:
            self.signatures.append(sig or _EMPTY)
        self._by_digest = self._by_band = None

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------------------------------------ checks

    def check_compatible(self, options: DedupOptions, source: str | None = None) -> None:
        """Raise :class:`ConfigError` unless this index can tell ``options``' duplicates: the same fold for the
        exact mode; for the near mode, signatures of the same shingle size, permutations and seed (the threshold
        may differ: it is the decision, not the signature). ``source`` defaults to where the index was read from."""
        source = source or self.source
        mine = self.options
        if options.mode == EXACT and options.fold != mine.fold:
            raise ConfigError(f"dedup: {source} holds digests of fold {mine.fold!r}, not {options.fold!r}")
        if options.mode == NEAR:
            if not self.has_signatures:
                raise ConfigError(f"dedup: {source} is an exact-mode index: it has no signatures for the near mode")
            for name in ("shingle", "permutations", "seed"):
                if getattr(options, name) != getattr(mine, name):
                    raise ConfigError(
                        f"dedup: {source} holds signatures of {name}={getattr(mine, name)}, "
                        f"not {getattr(options, name)}"
                    )

    def find_exact(self, digest: bytes) -> int | None:
        """The position of the indexed document with this digest (the first when several), or ``None``."""
        if self._by_digest is None:
            by_digest: dict[bytes, int] = {}
            for n, key in enumerate(self.digests):
                by_digest.setdefault(key, n)
            self._by_digest = by_digest
        return self._by_digest.get(digest)

    def lookup_near(self, sig: bytes, options: DedupOptions) -> tuple[Any, float] | None:
        """``(id, similarity)`` of the first indexed document (in the order they were kept) whose estimated Jaccard
        with ``sig`` is at least ``options.threshold``, or ``None``."""
        if not sig:
            return None
        if self._by_band is None or self._band_options != options:
            by_band: dict[int, list[int]] = {}
            for n, indexed in enumerate(self.signatures):
                for key in band_keys(indexed, options):
                    by_band.setdefault(key, []).append(n)
            self._by_band, self._band_options = by_band, options
        candidates = sorted({n for key in band_keys(sig, options) for n in self._by_band.get(key, ())})
        for n in candidates:
            score = similarity(sig, self.signatures[n])
            if score >= options.threshold:
                return self.ids[n], score
        return None

    # -------------------------------------------------------------------------------------------------- file

    def _parameters(self) -> dict[str, Any]:
        options = self.options
        parameters: dict[str, Any] = {
            "mode": options.mode,
            "fold": options.fold,
            "digest": DIGEST,
        }
        if self.has_signatures:
            parameters.update(
                shingle=options.shingle,
                permutations=options.permutations,
                seed=options.seed,
                shingles=SHINGLES_VERSION,
                minhash=minhash_name(),
            )
        return parameters

    def to_bytes(self) -> bytes:
        """The file format of the module docstring."""
        import zstandard

        parameters = orjson.dumps(self._parameters())
        flags = _FLAG_DIGESTS | (_FLAG_SIGNATURES if self.has_signatures else 0)
        ids = orjson.dumps(self.ids)
        parts = [_COUNTS.pack(len(self.ids), len(ids)), ids, b"".join(self.digests)]
        if self.has_signatures:
            width = 4 * self.options.permutations
            # an empty signature (a document without words) is stored as zeros and read back as empty
            parts.append(b"".join(sig or bytes(width) for sig in self.signatures))
        body = zstandard.ZstdCompressor(level=3).compress(b"".join(parts))
        return _HEADER.pack(MAGIC, VERSION, flags, len(parameters)) + parameters + body

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> DedupIndex:
        """Parse :meth:`to_bytes`' output; :class:`InputError` naming ``source`` when it is not one."""
        import zstandard

        if len(data) < _HEADER.size or data[:8] != MAGIC:
            raise InputError("not a dedup index (bad magic; write one with --save-index)", source)
        _, version, flags, length = _HEADER.unpack_from(data)
        if version != VERSION:
            raise InputError(f"dedup index version {version} is not supported (expected {VERSION})", source)
        try:
            parameters = orjson.loads(data[_HEADER.size : _HEADER.size + length])
            frame = zstandard.ZstdDecompressor().decompressobj()
            body = frame.decompress(data[_HEADER.size + length :])
            if not frame.eof or frame.unused_data:
                raise InputError("corrupt dedup index: the body is cut short or followed by other bytes", source)
            options = DedupOptions(
                **{k: parameters[k] for k in ("mode", "fold", "shingle", "permutations", "seed") if k in parameters}
            )
            n, ids_length = _COUNTS.unpack_from(body)
            ids = orjson.loads(body[_COUNTS.size : _COUNTS.size + ids_length])
        except (orjson.JSONDecodeError, zstandard.ZstdError, struct.error, ConfigError, TypeError) as exc:
            raise InputError(f"corrupt dedup index: {exc}", source) from None
        index = cls(options)
        index.source = source
        if parameters.get("digest") != DIGEST:
            raise InputError(
                f"dedup index digests are {parameters.get('digest')}, this installation computes {DIGEST}: "
                "rebuild the index",
                source,
            )
        if index.has_signatures and (
            parameters.get("shingles") != SHINGLES_VERSION or parameters.get("minhash") != minhash_name()
        ):
            raise InputError(
                f"dedup index signatures come from {parameters.get('minhash')} (shingles {parameters.get('shingles')}),"
                f" this installation computes {minhash_name()} (shingles {SHINGLES_VERSION}): rebuild the index",
                source,
            )
        expected_flags = _FLAG_DIGESTS | (_FLAG_SIGNATURES if index.has_signatures else 0)
        width = 4 * options.permutations
        start = _COUNTS.size + ids_length
        size = start + n * DIGEST_BYTES + (n * width if index.has_signatures else 0)
        if flags != expected_flags or not isinstance(ids, list) or len(ids) != n or len(body) != size:
            raise InputError(f"corrupt dedup index: {n} documents, {len(body)} bytes of body", source)
        index.ids = ids
        index.digests = [body[start + i * DIGEST_BYTES : start + (i + 1) * DIGEST_BYTES] for i in range(n)]
        if index.has_signatures:
            start += n * DIGEST_BYTES
            zero = bytes(width)
            sigs = [body[start + i * width : start + (i + 1) * width] for i in range(n)]
            index.signatures = [_EMPTY if sig == zero else sig for sig in sigs]
        return index


def save_index(index: DedupIndex, path: str) -> int:
    """Write ``index`` to ``path`` atomically; returns the number of bytes written."""
    from corpus_tools.io import open_output  # all file I/O lives in io.py

    data = index.to_bytes()
    with open_output(path) as stream:
        stream.write(data)
    return len(data)


def load_indexes(paths: Sequence[str], options: DedupOptions) -> DedupIndex:
    """The indexes at ``paths`` as one, in the order given (each checked against ``options``): what several earlier
    runs kept, for ``--against``."""
    merged: DedupIndex | None = None
    for path in paths:
        index = load_index(path)
        index.check_compatible(options)
        if merged is None:
            merged = index
            continue
        signatures: Sequence[bytes | None] = index.signatures if index.has_signatures else [None] * len(index)
        for id, digest, sig in zip(index.ids, index.digests, signatures, strict=True):
            merged.add(id, digest, sig)
    if merged is None:
        raise ValueError("load_indexes needs at least one path")
    return merged


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def load_index(path: str) -> DedupIndex:
    """Read an index written by :func:`save_index` (:class:`InputError` naming ``path`` when it is not one)."""
    from corpus_tools.io import read_document_bytes

    return DedupIndex.from_bytes(read_document_bytes(path), path)


# ------------------------------------------------------------------------------------------------- the driver


@dataclass(frozen=True)
class Dropped:
    """A record dropped as a duplicate: ``reason`` is :data:`REASON_EXACT` or :data:`REASON_NEAR`; ``duplicate_of``
    the id of the record kept (an earlier run's when ``earlier_run``); ``similarity`` the estimated Jaccard with it
    (near mode; ``None`` for exact); ``ordinal``/``kept_ordinal`` the input positions (``kept_ordinal`` is ``None``
    for an earlier run's record)."""

    record: Record
    reason: str
    duplicate_of: Any
    similarity: float | None
    ordinal: int
    kept_ordinal: int | None
    earlier_run: bool = False

    def metadata(self) -> dict[str, Any]:
        """What the dropped record's metadata gets: ``duplicate_of`` and, near mode, ``similarity``."""
        out: dict[str, Any] = {"duplicate_of": self.duplicate_of}
        if self.similarity is not None:
            out["similarity"] = self.similarity
        return out


def dedup_records(
    records: Iterable[Record],
    options: DedupOptions,
    *,
    text_field: str = "text",
    against: DedupIndex | None = None,
    index: DedupIndex | None = None,
) -> tuple[list[Record], list[Dropped]]:
    """The in-memory pass: ``(kept records in input order, dropped in input order)``.

    Each dropped record's metadata gets :meth:`Dropped.metadata`. With ``against``, a record duplicating one of
    its documents is dropped first (``duplicate_of`` = that earlier id); the rest are deduplicated among
    themselves. With ``index``, the kept records' ids, digests and signatures are appended to it (for
    :func:`save_index`).
    """
    records = list(records)
    texts = [record[text_field] for record in records]
    digests = [exact_key(text, options.fold) for text in texts]
    sigs = signatures(texts, options) if options.mode == NEAR else None
    if against is not None:
        against.check_compatible(options)

    verdicts: dict[int, Dropped] = {}
    if against is not None:
        for n, record in enumerate(records):
            if options.mode == EXACT:
                earlier = against.find_exact(digests[n])
                if earlier is not None:
                    verdicts[n] = Dropped(record, REASON_EXACT, against.ids[earlier], None, n, None, True)
            else:
                assert sigs is not None
                match = against.lookup_near(sigs[n], options)
                if match is not None:
                    verdicts[n] = Dropped(record, REASON_NEAR, match[0], match[1], n, None, True)

    if options.mode == EXACT:
        first: dict[bytes, int] = {}
        for n, digest in enumerate(digests):
            if n in verdicts:
                continue
            kept = first.setdefault(digest, n)
            if kept != n:
                verdicts[n] = Dropped(records[n], REASON_EXACT, records[kept].get("id"), None, n, kept)
    else:
        assert sigs is not None
        groups: dict[int, list[tuple[int, bytes]]] = {}
        for n, sig in enumerate(sigs):
            if n in verdicts:
                continue
            for key in band_keys(sig, options):
                groups.setdefault(key, []).append((n, sig))
        decided = decide((group for group in groups.values() if len(group) > 1), options)
        for n, (kept, score) in decided.items():
            verdicts[n] = Dropped(records[n], REASON_NEAR, records[kept].get("id"), score, n, kept)

    kept_records: list[Record] = []
    dropped: list[Dropped] = []
    for n, record in enumerate(records):
        verdict = verdicts.get(n)
        if verdict is None:
            kept_records.append(record)
            if index is not None:
                index.add(record.get("id"), digests[n], sigs[n] if sigs is not None else None)
        else:
            metadata_of(record).update(verdict.metadata())
            dropped.append(verdict)
    return kept_records, dropped


# --------------------------------------------------------------------------------------------------- the step


class KeepFirst(OrderedPass):
    """Dedup's corpus pass: each record's digest (and near mode, signature) is computed where the step runs, in
    parallel; the verdict is taken in input order as results come back (keep the first, drop the rest), so no
    stage runs before the main pass and the output is the same whatever ``--jobs``."""

    def key(self, doc: Doc, options: DedupOptions) -> tuple[bytes, bytes | None]:
        digest = exact_key(doc.text, options.fold)
        return digest, signature(doc.text, options) if options.mode == NEAR else None

    def start(self, options: DedupOptions) -> _Kept:
        if options.mode == NEAR:  # say what is missing before any work, not from a worker halfway through
            _rensa()
            _numpy()
        kept = _Kept(options)
        if options.against:
            kept.earlier = load_indexes(options.against, options)
        return kept

    def decide(self, state: _Kept, key: tuple[bytes, bytes | None], id: Any) -> Drop | None:
        return state.decide(key, id)

    def finish(self, state: _Kept, options: DedupOptions) -> None:
        if options.save_index:
            save_index(state.index, options.save_index)

    def journal(self, state: _Kept, start: int, end: int) -> list[tuple[Any, bytes, bytes | None]]:
        # The kept records, in the order they were kept: the exact mode's dict keeps its insertion order.
        if state.options.mode == EXACT:
            return [(id, digest, None) for digest, id in itertools.islice(state.by_digest.items(), start, end)]
        index = state.index
        return list(zip(index.ids[start:end], index.digests[start:end], index.signatures[start:end], strict=True))

    def journal_length(self, state: _Kept) -> int:
        return len(state.by_digest) if state.options.mode == EXACT else len(state.index)

    def replay(self, state: _Kept, entries: Sequence[tuple[Any, bytes, bytes | None]]) -> None:
        for id, digest, sig in entries:
            if state.decide((digest, sig), id) is not None:
                raise ValueError(f"dedup: a journal entry ({id!r}) is not kept when replayed")

    # On a cluster: exact groups by digest, near by LSH band; a group links each record to the earlier ones it
    # duplicates. ``--save-index`` writes every kept signature from one process anyway: it decides in input order.

    def on_cluster(self, options: DedupOptions) -> bool:
        return not options.save_index

    def groups(self, key: tuple[bytes, bytes | None], options: DedupOptions) -> list[int]:
        digest, sig = key
        if options.mode == EXACT:
            return [int.from_bytes(digest[:8], "little")]
        return band_keys(sig, options) if sig else []

    def links(self, members: Sequence[Member], options: DedupOptions) -> Iterator[Link]:
        if options.mode == EXACT:
            first: dict[bytes, tuple[Ordinal, Any]] = {}
            for ordinal, id, (digest, _sig) in members:  # a group holds the digests that share their first 8 bytes
                kept = first.setdefault(digest, (ordinal, id))
                if kept[0] != ordinal:
                    yield kept[0], kept[1], ordinal, None
            return
        yield from _near_links(members, options.threshold)

    def verdict(self, detail: float | None, kept_id: Any, earlier_run: bool) -> Drop:
        if detail is None:
            extra: dict[str, Any] = {"duplicate_of": kept_id}
            reason = REASON_EXACT
        else:
            extra = {"duplicate_of": kept_id, "similarity": round(detail, 4)}
            reason = REASON_NEAR
        if earlier_run:
            extra["earlier_run"] = True
        return Drop(reason, extra)

    def earlier(self, state: _Kept) -> list[tuple[Any, tuple[bytes, bytes | None]]]:
        index = state.earlier
        if index is None:
            return []
        sigs: Sequence[bytes | None] = index.signatures if state.options.mode == NEAR else [None] * len(index)
        return [(id, (digest, sig)) for id, digest, sig in zip(index.ids, index.digests, sigs, strict=True)]


def _near_links(members: Sequence[Member], threshold: float) -> Iterator[Link]:
    """The links of one band group: every pair of distinct signatures with estimated Jaccard >= ``threshold``; a
    copy of an earlier member's signature links to that member (1.0) and to whatever links to that member here (its
    copy shares every group with it, so it needs exactly that member's links, not a comparison of its own)."""
    distinct: list[tuple[Ordinal, Any, bytes]] = []
    first_of: dict[bytes, int] = {}  # signature -> its index in ``distinct``
    copies: dict[int, list[Ordinal]] = {}
    for ordinal, id, (_digest, sig) in members:
        n = first_of.setdefault(sig, len(distinct))
        if n == len(distinct):
            distinct.append((ordinal, id, sig))
        else:
            copies.setdefault(n, []).append(ordinal)
    links_to: dict[int, list[tuple[Ordinal, Any, float]]] = {}
    for b, (later, _id, sig_b) in enumerate(distinct):
        for a in range(b):
            earlier, earlier_id, sig_a = distinct[a]
            score = similarity(sig_a, sig_b)
            if score >= threshold:
                links_to.setdefault(b, []).append((earlier, earlier_id, score))
                if later[0] != EARLIER_RUN:  # an earlier run's records are all kept (their links serve copies)
                    yield earlier, earlier_id, later, score
    for n, ordinals in copies.items():
        original, original_id, _sig = distinct[n]
        for ordinal in ordinals:
            if ordinal[0] == EARLIER_RUN:
                continue
            yield original, original_id, ordinal, 1.0
            for earlier, earlier_id, score in links_to.get(n, ()):
                yield earlier, earlier_id, ordinal, score


class _Kept:
    """What a run has kept so far: digests (exact), band keys and signatures (near), in input order."""

    def __init__(self, options: DedupOptions) -> None:
        self.options = options
        self.by_digest: dict[bytes, Any] = {}
        self.by_band: dict[int, list[int]] = {}
        self.index = DedupIndex(options)  # the kept records, for --save-index
        self.earlier: DedupIndex | None = None

    def decide(self, key: tuple[bytes, bytes | None], id: Any) -> Drop | None:
        digest, sig = key
        options = self.options
        if options.mode == EXACT:
            if self.earlier is not None and (n := self.earlier.find_exact(digest)) is not None:
                return Drop(REASON_EXACT, {"duplicate_of": self.earlier.ids[n], "earlier_run": True})
            if digest in self.by_digest:
                return Drop(REASON_EXACT, {"duplicate_of": self.by_digest[digest]})
            self.by_digest[digest] = id
            if options.save_index:
                self.index.add(id, digest)
            return None
        assert sig is not None
        if self.earlier is not None and (found := self.earlier.lookup_near(sig, options)) is not None:
            return Drop(REASON_NEAR, {"duplicate_of": found[0], "similarity": round(found[1], 4), "earlier_run": True})
        bands = band_keys(sig, options) if sig else []
        candidates = sorted({n for band in bands for n in self.by_band.get(band, ())})
        for n in candidates:
            score = similarity(sig, self.index.signatures[n])
            if score >= options.threshold:
                return Drop(REASON_NEAR, {"duplicate_of": self.index.ids[n], "similarity": round(score, 4)})
        position = len(self.index)
        self.index.add(id, digest, sig)
        for band in bands:
            self.by_band.setdefault(band, []).append(position)
        return None


class Dedup(Step):
    """The ``dedup`` step: drop a record whose text duplicates an earlier record's (exact after a fold, or near by
    MinHash), keeping the first in input order; each dropped record names the id it duplicates."""

    name = "dedup"
    Options = DedupOptions
    summary = "Drop exact or near-duplicate documents, keeping the first; each dropped one names what it duplicates."
    reasons = {
        REASON_EXACT: "the same text (after --fold) as an earlier record",
        REASON_NEAR: "an estimated word-shingle Jaccard >= --threshold with an earlier record",
    }
    corpus_pass = KeepFirst()
    order = 900  # last: duplicates are judged on the cleaned text
    labels_lines = False  # its verdicts are the ordered pass's; label (for explain) gives no lines

    def label(self, doc: Doc) -> Labels:
        return Labels(doc)
