"""Progress bars for long work, shown only where someone is watching.

The CLI turns them on when stderr is a terminal and -q is not given; piped, redirected or quiet runs,
and the Python API unless :func:`enable` is called, show nothing. A bar has a total wherever the total
is known before the work (articles in the inputs, rows of a table, training steps), so it shows the
rate and the time left.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

_enabled = False


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def bar(total: int | Callable[[], int] | None, unit: str, description: str | None = None):
    """A tqdm bar on stderr (a context manager with ``update(n)``), disabled unless :func:`enable` was called.

    ``total`` may be a function: it is called only when the bar is shown (counting the articles of a large
    folder, or the rows of a large table, takes a moment that a piped run need not spend)."""
    from tqdm import tqdm

    if callable(total):
        total = total() if _enabled else None
    return tqdm(total=total, unit=unit, desc=description, disable=not _enabled, file=sys.stderr, dynamic_ncols=True, leave=False)
