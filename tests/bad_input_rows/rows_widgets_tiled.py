"""Bad builder arguments for tutor_lib.widgets.tiled (lesson 05's stepper and HBM explorer)."""

from bad_input_rows import error, noted, result
from tutor_lib.widgets.tiled import (
    HbmTrafficExplorer,
    OnlineSoftmaxStepper,
    hbm_traffic_explorer,
    online_softmax_stepper,
)

ROWS = [
    result(
        online_softmax_stepper,
        block=0,
        step=99,
        check=noted("block = 0", block_slider=1, step_slider=16),
        why="block 0 → 1, step 99 → 16",
    ),
    result(
        OnlineSoftmaxStepper,
        seed=-1,
        check=noted("seed = -1", seed_slider=0),
        why="negative seed → 0",
    ),
    error(online_softmax_stepper, block=2.5, raises=TypeError, name="block", why="float block"),
    error(online_softmax_stepper, causal="yes", raises=TypeError, name="causal", why='"yes"'),
    result(
        hbm_traffic_explorer,
        sram_kib=100_000,
        n=5000,
        check=noted("using 1024", sram_slider=1024, n_slider=4096),
        why="SRAM 100 000 KiB → 1024, n 5000 → 4096",
    ),
    result(
        HbmTrafficExplorer,
        d=100,
        check=noted("d = 100", d_slider=128),
        why="d 100 → 128",
    ),
    error(hbm_traffic_explorer, d=0, name="d", why="d = 0"),
    error(hbm_traffic_explorer, n="4k", raises=TypeError, name="n", why="a string n"),
]
