"""Bad inputs for tutor_lib.training_memory (and measure.saved_tensors, whose sum
training_memory.saved_tensor_bytes is)."""

import torch
from torch import nn

from bad_input_rows import error, result
from tutor_lib.limits import TooLargeError
from tutor_lib.measure import SavedTensor, saved_tensors
from tutor_lib.training_memory import (
    AttentionSublayer,
    CheckpointedStack,
    MLPSublayer,
    ReversibleBlock,
    ReversibleStack,
    TransformerBlock,
    as_blocks,
    reversible_forward,
    reversible_inverse,
    saved_tensor_bytes,
)

_X = torch.ones(1, 3, 4)


def _block() -> ReversibleBlock:
    return ReversibleBlock(nn.Linear(4, 4), nn.Linear(4, 4))


ROWS = [
    error(saved_tensor_bytes, "exp", raises=TypeError, name="fn", why="not callable"),
    error(
        saved_tensor_bytes, torch.exp, _X, exclude=3, raises=TypeError, name="exclude", why="int"
    ),
    result(saved_tensor_bytes, torch.exp, _X, check=lambda v: v == 0, why="nothing needs grad"),
    error(saved_tensors, None, raises=TypeError, name="fn", why="None"),
    result(
        SavedTensor,
        "exp",
        (3,),
        torch.float32,
        12,
        check=lambda v: v.nbytes == 12,
        why="a plain record (made by saved_tensors)",
    ),
    result(saved_tensors, torch.exp, _X, check=lambda v: v == [], why="no grad: empty list"),
    error(AttentionSublayer, 6, 4, name="d_model", why="not divisible by num_heads"),
    error(AttentionSublayer, 8, 0, name="num_heads", why="zero heads"),
    error(AttentionSublayer, 8, 2, dropout=1.0, name="dropout", why="p = 1"),
    error(AttentionSublayer, 8, 2, fused="yes", raises=TypeError, name="fused", why="string"),
    error(AttentionSublayer(4, 2).forward, torch.ones(3, 4), name="x", why="2-D input"),
    error(
        AttentionSublayer(4, 2).forward,
        torch.ones(1, 3, 4, dtype=torch.long),
        raises=TypeError,
        name="x",
        why="integer input",
    ),
    error(
        AttentionSublayer(4, 2).forward,
        torch.full((1, 3, 4), float("nan")),
        name="x",
        why="NaN input",
    ),
    error(MLPSublayer, 8, 0, name="d_ff", why="zero width"),
    error(MLPSublayer, 8, dropout="0.1", raises=TypeError, name="dropout", why="string"),
    error(MLPSublayer(4).forward, torch.ones(1, 3, 5), name="x", why="wrong width"),
    error(TransformerBlock, 8, 3, name="d_model", why="not divisible"),
    error(TransformerBlock, 8, 2, dropout=-0.1, name="dropout", why="negative"),
    error(as_blocks, [], name="blocks", why="empty"),
    error(as_blocks, nn.Linear(2, 2), raises=TypeError, name="blocks", why="one module"),
    error(
        as_blocks, [nn.Linear(2, 2), "x"], raises=TypeError, name="blocks[1]", why="not a module"
    ),
    error(CheckpointedStack, [nn.Linear(2, 2)], every=0, name="every", why="zero"),
    error(
        CheckpointedStack, [nn.Linear(2, 2)], every=1.5, raises=TypeError, name="every", why="float"
    ),
    error(CheckpointedStack([nn.Linear(2, 2)]).forward, name="input", why="no inputs"),
    result(
        CheckpointedStack([nn.Identity()], every=5).forward,
        _X,
        check=lambda v: torch.equal(v, _X),
        why="every > depth: one segment",
    ),
    error(ReversibleBlock, lambda t: t, nn.Identity(), raises=TypeError, name="f", why="lambda"),
    error(ReversibleBlock, nn.Identity(), None, raises=TypeError, name="g", why="None"),
    error(_block().forward, _X, torch.ones(1, 3, 5), name="x1 and x2", why="shapes differ"),
    error(
        ReversibleStack, [nn.Linear(4, 4)], raises=TypeError, name="blocks[0]", why="not reversible"
    ),
    error(ReversibleStack, [], name="blocks", why="empty"),
    error(
        ReversibleStack([_block()]).forward, _X, _X.double(), name="x1 and x2", why="dtypes differ"
    ),
    error(ReversibleStack([_block()]).inverse, _X, "y", raises=TypeError, name="y2", why="string"),
    error(
        reversible_forward, 3, torch.sin, _X, _X, raises=TypeError, name="f", why="f not callable"
    ),
    error(reversible_forward, torch.sin, torch.sin, _X, _X[:, :2], name="x1 and x2", why="shapes"),
    error(reversible_inverse, torch.sin, None, _X, _X, raises=TypeError, name="g", why="g None"),
    error(
        reversible_inverse,
        torch.sin,
        torch.sin,
        _X,
        [1.0],
        raises=TypeError,
        name="y2",
        why="a list",
    ),
    # issue-10 conformance: parameter bytes, dtypes, couplings of the wrong shape
    error(
        AttentionSublayer,
        10**6,
        1,
        raises=TooLargeError,
        name="AttentionSublayer",
        why="4·10¹² parameters",
    ),
    error(MLPSublayer, 10**5, 10**6, raises=TooLargeError, name="MLPSublayer", why="800 GB"),
    error(
        AttentionSublayer(4, 2).forward,
        _X.double(),
        raises=TypeError,
        name="x",
        why="float64 input, float32 weights",
    ),
    error(MLPSublayer(4).forward, _X.half(), raises=TypeError, name="x", why="fp16 input"),
    error(
        reversible_forward,
        lambda t: t.sum(),
        torch.sin,
        _X,
        _X,
        raises=TypeError,
        name="f",
        why="f returns a scalar (broadcast)",
    ),
    error(
        reversible_forward,
        torch.sin,
        lambda t: "y",
        _X,
        _X,
        raises=TypeError,
        name="g",
        why="g returns a string",
    ),
    error(
        reversible_inverse,
        lambda t: t[..., :2],
        torch.sin,
        _X,
        _X,
        raises=TypeError,
        name="f",
        why="f changes the shape",
    ),
    error(
        ReversibleStack([ReversibleBlock(nn.Linear(4, 2), nn.Linear(4, 4))]).forward,
        _X,
        _X,
        raises=TypeError,
        name="blocks[0].f",
        why="a block whose f changes the width",
    ),
    error(
        AttentionSublayer(4, 2, dropout=0.1, fused=True).forward,
        torch.ones(1, 10**5, 4),
        raises=TooLargeError,
        name="AttentionSublayer",
        why="fused, but dropout in training: SDPA's n × n path",
    ),
    result(
        AttentionSublayer(4, 2, fused=True).forward,
        torch.ones(1, 15_000, 4),
        check=lambda y: y.shape == (1, 15_000, 4),
        why="fused, no dropout: no n × n tensor, so no guard (the explicit path needs 5 GiB)",
    ),
]
