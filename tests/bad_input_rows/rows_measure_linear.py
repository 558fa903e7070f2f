"""Bad inputs for tutor_lib.measure.linear_batch_times (the y = xW batch sweep)."""

from bad_input_rows import error, result
from tutor_lib.limits import TooLargeError
from tutor_lib.measure import linear_batch_times

ROWS = [
    error(linear_batch_times, [], name="batches", why="no batch size"),
    error(linear_batch_times, [1, 0], name="batches[i]", why="zero batch"),
    error(linear_batch_times, [1.5], raises=TypeError, name="batches[i]", why="float batch"),
    error(linear_batch_times, [1], 0, name="d_in", why="zero d_in"),
    error(linear_batch_times, [1], 8, -8, name="d_out", why="negative d_out"),
    error(
        linear_batch_times,
        [1],
        10**6,
        10**6,
        raises=TooLargeError,
        name="linear_batch_times",
        why="a 4 TB W",
    ),
    result(
        linear_batch_times,
        [1, 3],
        8,
        4,
        repeat=1,
        check=lambda r: r["batch"].tolist() == [1, 3] and (r["seconds"] > 0).all(),
        why="tiny sizes",
    ),
]
