"""matplotlib, imported only when a plot is asked for (it is an optional extra).

Every plot function of ``mitbadak.lab`` starts with ``plt = pyplot()``: the data functions
work without matplotlib, and a plot without it fails with the one line that fixes it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

INSTALL_HINT = ('plotting needs matplotlib: pip install "mitbadak[plot]" '
                '(or pip install matplotlib). The data functions work without it.')


def pyplot() -> Any:
    """``matplotlib.pyplot``, on the non-interactive Agg backend when no display exists."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    headless = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                and not os.environ.get("WAYLAND_DISPLAY"))
    # Only choose before pyplot picks a backend, and never override one the user set
    # (MPLBACKEND, e.g. a notebook's inline backend).
    if headless and "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def finish(fig: Any, path: Any = None) -> Any:
    """Tidy the layout, save a PNG when a path is given (folders are created), return fig."""
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig
