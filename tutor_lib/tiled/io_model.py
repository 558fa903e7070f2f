"""The IO model of FlashAttention (Dao et al. 2022, §3.2): how many numbers move between slow memory
(HBM on a GPU) and fast on-chip memory (SRAM, size M numbers) for one head of attention.

* :func:`standard_hbm_accesses` — the paper's Algorithm 0: S = QKᵀ is written to HBM, read back
  for the softmax, P written and read again for PV: ``4·n·d + 4·n²`` numbers, Θ(nd + n²);
* :func:`flash_hbm_accesses` — Algorithm 1 counted line by line: K and V are read once, and for
  each of the ``T_c = ⌈n / B_c⌉`` key blocks every query block reads Q_i, O_i, ℓ_i, m_i and writes
  O_i, ℓ_i, m_i: ``n·d + 2n + 2·n·d + T_c·(3·n·d + 4·n)``; with ``B_c ≈ M / (4d)`` this is
  Θ(n²d² / M);
* :func:`flash_block_sizes` — Algorithm 1's tile sizes for on-chip memory M;
* :func:`tile_working_set_bytes` — the bytes one tile step holds on chip, and
  :func:`largest_square_tile`, the largest b × b tile whose step fits in a given on-chip memory.

Counts are numbers (elements), not bytes; multiply by the bytes per value for bytes.
"""

from __future__ import annotations

from tutor_lib._validate import check_int

__all__ = [
    "flash_block_sizes",
    "flash_hbm_accesses",
    "largest_square_tile",
    "standard_hbm_accesses",
    "tile_working_set_bytes",
]


def standard_hbm_accesses(n: int, d: int) -> int:
    """Numbers read + written by standard attention (Algorithm 0): ``4nd + 4n²``.

    Read Q, K (2nd), write S (n²); read S, write P (2n²); read P and V, write O (n² + 2nd).
    """
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    return 4 * n * d + 4 * n * n


def flash_block_sizes(d: int, sram: int) -> tuple[int, int]:
    """``(B_r, B_c)``: query and key block sizes of Algorithm 1 for on-chip memory ``sram`` numbers.

    ``B_c = ⌊M / 4d⌋`` (the paper writes ⌈M/4d⌉; we round down so that the tiles fit),
    ``B_r = min(B_c, d)``. Needs M ≥ 4d (one row of each of Q, K, V, O).
    """
    d = check_int(d, "d", minimum=1)
    sram = check_int(sram, "sram", minimum=1)
    if sram < 4 * d:
        raise ValueError(f"sram must hold at least 4·d = {4 * d} numbers, got {sram}")
    block_k = sram // (4 * d)
    return min(block_k, d), block_k


def flash_hbm_accesses(n: int, d: int, sram: int) -> int:
    """Numbers read + written by FlashAttention's forward pass (Algorithm 1), counted line by line.

    Initialise O, ℓ, m in HBM (nd + 2n writes); read every K_j, V_j once (2nd); for each of the
    T_c = ⌈n / B_c⌉ key blocks, read all Q_i, O_i, ℓ_i, m_i (2nd + 2n) and write O_i, ℓ_i, m_i
    (nd + 2n). Grows as n²d²/M once T_c > 1.
    """
    n = check_int(n, "n", minimum=1)
    _, block_k = flash_block_sizes(d, sram)
    passes = -(-n // block_k)  # T_c
    return n * d + 2 * n + 2 * n * d + passes * (3 * n * d + 4 * n)


def tile_working_set_bytes(
    block_q: int, block_k: int, d_k: int, d_v: int, bytes_per_value: int = 4
) -> int:
    """Bytes one tile step keeps on chip: Q_i (B_q·d_k), K_j (B_k·d_k), V_j (B_k·d_v), the output
    accumulator (B_q·d_v), the score/probability tile (B_q·B_k) and m, ℓ (2·B_q)."""
    block_q = check_int(block_q, "block_q", minimum=1)
    block_k = check_int(block_k, "block_k", minimum=1)
    d_k, d_v = check_int(d_k, "d_k", minimum=1), check_int(d_v, "d_v", minimum=1)
    bytes_per_value = check_int(bytes_per_value, "bytes_per_value", minimum=1)
    numbers = (
        block_q * d_k + block_k * (d_k + d_v) + block_q * d_v + block_q * block_k + 2 * block_q
    )
    return numbers * bytes_per_value


def largest_square_tile(sram_bytes: int, d: int, bytes_per_value: int = 4) -> int:
    """The largest b such that a b × b tile step (:func:`tile_working_set_bytes` with
    B_q = B_k = b, d_k = d_v = d) fits in ``sram_bytes``; 0 if not even b = 1 fits."""
    sram_bytes = check_int(sram_bytes, "sram_bytes", minimum=0)
    d = check_int(d, "d", minimum=1)
    bytes_per_value = check_int(bytes_per_value, "bytes_per_value", minimum=1)
    # (b² + (4d + 2)·b)·bytes ≤ M  ⇔  b ≤ −(2d + 1) + √((2d + 1)² + M / bytes)
    budget = sram_bytes // bytes_per_value
    b = int((-(2 * d + 1)) + ((2 * d + 1) ** 2 + budget) ** 0.5)
    while b > 0 and tile_working_set_bytes(b, b, d, d, bytes_per_value) > sram_bytes:
        b -= 1  # the square root may round up
    while tile_working_set_bytes(b + 1, b + 1, d, d, bytes_per_value) <= sram_bytes:
        b += 1  # or down
    return max(b, 0)
