"""Fifth-wave mutation survivors in gotime.py (``local_zone``, ``parse_duration``) and printf.py
(``_parsenum``, ``_arg_number``).

Expected values are Go 1.26's: ``time.ParseDuration`` (the next character must be ``[0-9.]``; a unit
runs up to the next ``[0-9.]``; ``.5s`` is valid, ``.s`` is not; a term may reach exactly ``1<<63``
when the duration is negative), ``time.Time.Add``, the ``Local`` zone from ``TZ``, and ``fmt``'s
``parsenum`` / ``parseArgNumber`` / ``argNumber`` / ``doPrintf`` (a bad ``[n]`` sets ``reordered``
and clears ``goodArgNum``; ``found`` is ``ok`` even when the index is out of range, and a found index
is not looked for again before the verb). Sprig v3's ``dateModify`` leaves the time unchanged on an
invalid duration.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.gotemplate.test_mutation_time import NANOS, START, _kind, _render

# --- local zone -------------------------------------------------------------------------------------


@pytest.fixture
def tokyo_local() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.usefixtures("tokyo_local")
def test_local_zone_is_the_process_zone() -> None:
    # Go: Local comes from TZ (a zone file name); 0 is time.Unix(0, 0)
    assert _render('{{ dateInZone "2006-01-02 15:04 MST" 0 "Local" }}') == "1970-01-01 09:00 JST"
    assert _render('{{ date "2006-01-02 15:04 -0700" 0 }}') == "1970-01-01 09:00 +0900"


# --- ParseDuration through dateModify ------------------------------------------------------------

_UNCHANGED = "2024-01-01 00:00:00.000000000"


@pytest.mark.parametrize(
    ("mod", "expected"),
    [
        (".5s", "2024-01-01 00:00:00.500000000"),  # a term may start with '.'
        ("-.5s", "2023-12-31 23:59:59.500000000"),
        ("1s.5s", "2024-01-01 00:00:01.500000000"),  # '.' ends a unit
        ("0s", _UNCHANGED),  # '0' starts a term (only "0" alone is special-cased)
        ("1s0s", "2024-01-01 00:00:01.000000000"),  # '0' ends a unit
        ("1s9s", "2024-01-01 00:00:10.000000000"),  # '9' ends a unit
        (".s", _UNCHANGED),  # invalid: no digits before or after the dot
        ("1", _UNCHANGED),  # invalid: missing unit (digits to the end of the string)
        ("1s1", _UNCHANGED),
        # a term with a fraction reaching exactly 1<<63 ns: allowed when negative (Go: v > 1<<63 fails)
        ("-9223372036854775.808us", "1731-09-22 00:12:43.145224192"),
        ("-9223372036.854775808s", "1731-09-22 00:12:43.145224192"),
        ("9223372036.854775807s", "2316-04-11 23:47:16.854775807"),
        ("9223372036.854775808s", _UNCHANGED),  # 1<<63 positive: invalid
    ],
)
def test_date_modify_parses_durations_like_go(mod: str, expected: str) -> None:
    assert _render(f'{{{{ dateInZone "{NANOS}" (dateModify "{mod}" {START}) "UTC" }}}}') == expected


@pytest.mark.parametrize("mod", [".s", "-.s", "1", "9223372036.854775808s"])
def test_must_date_modify_refuses_invalid_durations(mod: str) -> None:
    assert _kind(f'{{{{ mustDateModify "{mod}" {START} }}}}') == "function failed"


# --- printf: explicit argument indexes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        # out-of-range index: found (afterIndex) stays true, so "[1]" is not read as an index again
        ("%[5][1]d", "7", "%![(BADINDEX)1]d"),
        ("%[10000000][1]d", "7", "%![(BADINDEX)1]d"),  # 1e7 still parses (tooLarge is x > 1e6)
        ("%[100000000][1]d", "7", "%!d(BADINDEX)"),  # overflow: not found, "[1]" read next
        ("%[2]d", "1", "%!d(BADINDEX)"),  # index == number of args
        ("%[1]2d", "5", "%!d(BADINDEX)"),  # a width right after an index
        ("%[1]d", "5", "5"),
        # fewer than 3 bytes from '[': skip the '[' only, not found, bad, reordered (no EXTRA)
        ("%[1]", "5", "%!(NOVERB)"),
        ("%[", "", "%!(NOVERB)"),
        ("%[d", "1", "%!d(BADINDEX)"),
        ("%[[", "", "%!(NOVERB)"),
        # no ']': the same
        ("%[dx", "1", "%!d(BADINDEX)x"),
        ("%[[x", "", "%!x(BADINDEX)"),
        ("%[1d", "5", "%!d(BADINDEX)"),
        # ']' found but no number between: skip past the ']', not found
        ("%[]d", "1", "%!d(BADINDEX)"),
        ("%[1x]d", "5", "%!d(BADINDEX)"),
        ("%[1x][1]d", "5", "%!d(BADINDEX)"),
    ],
)
def test_printf_argument_index_like_go(fmt: str, args: str, expected: str) -> None:
    assert _render(f'{{{{ printf "{fmt}" {args} }}}}') == expected
