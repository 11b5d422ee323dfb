"""Helpers for names in error messages."""
from __future__ import annotations

import difflib
from typing import Iterable


def closest(name: str, valid: Iterable[str]) -> str:
    """'Did you mean 'relu'? ' for a near miss, '' when nothing is close."""
    valid = list(valid)
    lowered = {v.lower(): v for v in valid}
    if name.lower() in lowered:
        return f"Did you mean {lowered[name.lower()]!r}? "
    match = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f"Did you mean {match[0]!r}? " if match else ""
