"""``progress(iterable)``: an ipywidgets progress bar for loops that take more than a few seconds.

Pass it to :func:`tutor_lib.measure.sweep` as ``progress=progress``. The bar is displayed once,
before the first item, with ``value=0``; its text repr at that moment is deterministic, so a notebook that
shows it still passes strict nbval. Outside a Jupyter kernel (pytest, a plain script) nothing is
displayed and the items simply pass through.

The items are consumed lazily, one at a time, so a generator (or an endless iterator) works: with no
``len()`` the total is unknown, the bar's maximum doubles whenever it is reached and its
description counts the finished items.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized

import ipywidgets as widgets

from tutor_lib._validate import check_bool

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
        if isinstance(iterable, (str, bytes)) or not isinstance(iterable, Iterable):
            raise TypeError(f"iterable must be a list, range or generator, got {iterable!r}")
        if not isinstance(description, str):
            raise TypeError(f"description must be a str, got {type(description).__name__}")
        if show is not None:
            show = check_bool(show, "show")
        self.items = iterable
        self.total = len(iterable) if isinstance(iterable, Sized) else None  # None: unknown
        self.description = description
        self.bar = widgets.IntProgress(
            value=0, min=0, max=max(self.total or 1, 1), description=description
        )
        self.show = in_kernel() if show is None else show

    def __len__(self) -> int:
        if self.total is None:
            raise TypeError("progress over a generator has no len(): its total is unknown")
        return self.total

    def __iter__(self) -> Iterator:
        if self.show:
            from IPython.display import display

            display(self.bar)
        for item in self.items:
            yield item
            self.bar.value += 1
            if self.total is None:  # unknown total: count, and keep the bar from filling up
                if self.bar.value >= self.bar.max:
                    self.bar.max *= 2
                self.bar.description = f"{self.description} {self.bar.value}".strip()
        self.bar.bar_style = "success"


def progress(iterable: Iterable, *, description: str = "", show: bool | None = None) -> Progress:
    """Wrap ``iterable`` in a :class:`Progress` bar (by default shown only inside a kernel)."""
    return Progress(iterable, description=description, show=show)
