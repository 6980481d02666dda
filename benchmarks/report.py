"""One printed line per budget: name, figure, reference, budget, verdict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    figure: str
    reference: str
    budget: str
    verdict: str  # PASS, FAIL, INFO or PENDING

    @classmethod
    def pending(cls, name: str, budget: str, why: str) -> Line:
        return cls(name, "not measured", f"not built yet ({why})", budget, "PENDING")


def print_lines(lines: list[Line]) -> None:
    widths = [max(len(getattr(line, f)) for line in lines) for f in ("name", "figure", "reference")]
    header = ("budget", "figure", "reference (same run)")
    print(f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]:<{widths[2]}}  limit")
    for line in lines:
        print(
            f"{line.name:<{widths[0]}}  {line.figure:<{widths[1]}}  "
            f"{line.reference:<{widths[2]}}  {line.budget}  {line.verdict}"
        )
