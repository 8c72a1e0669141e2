"""Tables on the terminal: as wide as the terminal really is, with the columns that fit.

On a terminal, columns are kept in order while they fit its width (the first always; columns empty in
every row go first), and the caller is told which were left out so it can say how to see them. Piped output (a file, ``less``) is never cut:
the table is as wide as its content. Every cell is a rich ``Text``, so data such as ``[sic]`` or ``[/b]``
is printed as written, never read as markup.
"""

from __future__ import annotations

import pandas as pd

# Long free-text columns wrap inside this width instead of pushing every other column off the screen.
WRAPPED_COLUMNS = {"text": 60, "source": 40, "reason": 60}


def cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    return text if len(text) <= 240 else text[:237] + "..."


def column_widths(table: pd.DataFrame) -> dict[str, int]:
    """The width each column needs: its longest cell or header, wrapped columns capped."""
    widths = {}
    for column in table.columns:
        longest = max([len(str(column))] + [len(cell(v)) for v in table[column]])
        widths[str(column)] = min(longest, WRAPPED_COLUMNS.get(str(column), longest))
    return widths


def columns_that_fit(widths: dict[str, int], width: int) -> list[str]:
    """The columns, in order, that fit in ``width`` characters (a column takes its width plus 3 for padding and rule)."""
    shown, used = [], 1
    for column, needed in widths.items():
        if shown and used + needed + 3 > width:
            continue
        shown.append(column)
        used += needed + 3
    return shown


def print_table(table: pd.DataFrame, title: str = "") -> list[str]:
    """Print ``table`` on stdout; returns the columns left out to fit the terminal (none when piped)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    widths = column_widths(table)
    if console.is_terminal:
        # Columns empty in every row (no title, no date) give their room to the ones with data.
        filled = {c: w for c, w in widths.items() if any(cell(v).strip() for v in table[c])}
        shown = columns_that_fit(filled or widths, console.width)
    else:
        shown = list(widths)
    rich_table = Table(title=Text(title) if title else None, show_lines=False)
    for column in shown:
        rich_table.add_column(Text(column), overflow="fold", max_width=WRAPPED_COLUMNS.get(column))
    for row in table.astype(object).itertuples(index=False):
        values = dict(zip(widths, row))
        rich_table.add_row(*[Text(cell(values[c])) for c in shown])
    if not console.is_terminal:
        console = Console(width=max(sum(widths[c] + 3 for c in shown) + 1, len(title)))
    console.print(rich_table)
    return [c for c in widths if c not in shown]
