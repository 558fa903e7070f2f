"""Bad inputs for tutor_lib.limits and the byte guard."""

from bad_input_rows import error, result
from tutor_lib.costs import GIB
from tutor_lib.limits import (
    TooLargeError,
    format_bytes,
    get_max_bytes,
    guard_bytes,
    set_max_bytes,
)

ROWS = [
    error(set_max_bytes, 0, name="limit", why="zero limit"),
    error(set_max_bytes, 1.5e9, raises=TypeError, name="limit", why="float limit"),
    error(set_max_bytes, True, raises=TypeError, name="limit", why="bool limit"),
    result(get_max_bytes, check=lambda v: v == 4 * GIB, why="default is 4 GiB"),
    error(
        guard_bytes, 5 * GIB, "f(n=9)", raises=TooLargeError, name="f(n=9)", why="over the limit"
    ),
    result(guard_bytes, 4 * GIB, "f(n=8)", check=lambda v: v is None, why="at the limit is fine"),
    result(format_bytes, 10 * GIB, check=lambda s: s == "10.0 GiB", why="GiB text"),
    result(TooLargeError, "x", check=lambda e: isinstance(e, ValueError), why="is a ValueError"),
]
