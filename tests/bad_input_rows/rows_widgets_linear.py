"""Bad builder arguments for tutor_lib.widgets.linear (lesson 06's Performer explorer)."""

from bad_input_rows import error, noted, result
from tutor_lib.widgets.linear import PerformerExplorer, performer_explorer

ROWS = [
    result(
        performer_explorer,
        num_features=100,
        check=noted("num_features = 100", num_features=128),
        why="m = 100 → the nearest choice, 128",
    ),
    result(
        PerformerExplorer,
        seed=99,
        sigma=0.3,
        check=noted("seed = 99", seed=20, sigma=0.25),
        why="seed above the slider, σ off the choices",
    ),
    error(performer_explorer, num_features=0, name="num_features", why="no features"),
    error(performer_explorer, num_features="64", raises=TypeError, name="num_features", why="str"),
    error(performer_explorer, sigma=float("nan"), name="sigma", why="NaN σ"),
    error(performer_explorer, seed=1.5, raises=TypeError, name="seed", why="float seed"),
    error(performer_explorer, orthogonal="no", raises=TypeError, name="orthogonal", why='"no"'),
    error(PerformerExplorer, m=64, raises=TypeError, name="'m'", why="a misspelt keyword"),
    result(
        performer_explorer,
        orthogonal=False,
        check=lambda e: e.error is None and e.controls["orthogonal"].value is False,
        why="i.i.d. features from the start",
    ),
]
