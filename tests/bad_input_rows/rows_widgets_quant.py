"""Bad builder arguments for tutor_lib.widgets.quant (lesson 08's quantization explorer)."""

from bad_input_rows import error, noted, result
from tutor_lib.widgets.quant import QuantizationExplorer, quantization_explorer

ROWS = [
    result(
        quantization_explorer,
        bits=16,
        check=noted("bits = 16", bits=8),
        why="16 bits → the slider's 8",
    ),
    result(
        QuantizationExplorer,
        bits=1,
        magnitude=500.0,
        check=noted("magnitude = 500", bits=2, magnitude=100.0),
        why="1 bit and outlier 500 → 2 and 100",
    ),
    error(quantization_explorer, scheme="int4", name="scheme", why="unknown scheme"),
    error(quantization_explorer, scheme=None, name="scheme", why="None"),
    error(quantization_explorer, bits=8.0, raises=TypeError, name="bits", why="float bits"),
    error(quantization_explorer, magnitude=float("inf"), name="magnitude", why="inf outlier"),
    error(
        quantization_explorer, magnitude="big", raises=TypeError, name="magnitude", why="a string"
    ),
]
