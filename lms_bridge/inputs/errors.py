"""Input problems, each naming the file, the row (as a spreadsheet numbers it) and the column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InputProblem:
    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}" if self.row is not None else f" column {self.column}"
        return f"{where}: {self.message}"


class InputErrors(Exception):
    """One or more input problems; nothing was used."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
