"""Bad inputs for tutor_lib.measure."""

from bad_input_rows import error
from tutor_lib.measure import allocated_bytes, matmul_rate, matvec_bandwidth

ROWS = [
    error(allocated_bytes, 3, raises=TypeError, name="fn", why="not callable"),
    error(matmul_rate, 10**6, name="n", why="a matrix of 8 TB"),
    error(matmul_rate, 1.5, raises=TypeError, name="n", why="float size"),
    error(matvec_bandwidth, 10**7, name="rows", why="rows too large"),
    error(matvec_bandwidth, 4096, 0, name="cols", why="zero columns"),
]
