"""One text-table renderer for the terminal, and the cleaning of text that reaches it.

Two things every text gisrenew prints must get right:

* **Display width.** A Chinese character (全市, 亩) takes two terminal columns, an emoji
  two, a combining accent none. Widths are measured with :mod:`wcwidth` (a small,
  well-kept library that follows the Unicode tables and the terminal conventions), never
  by ``len`` or a hand-written ``east_asian_width`` test, so a table with Chinese
  district names lines up.
* **Cell text is data, not terminal commands.** Park, district and plan names come
  from the planner's files. A name holding ``ESC [2J`` would clear the planner's
  terminal, a carriage return would overwrite the line, a right-to-left override would
  reverse what follows. :func:`sanitize` makes such characters visible instead:

  - C0 control characters (U+0000–U+001F, including TAB, LF, CR and ESC) and DEL
    (U+007F) become their Unicode *control pictures*, one column wide:
    NUL → ``␀``, TAB → ``␉``, LF → ``␊``, CR → ``␍``, ESC → ``␛``, DEL → ``␡``;
  - C1 control characters (U+0080–U+009F), the bidirectional controls (U+061C,
    U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the line and paragraph separators
    (U+2028, U+2029) and lone surrogates (from undecodable file names) become an ASCII
    escape such as ``\\u202e`` or ``\\x9b``.

  Everything else — Chinese, emoji (with their zero-width joiners), combining marks —
  is left as it is.

Every text report of :mod:`gisrenew.present` builds its lines with :func:`table_lines`
and returns them through :func:`join_lines`, which cleans each line, so no character
from the data reaches the terminal raw.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

from wcwidth import wcswidth, wcwidth

__all__ = [
    "COLUMN_GAP",
    "display_width",
    "join_lines",
    "pad",
    "render_table",
    "sanitize",
    "table_lines",
]

#: Spaces between two columns.
COLUMN_GAP = 2

_BIDI_CONTROLS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_SEPARATORS = [0x2028, 0x2029]


def _escape_table() -> dict[int, str]:
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
    table[0x7F] = "\u2421"  # ␡
    table.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})
    table.update({code: f"\\u{code:04x}" for code in (*_BIDI_CONTROLS, *_SEPARATORS)})
    table.update({code: f"\\u{code:04x}" for code in range(0xD800, 0xE000)})  # lone surrogates
    return table


_ESCAPES = _escape_table()
_ESCAPES_KEEP_NEWLINES = {k: v for k, v in _ESCAPES.items() if k != 0x0A}

#: A cell that is a figure: optional sign, digits with separators, optional decimals, and
#: an optional short unit or suffix. Such columns are right-aligned by default.
_NUMBER = re.compile(r"^[+\-−]?\d[\d,]*(\.\d+)?\s?(%|pp|m²|m|ha|mu|亩|公顷|户|个百分点)?$")


def sanitize(text: object, *, keep_newlines: bool = False) -> str:
    """`text` as a string that is safe to print to a terminal.

    Control characters are replaced by visible stand-ins (see the module docstring);
    the result contains no C0/C1 control, bidirectional control or lone surrogate.
    ``None`` becomes the empty string.

    Parameters
    ----------
    text : object
        Shown with ``str``.
    keep_newlines : bool
        Leave line feeds (``\\n``) as they are, for a message of several lines (an
        error listing its problems); carriage returns are still replaced.

    Examples
    --------
    >>> sanitize("东园\\x1b[2J")
    '东园␛[2J'
    >>> sanitize("a\\r\\nb")
    'a␍␊b'
    """
    if text is None:
        return ""
    return str(text).translate(_ESCAPES_KEEP_NEWLINES if keep_newlines else _ESCAPES)


def _width(clean: str) -> int:
    """Display width of text that is already sanitized."""
    width = wcswidth(clean)
    if width < 0:  # a character wcwidth does not know how to print: count it as nothing
        width = sum(max(wcwidth(ch), 0) for ch in clean)
    return width


def display_width(text: str) -> int:
    """Terminal columns `text` takes (after :func:`sanitize`): 全 is 2, é is 1, 👍 is 2."""
    return _width(sanitize(text))


def pad(text: str, width: int, align: str = "l") -> str:
    """`text` (sanitized) padded with spaces to `width` columns: ``"l"`` left, ``"r"`` right."""
    text = sanitize(text)
    fill = " " * max(width - display_width(text), 0)
    return fill + text if align == "r" else text + fill


def _alignments(cells: list[list[str]], n: int, align: str | Sequence[str] | None) -> list[str]:
    if align is not None:
        if len(align) != n:
            raise ValueError(f"`align` has {len(align)} entries for {n} columns")
        return list(align)
    out = []
    for i in range(n):
        column = [row[i] for row in cells if row[i] not in ("", "-", "—")]
        out.append("r" if column and all(_NUMBER.match(c) for c in column) else "l")
    return out


def table_lines(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    align: str | Sequence[str] | None = None,
    rule_before: Collection[int] = (),
    header_rule: bool = True,
) -> list[str]:
    """A text table as lines: header, a rule of dashes, one line per row.

    Parameters
    ----------
    headers : sequence
        Column headers (any objects; shown with ``str``).
    rows : iterable of sequences
        Cells, already formatted (see :mod:`gisrenew.present.formats`); each row has one
        cell per header.
    align : str or sequence of {"l", "r"}, optional
        Alignment per column (``"lrr"``). By default a column whose cells all look like
        figures (``1,234.5``, ``81.14%``, ``+1.20 pp``) is right-aligned, others left.
    rule_before : collection of int
        Row positions before which another rule is drawn (e.g. a total line).
    header_rule : bool
        Draw the rule under the header.

    Returns
    -------
    list of str
        The lines, trailing spaces removed; every cell is :func:`sanitize`-d and widths
        count double-width characters as two columns.
    """
    head = [sanitize(h) for h in headers]
    cells = [[sanitize(c) for c in row] for row in rows]
    for index, row in enumerate(cells):
        if len(row) != len(head):
            raise ValueError(f"row {index} has {len(row)} cells for {len(head)} columns")
    sides = _alignments(cells, len(head), align)
    # measure every (already sanitized) cell once
    sized = [[(c, _width(c)) for c in row] for row in [head, *cells]]
    widths = [max(column) for column in zip(*([w for _c, w in row] for row in sized), strict=True)]
    gap = " " * COLUMN_GAP
    rule = gap.join("-" * w for w in widths)

    def line(row: list[tuple[str, int]]) -> str:
        parts = []
        for (text, own), width, side in zip(row, widths, sides, strict=True):
            fill = " " * (width - own)
            parts.append(fill + text if side == "r" else text + fill)
        return gap.join(parts).rstrip()

    lines = [line(sized[0])]
    if header_rule:
        lines.append(rule)
    for index, row in enumerate(sized[1:]):
        if index in rule_before:
            lines.append(rule)
        lines.append(line(row))
    return lines


def render_table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    align: str | Sequence[str] | None = None,
    rule_before: Collection[int] = (),
    header_rule: bool = True,
) -> str:
    """:func:`table_lines` joined with newlines."""
    return "\n".join(
        table_lines(headers, rows, align=align, rule_before=rule_before, header_rule=header_rule)
    )


def join_lines(lines: Iterable[object]) -> str:
    """Lines of a text report, each :func:`sanitize`-d, joined with newlines.

    A line that holds a newline or carriage return from the data stays one line (the
    character shows as ``␊`` / ``␍``).
    """
    return "\n".join(sanitize(line) for line in lines)
