"""``progress(iterable)``: an ipywidgets progress bar for loops that take more than a few seconds.

Pass it to :func:`tutor_lib.measure.sweep` as ``progress=progress``. The bar is displayed once,
before the first item, with ``value=0``; its text repr at that moment is deterministic, so a notebook that
shows it still passes strict nbval. Outside a Jupyter kernel (pytest, a plain script) nothing is
displayed and the items simply pass through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import ipywidgets as widgets

__all__ = ["Progress", "progress", "in_kernel"]


def in_kernel() -> bool:
    """True when running inside an IPython kernel (a notebook), where widgets can be displayed."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """Iterate over ``items`` while an ``IntProgress`` bar (``.bar``) counts the finished items.

    ``show``: display the bar (default: only inside a kernel). The bar's value is raised after the
    work for an item is done, so it reads "finished items"; it turns green at the end.
    """

    def __init__(self, iterable: Iterable, *, description: str = "", show: bool | None = None):
        self.items = list(iterable)
        self.bar = widgets.IntProgress(
            value=0, min=0, max=max(len(self.items), 1), description=description
        )
        self.show = in_kernel() if show is None else bool(show)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator:
        if self.show:
            from IPython.display import display

            display(self.bar)
        for item in self.items:
            yield item
            self.bar.value += 1
        self.bar.bar_style = "success"


def progress(iterable: Iterable, *, description: str = "", show: bool | None = None) -> Progress:
    """Wrap ``iterable`` in a :class:`Progress` bar (by default shown only inside a kernel)."""
    return Progress(iterable, description=description, show=show)
