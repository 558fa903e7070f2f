"""Memory, measured: what numpy allocates, and what torch autograd saves for the backward pass.

* :func:`peak_bytes` uses ``tracemalloc``: it sees **numpy** allocations, not torch's (torch
  allocates outside Python's tracked allocators), so measure memory on numpy code.
* :func:`saved_bytes` counts what **torch autograd** keeps for the backward pass
  (``torch.autograd.graph.saved_tensors_hooks``): the memory training needs on top of inference;
  :func:`saved_tensors` lists it tensor by tensor, with the operation that saved each.

What torch's operators allocate (``torch.profiler``) is :func:`tutor_lib.measure.allocated_bytes`.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["peak_bytes", "SavedTensor", "saved_tensors", "saved_bytes"]


def peak_bytes(fn: Callable, *args, **kwargs) -> int:
    """Peak bytes allocated (and traced by ``tracemalloc``) while ``fn(*args, **kwargs)`` runs.

    Measured from the memory in use when the call starts, so the inputs do not count but every
    temporary does, including the result. The result itself is discarded.

    **numpy allocations are traced, torch's are not**: a 64 MiB numpy array shows 64 MiB, a 64 MiB
    torch tensor shows about 0. Python objects (lists, floats) are traced too, including those of
    other threads (a notebook kernel's I/O threads add a few KiB of noise). If tracing is already on
    (someone called ``tracemalloc.start()``), it is left on and only its peak is reset.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - start)


@dataclass(frozen=True)
class SavedTensor:
    """One storage autograd keeps for backward: the torch function that saved it first (as called
    from Python: ``linear``, ``softmax``, ``__matmul__``…, or ``"?"`` outside any), the shape and
    dtype of the tensor saved, and the bytes of its whole storage."""

    op: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    nbytes: int


class _OpLabel(TorchFunctionMode):
    """Remembers the outermost torch function running (torch disables the mode inside it)."""

    current = "?"

    def __torch_function__(self, func, types, args=(), kwargs=None):
        outer, self.current = self.current, getattr(func, "__name__", str(func))
        try:
            return func(*args, **(kwargs or {}))
        finally:
            self.current = outer


def _storage_key(t: torch.Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def _collect_saved(fn: Callable, args, kwargs, exclude, *, label_ops: bool) -> list[SavedTensor]:
    """The one implementation behind :func:`saved_tensors` and :func:`saved_bytes`."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(exclude, torch.Tensor):
        exclude = (exclude,)
    try:
        excluded = {_storage_key(t) for t in exclude}
    except (TypeError, AttributeError):
        raise TypeError(
            "exclude must be an iterable of tensors (e.g. model.parameters())"
        ) from None
    found: dict[tuple[int, int], tuple[SavedTensor, torch.UntypedStorage]] = {}
    label = _OpLabel()

    def pack(t: torch.Tensor):
        key = _storage_key(t)
        if key not in excluded and key not in found:
            record = SavedTensor(label.current, tuple(t.shape), t.dtype, key[1])
            found[key] = (record, t.untyped_storage())  # the storage stays alive: no reuse
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if label_ops:
            with label:
                fn(*args, **kwargs)
        else:
            fn(*args, **kwargs)
    return [record for record, _ in found.values()]


def saved_tensors(fn: Callable, *args, exclude: Iterable = (), **kwargs) -> list[SavedTensor]:
    """The storages torch autograd saves for backward while ``fn(*args, **kwargs)`` runs, in the
    order they are first saved, one :class:`SavedTensor` each.

    Seen with ``torch.autograd.graph.saved_tensors_hooks``. A storage counts once however many
    operations save it or views of it (``x`` used by two matmuls; q, k, v sliced from one tensor);
    every saved storage is kept alive until ``fn`` returns, so a freed one's address cannot be reused
    and merged with another. Storages of the tensors in ``exclude`` (e.g. ``model.parameters()``:
    weights are not activations) are left out. Something must require grad, otherwise nothing is
    saved. The op labels come from a ``TorchFunctionMode`` (the call runs a little slower).
    """
    return _collect_saved(fn, args, kwargs, exclude, label_ops=True)


def saved_bytes(fn: Callable, *args, exclude: Iterable = (), **kwargs) -> int:
    """Bytes of the tensors torch autograd saves for backward while ``fn(*args, **kwargs)`` runs.

    The sum over what :func:`saved_tensors` lists (without its op labels, so a little faster): each
    storage counts once, however many operations save it (``x`` used by two matmuls is stored once);
    saved inputs and weights count too, unless passed in ``exclude`` (``exclude=model.parameters()``
    counts the activations only). Something must require grad, otherwise nothing is saved and the
    result is 0.
    """
    records = _collect_saved(fn, args, kwargs, exclude, label_ops=False)
    return sum(record.nbytes for record in records)
