"""The tf.keras 2.x progress bar: ``1500/1500 [====...====] - 2s 1ms/step - loss: 0.3303``.

On a terminal (or in a notebook) the line is redrawn in place, at most every 0.05 s. When
output goes to a file or a pipe, only the final line of each bar is written: no ``\\r``,
no ``\\b``, no colour codes, so logs stay clean.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Iterable


def dynamic_display(stream: Any = None) -> bool:
    """True on a real terminal or inside a Jupyter kernel."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool((isatty and isatty()) or "ipykernel" in sys.modules)


def format_time(seconds: float, unit: str) -> str:
    """' 3ms/step', ' 2s/epoch', ' 850us/step' as Keras writes them."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


def format_value(v: Any) -> str:
    """4 decimals, or scientific notation for tiny values (|v| <= 1e-3)."""
    if isinstance(v, str):
        return v
    v = float(v)
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


class Progbar:
    """A progress bar for `target` steps.

    update(current, values) takes (name, value) pairs: values are averaged over the steps
    they were given for, except names in `stateful_metrics`, shown as given.
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 unit_name: str = "step", stream: Any = None):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self.stream = stream or sys.stdout
        self._dynamic = dynamic_display(self.stream)
        self._values: dict[str, Any] = {}
        self._seen = 0
        self._total_width = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None

    def update(self, current: int, values: Iterable | None = None,
               finalize: bool | None = None) -> None:
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or ():
            if k in self.stateful_metrics:
                self._values[k] = v
            else:   # running mean, weighted by the number of steps since the last update
                steps = max(current - self._seen, 1)
                total, count = self._values.get(k, (0.0, 0))
                self._values[k] = (total + float(v) * steps, count + steps)
        self._seen = current
        now = time.time()
        if current == 1 and self._time_after_first_step is None:
            self._time_after_first_step = now
        if self.verbose == 1:
            if not finalize and (not self._dynamic or now - self._last_update < self.interval):
                return
            self._write_bar_line(current, now, finalize)
        elif self.verbose == 2 and finalize:
            self._write(self._counter(current) + f" - {now - self._start:.0f}s"
                        + self._metrics() + self._epoch_times(now) + "\n")
        self._last_update = now

    def add(self, n: int, values: Iterable | None = None) -> None:
        self.update(self._seen + n, values)

    # ---------------------------------------------------------------- pieces
    def _counter(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(self.target)) + 1 if self.target > 0 else 1
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current: int) -> str:
        if self.target is None:
            return self._counter(current)
        filled = int(self.width * current / self.target) if self.target else self.width
        bar = "=" * max(filled - 1, 0)
        if filled > 0:
            bar += ">" if current < self.target else "="
        return f"{self._counter(current)} [{bar}{'.' * (self.width - filled)}]"

    def _step_time(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        return (now - self._start) / current

    def _metrics(self) -> str:
        out = ""
        for k, v in self._values.items():
            if isinstance(v, tuple):
                v = v[0] / max(1, v[1])
            out += f" - {k}: {format_value(v)}"
        return out

    def _epoch_times(self, now: float) -> str:
        elapsed = now - self._start
        steps = self.target or max(self._seen, 1)
        return " -" + format_time(elapsed, "epoch") + " -" + format_time(elapsed / steps,
                                                                          self.unit_name)

    def _write_bar_line(self, current: int, now: float, finalize: bool) -> None:
        prev = self._total_width
        prefix = ("\b" * prev + "\r") if (self._dynamic and prev) else ("\r" if self._dynamic else "")
        bar = self._bar(current)
        per_step = self._step_time(current, now)
        if self.target is None or finalize:
            info = f" - {now - self._start:.0f}s" + format_time(per_step, self.unit_name)
        else:
            eta = per_step * (self.target - current)
            if eta > 3600:
                eta_text = f"{eta // 3600:.0f}:{(eta % 3600) // 60:02.0f}:{eta % 60:02.0f}"
            elif eta > 60:
                eta_text = f"{eta // 60:.0f}:{eta % 60:02.0f}"
            else:
                eta_text = f"{eta:.0f}s"
            info = f" - ETA: {eta_text}"
        info += self._metrics()
        self._total_width = len(bar) + len(info)
        if self._dynamic and prev > self._total_width:
            info += " " * (prev - self._total_width)
        self._write(prefix + bar + info + ("\n" if finalize else ""))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
