"""tutor_lib.training_memory (and measure.saved_tensors/saved_bytes): saved bytes on hand-checked
graphs; the op-by-op block against SDPA; checkpointing (bit-identical gradients, one stored input per
segment, exactly one extra forward); reversible stacks (inverse in float64 / float32 with a depth-
scaled tolerance, gradients == plain autograd with dropout, a negative control without RNG replay,
constant saved bytes, exactly one extra forward)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import tutor_lib.measure as measure
from tutor_lib.measure import count_flops, saved_tensors
from tutor_lib.training_memory import (
    AttentionSublayer,
    CheckpointedStack,
    MLPSublayer,
    ReversibleBlock,
    ReversibleStack,
    TransformerBlock,
    reversible_forward,
    reversible_inverse,
    saved_tensor_bytes,
)

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one thread is faster, and much faster on a shared, busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _params(*modules) -> list[torch.Tensor]:
    return [p for m in modules for p in m.parameters()]


# -- saved bytes on small graphs -----------------------------------------------------------------


def test_saved_tensor_bytes_is_measure_saved_bytes():
    assert saved_tensor_bytes is measure.saved_bytes


def test_a_matmul_of_two_grad_requiring_inputs_saves_both():
    x = torch.randn(30, 20, dtype=F64, requires_grad=True)
    w = torch.randn(20, 10, dtype=F64, requires_grad=True)
    assert saved_tensor_bytes(torch.matmul, x, w) == 8 * (30 * 20 + 20 * 10)
    records = saved_tensors(torch.matmul, x, w)
    assert sorted((r.op, r.shape, r.nbytes) for r in records) == [
        ("matmul", (20, 10), 1600),
        ("matmul", (30, 20), 4800),
    ]
    assert saved_tensor_bytes(torch.matmul, x, w, exclude=[w]) == 4800  # weights left out
    assert saved_tensor_bytes(torch.matmul, x, w, exclude=w) == 4800  # one tensor is fine too


def test_the_same_storage_counts_once():
    x = torch.randn(6, 4, requires_grad=True)

    def halves(t):
        y = t * 2  # a (6, 4) non-leaf; its two halves are views of one storage
        return y[:, :2] * y[:, 2:]  # mul saves both views

    assert saved_tensor_bytes(halves, x) == 6 * 4 * 4
    assert saved_tensor_bytes(lambda t: t * t, x) == 6 * 4 * 4
    assert saved_tensor_bytes(lambda t: t.exp() * t, x) == 2 * 6 * 4 * 4  # exp's output + x


def test_a_freed_storage_is_not_merged_with_a_later_one():
    x = torch.randn(1000, requires_grad=True)

    def two_graphs(t):
        torch.exp(t + 1)  # saved, then the graph is dropped at once
        return torch.exp(t + 2)

    # without keeping storages alive, the second exp often reuses the first one's address
    assert saved_tensor_bytes(two_graphs, x) == 2 * 1000 * 4


def test_nothing_is_saved_without_grad_and_weights_can_be_excluded():
    layer = nn.Linear(8, 3).double()
    x = torch.randn(5, 8, dtype=F64)
    # the weight's gradient needs x; the weight itself is needed only for x's gradient
    assert saved_tensor_bytes(layer, x) == x.nbytes
    x.requires_grad_()
    assert saved_tensor_bytes(layer, x) == x.nbytes + layer.weight.nbytes
    assert saved_tensor_bytes(layer, x, exclude=layer.parameters()) == x.nbytes
    with torch.no_grad():
        assert saved_tensor_bytes(layer, x) == 0
    with pytest.raises(TypeError, match="exclude"):
        saved_tensor_bytes(layer, x, exclude=[1, 2])


# -- the block -----------------------------------------------------------------------------------


@pytest.mark.parametrize("b, n, d, heads", [(2, 7, 12, 3), (1, 1, 4, 1), (3, 16, 8, 8)])
def test_explicit_attention_equals_sdpa_and_is_causal(b, n, d, heads):
    torch.manual_seed(0)
    explicit = AttentionSublayer(d, heads).double()
    fused = AttentionSublayer(d, heads, fused=True).double()
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(b, n, d, dtype=F64)
    out = explicit(x)
    torch.testing.assert_close(out, fused(x), rtol=0, atol=1e-12)
    changed = x.clone()
    changed[:, -1] += torch.randn(b, d, dtype=F64)  # the last token must not change earlier ones
    torch.testing.assert_close(explicit(changed)[:, :-1], out[:, :-1], rtol=0, atol=1e-12)
    assert n == 1 or not torch.allclose(explicit(changed)[:, -1], out[:, -1])


def test_dropout_is_off_in_eval_and_on_in_training():
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, dropout=0.5).double()
    x = torch.randn(2, 5, 8, dtype=F64)
    block.eval()
    torch.testing.assert_close(block(x), block(x), rtol=0, atol=0)
    block.train()
    assert not torch.equal(block(x), block(x))


def test_the_fused_kernel_saves_no_n_by_n_tensor():
    torch.manual_seed(0)
    b, n, d, heads = 1, 32, 16, 2
    x = torch.randn(b, n, d, requires_grad=True)
    for fused, expect_square in ((False, True), (True, False)):
        block = TransformerBlock(d, heads, fused=fused)
        shapes = [r.shape for r in saved_tensors(block, x, exclude=block.parameters())]
        assert any(s[-2:] == (n, n) for s in shapes) is expect_square


# -- checkpointing -------------------------------------------------------------------------------


def _grads(module, *inputs, seed=3):
    for t in (*inputs, *module.parameters()):
        t.grad = None
    torch.manual_seed(seed)
    out = module(*inputs)
    out = out if isinstance(out, tuple) else (out,)
    sum(
        (o * torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view_as(o)).sum() for o in out
    ).backward()
    after = torch.rand(1)  # the RNG stream after forward + backward
    return [t.grad.clone() for t in (*inputs, *module.parameters())], after


@pytest.mark.parametrize("every", [1, 2, 3, 5])
def test_checkpointed_gradients_are_bit_identical_and_fewer_bytes_are_saved(every):
    torch.manual_seed(0)
    layers, b, n, d = 5, 2, 6, 8
    blocks = [TransformerBlock(d, 2, dropout=0.2).double() for _ in range(layers)]
    x = torch.randn(b, n, d, dtype=F64, requires_grad=True)
    plain, ckpt = CheckpointedStack(blocks), CheckpointedStack(blocks, every=every)
    (g_plain, rng_plain), (g_ckpt, rng_ckpt) = _grads(plain, x), _grads(ckpt, x)
    assert all(torch.equal(a, c) for a, c in zip(g_plain, g_ckpt, strict=True))
    assert torch.equal(rng_plain, rng_ckpt)
    params = _params(*blocks)
    saved_plain = saved_tensor_bytes(plain, x, exclude=params)
    saved_ckpt = saved_tensor_bytes(ckpt, x, exclude=params)
    assert saved_ckpt == math.ceil(layers / every) * x.nbytes  # one input per segment
    assert saved_plain > 10 * saved_ckpt
    assert len(ckpt.segments()) == math.ceil(layers / every)


def test_checkpointing_costs_one_extra_forward_minus_what_backward_does_not_need():
    torch.manual_seed(0)
    layers, b, n, d = 3, 2, 6, 8
    blocks = [TransformerBlock(d, 2) for _ in range(layers)]
    x = torch.randn(b, n, d, requires_grad=True)

    def step(stack):
        stack(x).sum().backward()

    forward = count_flops(CheckpointedStack(blocks), x)
    plain = count_flops(step, CheckpointedStack(blocks))
    # torch stops recomputing once it has every saved tensor back (early_stop=True): the last
    # matmul of each segment (fc2: its input is saved, its output is not needed) is skipped
    fc2 = 2 * b * n * (4 * d) * d
    for every in (1, 3):
        segments = math.ceil(layers / every)
        ckpt = count_flops(step, CheckpointedStack(blocks, every=every))
        assert ckpt == plain + forward - segments * fc2


# -- reversible blocks ---------------------------------------------------------------------------


def _reversible_blocks(layers, d=8, heads=2, dropout=0.0, dtype=F64, seed=1):
    torch.manual_seed(seed)
    blocks = [
        ReversibleBlock(
            AttentionSublayer(d, heads, dropout=dropout), MLPSublayer(d, dropout=dropout)
        )
        for _ in range(layers)
    ]
    return [block.to(dtype) for block in blocks]


def test_reversible_forward_and_inverse_functions_with_plain_callables():
    w = torch.randn(4, 4, dtype=F64)
    f, g = (lambda t: torch.tanh(t @ w)), torch.sin
    x1, x2 = torch.randn(3, 4, dtype=F64), torch.randn(3, 4, dtype=F64)
    y1, y2 = reversible_forward(f, g, x1, x2)
    torch.testing.assert_close(y1, x1 + f(x2), rtol=0, atol=0)
    torch.testing.assert_close(y2, x2 + g(x1 + f(x2)), rtol=0, atol=0)
    r1, r2 = reversible_inverse(f, g, y1, y2)
    assert max((r1 - x1).abs().max().item(), (r2 - x2).abs().max().item()) <= 1e-14
    # negative control: undoing the steps in the wrong order does not recover x1
    assert (y1 - f(y2) - x1).abs().max().item() > 1e-3


@pytest.mark.parametrize("layers", [1, 4, 16])
@pytest.mark.parametrize("dtype, tol_per_block", [(F64, 1e-13), (torch.float32, 1e-6)])
def test_the_inverse_reconstructs_the_inputs_within_a_depth_scaled_tolerance(
    layers, dtype, tol_per_block
):
    stack = ReversibleStack(_reversible_blocks(layers, dtype=dtype)).eval()
    torch.manual_seed(2)
    x1, x2 = torch.randn(2, 9, 8, dtype=dtype), torch.randn(2, 9, 8, dtype=dtype)
    with torch.no_grad():
        r1, r2 = stack.inverse(*stack(x1, x2))
    err = max((r1 - x1).abs().max().item(), (r2 - x2).abs().max().item())
    assert err <= tol_per_block * layers
    assert dtype == torch.float32 or err <= 1e-10


@pytest.mark.parametrize("layers, b, n", [(1, 1, 1), (3, 2, 5), (6, 1, 9)])
def test_reversible_gradients_equal_plain_autograd_with_dropout(layers, b, n):
    blocks = _reversible_blocks(layers, dropout=0.3)
    x1 = torch.randn(b, n, 8, dtype=F64, requires_grad=True)
    x2 = torch.randn(b, n, 8, dtype=F64, requires_grad=True)
    plain, rev = CheckpointedStack(blocks), ReversibleStack(blocks)
    torch.manual_seed(9)
    out_plain = plain(x1, x2)
    torch.manual_seed(9)
    out_rev = rev(x1, x2)
    assert all(torch.equal(a, c) for a, c in zip(out_plain, out_rev, strict=True))  # same ops
    (g_plain, rng_plain), (g_rev, rng_rev) = _grads(plain, x1, x2), _grads(rev, x1, x2)
    assert torch.equal(rng_plain, rng_rev)  # the replay leaves the RNG stream where it was
    err = max((a - c).abs().max().item() for a, c in zip(g_plain, g_rev, strict=True))
    assert err <= 1e-10


def test_without_rng_replay_dropout_gradients_are_wrong():
    """Negative control: the gradient test can fail."""
    blocks = _reversible_blocks(3, dropout=0.3)
    x1 = torch.randn(2, 5, 8, dtype=F64, requires_grad=True)
    x2 = torch.randn(2, 5, 8, dtype=F64, requires_grad=True)
    g_plain, _ = _grads(CheckpointedStack(blocks), x1, x2)
    g_bad, _ = _grads(ReversibleStack(blocks, preserve_rng_state=False), x1, x2)
    assert max((a - c).abs().max().item() for a, c in zip(g_plain, g_bad, strict=True)) > 1e-3


@pytest.mark.parametrize("layers", [1, 3, 8])
def test_a_reversible_stack_saves_two_tensors_whatever_the_depth(layers):
    stack = ReversibleStack(_reversible_blocks(layers, dropout=0.1))
    x1 = torch.randn(2, 6, 8, dtype=F64, requires_grad=True)
    x2 = torch.randn(2, 6, 8, dtype=F64, requires_grad=True)
    # no exclude: the weights are not saved either, only the final (y1, y2)
    assert saved_tensor_bytes(stack, x1, x2) == 2 * x1.nbytes
    plain = saved_tensor_bytes(CheckpointedStack(list(stack.blocks)), x1, x2)
    assert plain > 10 * layers * x1.nbytes


def test_reversible_costs_exactly_one_extra_forward_and_works_with_frozen_parts():
    blocks = _reversible_blocks(3, dtype=torch.float32)
    x1, x2 = torch.randn(2, 6, 8, requires_grad=True), torch.randn(2, 6, 8, requires_grad=True)

    def step(stack):
        y1, y2 = stack(x1, x2)
        (y1.sum() + y2.sum()).backward()

    forward = count_flops(CheckpointedStack(blocks), x1, x2)
    plain = count_flops(step, CheckpointedStack(blocks))
    assert count_flops(step, ReversibleStack(blocks)) == plain + forward
    # frozen weights and inputs without grad: gradients only where asked
    for p in blocks[0].parameters():
        p.requires_grad_(False)
    for t in (*_params(*blocks), x1, x2):
        t.grad = None
    y1, y2 = ReversibleStack(blocks)(x1.detach(), x2)
    (y1.sum() + y2.sum()).backward()
    assert x2.grad is not None and x1.grad is None
    assert all(p.grad is None for p in blocks[0].parameters())
    assert all(p.grad is not None for p in blocks[1].parameters())


def test_block_inverse_and_shape_checks():
    (block,) = _reversible_blocks(1)
    block.eval()
    x1, x2 = torch.randn(1, 4, 8, dtype=F64), torch.randn(1, 4, 8, dtype=F64)
    r1, r2 = block.inverse(*block(x1, x2))
    assert (r1 - x1).abs().max() < 1e-13 and (r2 - x2).abs().max() < 1e-13
    with pytest.raises(ValueError, match="x1 and x2"):
        block(x1, x2[:, :2])
    with pytest.raises(ValueError, match="x"):
        block(x1[..., :4], x2[..., :4])


class _Constant(nn.Module):
    """A sublayer that ignores its input (its gradient with respect to it is None, not zeros)."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.ones(8, dtype=F64))

    def forward(self, x):
        return self.bias.expand_as(x)


def test_a_sublayer_that_ignores_its_input():
    block = ReversibleBlock(_Constant(), MLPSublayer(8).double())
    x1 = torch.randn(1, 3, 8, dtype=F64, requires_grad=True)
    x2 = torch.randn(1, 3, 8, dtype=F64, requires_grad=True)
    g_plain, _ = _grads(CheckpointedStack([block]), x1, x2)
    g_rev, _ = _grads(ReversibleStack([block]), x1, x2)
    assert max((a - c).abs().max().item() for a, c in zip(g_plain, g_rev, strict=True)) <= 1e-12
