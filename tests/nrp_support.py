"""What the Curtois-Qu tests (tests/nrp/) share: the small instances, their optima, roster text."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "nrp" / "data"
OPTIMUM = {"Instance1": 607, "Instance2": 828, "Instance3": 1001}


def roster_text(roster) -> str:
    """A roster in the format nrp-check reads: one line ``EmployeeID,Day,ShiftID`` per worked shift."""
    return "".join(f"{e},{d},{s}\n" for (e, d), s in roster.items())
