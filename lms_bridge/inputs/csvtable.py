"""Reading a CSV file as a spreadsheet shows it: header row 1, free column order, extra
columns ignored, blank rows skipped, UTF-8 (with or without a byte-order mark)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .errors import InputProblem

T = TypeVar("T")


@dataclass
class CsvTable:
    file: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    def problem(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(InputProblem(self.file, row, column, message))

    def parse(self, row: int, cells: dict[str, str], column: str, parser: Callable[[str], T]) -> T | None:
        """The parsed cell, or None with the parser's complaint recorded against the cell."""
        try:
            return parser(cells.get(column, ""))
        except ValueError as exc:
            self.problem(row, column, str(exc))
            return None

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)


def read_csv(path: str | Path, required: tuple[str, ...], label: str | None = None) -> CsvTable:
    """The file's rows keyed by lower-cased column name; problems instead of exceptions."""
    name = label or str(path)
    table = CsvTable(name)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        table.problem(None, None, "no such file")
        return table
    except OSError as exc:
        table.problem(None, None, f"cannot be read ({exc.strerror})")
        return table

    text = _decode(raw, table)
    if text is None:
        return table
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            table.problem(None, None, "empty: a header row is required")
            return table
        columns = [h.strip().lower() for h in header]
        seen: set[str] = set()
        for col in columns:
            if col and col in seen:
                table.problem(1, col, "appears twice in the header")
            seen.add(col)
        missing = [c for c in required if c not in seen]
        if missing:
            hint = ""
            if len(columns) == 1 and (";" in header[0] or "\t" in header[0]):
                hint = " (the file seems to use ';' or tabs between columns; save it as comma-separated CSV)"
            table.problem(1, None, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{hint}")
            return table
        wanted = [(i, col) for i, col in enumerate(columns) if col]
        width = len(columns)
        for number, record in enumerate(reader, start=2):
            if not "".join(record).strip():
                continue
            if len(record) < width:
                record += [""] * (width - len(record))
            table.rows.append((number, {col: record[i].strip() for i, col in wanted}))
    except csv.Error as exc:
        table.problem(reader.line_num, None, f"not valid CSV ({exc})")
    return table


def _decode(raw: bytes, table: CsvTable) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        table.problem(None, None, "is UTF-16 text; save it as CSV UTF-8")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        table.problem(row, None, f"not UTF-8 text (byte 0x{raw[exc.start]:02X}); save the file as CSV UTF-8")
        return None
