"""A plain-text progress bar for the terminal (no dependency): ``for step in ProgressBar(steps): ...``.

In a terminal (stderr is a TTY) one line is redrawn in place::

    compare [##########----------------]  38%  n = 8192: round 2/5  (1:12 elapsed, ~1:58 left)

Steps with a ``cost`` attribute (estimated seconds, e.g. ``tutor_lib.compare.Step``) advance the
bar by their share of the total cost, so a long step moves it further than a short one; other items
count 1 each. When stderr is not a terminal (a log file, CI), a line is printed at every tenth of
the work instead, so logs stay short.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterable, Iterator


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}:{seconds:02d}"


class ProgressBar:
    """Wrap ``items`` (a list) and draw the bar on ``stream`` (default: stderr) while iterating."""

    def __init__(self, items: Iterable, title: str = "", *, stream=None, width: int = 28):
        self.items = list(items)
        self.title = title
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.costs = [float(getattr(item, "cost", 1.0)) for item in self.items]
        self.total = sum(self.costs) or 1.0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self._last_tenth = -1

    def line(self, done: float, label: str) -> str:
        """The bar's text after ``done`` (cost) of the work, while ``label`` runs."""
        fraction = min(1.0, done / self.total)
        filled = int(round(fraction * self.width))
        elapsed = time.perf_counter() - self.start
        timing = f"{_clock(elapsed)} elapsed"
        if 0.02 < fraction < 1:
            timing += f", ~{_clock(elapsed * (1 - fraction) / fraction)} left"
        bar = "#" * filled + "-" * (self.width - filled)
        return f"{self.title} [{bar}] {fraction:4.0%}  {label}  ({timing})"

    def _draw(self, done: float, label: str) -> None:
        text = self.line(done, label)
        if self.tty:
            columns = shutil.get_terminal_size((100, 20)).columns
            self.stream.write("\r" + text[: columns - 1].ljust(columns - 1))
        else:
            tenth = int(10 * done / self.total)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(text + "\n")
        self.stream.flush()

    def __iter__(self) -> Iterator:
        done = 0.0
        for item, cost in zip(self.items, self.costs, strict=True):
            self._draw(done, str(item))
            yield item
            done += cost
        self._draw(done, "done")
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def __len__(self) -> int:
        return len(self.items)
