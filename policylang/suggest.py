"""Did-you-mean: the closest known name to a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word`, or None when nothing is close enough."""
    pool = list(dict.fromkeys(candidates))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return lowered[word.lower()]
    prefixed = [c for c in pool if c.startswith(word) or word.startswith(c)]
    return prefixed[0] if len(prefixed) == 1 and len(word) >= 3 else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint `did you mean X?`, or None."""
    best = closest(word, candidates)
    return f"did you mean {best}?" if best is not None else None
