"""The record contract's JSON reading: numbers come out exactly as they went in, or the line is refused."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus_tools.records import (
    MAX_DEPTH,
    InexactNumber,
    RefusedValue,
    TooDeep,
    exact_loads,
    holds_big_float,
    written_as_orjson_writes,
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)


def _ints(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _ints(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ints(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield value


@given(JSON_VALUES)
def test_a_line_is_read_exactly_or_refused(value):
    line = json.dumps({"text": "x", "extra": value}).encode()
    representable = all(-(2**63) <= n < 2**64 for n in _ints(value))
    if representable:
        # What orjson reads, and it is what the standard library (exact integers) reads.
        assert exact_loads(line) == orjson.loads(line) == json.loads(line)
    else:
        with pytest.raises(InexactNumber, match=r"^integer beyond 64 bits \(it would come out as a float"):
            exact_loads(line)


@pytest.mark.parametrize(
    ("literal", "refused"),
    [
        ("18446744073709551615", False),  # 2**64 - 1: orjson keeps it
        ("18446744073709551616", True),  # 2**64
        ("-9223372036854775808", False),  # -2**63
        ("-9223372036854775809", True),
        ("123456789012345678901234567890", True),
        ("1e19", False),  # a float literal stays a float: nothing is lost
        ("9223372036854775808.0", False),
    ],
)
def test_the_64_bit_edges(literal, refused):
    line = f'{{"text": "x", "metadata": {{"ids": [1, {literal}]}}}}'
    if refused:
        with pytest.raises(InexactNumber, match=literal.lstrip("-")[:15]):
            exact_loads(line)
    else:
        assert exact_loads(line)["metadata"]["ids"][1] == json.loads(line)["metadata"]["ids"][1]


def test_only_a_float_as_large_as_a_big_int_makes_the_slow_check():
    assert not holds_big_float({"text": "x" * 100, "metadata": {"n": 9.2e18, "m": [-9.2e18, 2**64 - 1]}})
    assert holds_big_float({"text": "x", "metadata": {"n": [[2.0**63]]}})
    assert holds_big_float([-(2.0**63)])


@given(JSON_VALUES)
def test_a_compact_line_is_read_exactly_or_refused(value):
    # Written the way orjson writes (no spaces, non-ASCII as it is): the cheap test that the line is orjson's own
    # writing answers for most of these; it must refuse exactly what the closer look refuses.
    line = json.dumps({"text": "x", "extra": value}, separators=(",", ":"), ensure_ascii=False).encode()
    representable = all(-(2**63) <= n < 2**64 for n in _ints(value))
    if representable:
        assert exact_loads(line) == orjson.loads(line) == json.loads(line)
    else:
        with pytest.raises(InexactNumber):
            exact_loads(line)


@given(JSON_VALUES)
def test_a_line_orjson_wrote_needs_no_closer_look(value):
    value = json.loads(json.dumps(value))  # what reading gives (floats of integers beyond 64 bits aside)
    try:
        line = orjson.dumps({"text": "x", "extra": value})
    except TypeError:  # an integer orjson cannot write
        return
    assert written_as_orjson_writes(orjson.loads(line), line + b"\n")
    assert written_as_orjson_writes(orjson.loads(line), line)
    assert not written_as_orjson_writes(orjson.loads(line), line + b"\r\n")
    assert not written_as_orjson_writes(orjson.loads(line), b" " + line)


@pytest.mark.parametrize(
    "line",
    [
        b'{"text":"A","text":"B"}',
        b'{"text":"A","m":{"k":1,"k":1}}',
        b'{"text":"A","m":"\\u003a","m":"b"}',
        b'{"text":"x","n":18446744073709551616}',
        b'{"text":"x","n":123456789012345678901234567890}',
    ],
)
def test_a_compact_line_with_a_lost_key_or_a_big_integer_gets_the_closer_look(line):
    assert not written_as_orjson_writes(orjson.loads(line), line)
    with pytest.raises(RefusedValue):
        exact_loads(line)


def test_the_depth_orjson_writes_is_the_depth_accepted():
    for levels, accepted in ((MAX_DEPTH, True), (MAX_DEPTH + 1, False)):
        line = b"[" * levels + b"]" * levels
        assert written_as_orjson_writes(orjson.loads(line), line) is accepted
        if accepted:
            exact_loads(line)
        else:
            with pytest.raises(TooDeep):
                exact_loads(line)
