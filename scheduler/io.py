"""JSON form of problems and results. Times are ISO 8601 strings, places whole metres."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler.model import (
    Assignment,
    Interval,
    Location,
    Preference,
    Problem,
    ProblemError,
    Result,
    Shift,
    Shortfall,
    Volunteer,
    Weights,
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _location(data: dict) -> Location:
    return Location(int(data["x_m"]), int(data["y_m"]))


def _assignment(data: dict) -> Assignment:
    return Assignment(str(data["volunteer_id"]), str(data["shift_id"]))


def _assignment_dict(assignment: Assignment) -> dict:
    return {"volunteer_id": assignment.volunteer_id, "shift_id": assignment.shift_id}


def volunteer_from_dict(data: dict) -> Volunteer:
    return Volunteer(
        id=str(data["id"]),
        age=int(data["age"]),
        home=_location(data["home"]),
        availability=tuple(Interval(_time(a["start"]), _time(a["end"])) for a in data.get("availability", [])),
        skills=frozenset(data.get("skills", [])),
        max_shifts_per_week=int(data.get("max_shifts_per_week", 3)),
        max_minutes_per_week=int(data.get("max_minutes_per_week", 360)),
        max_travel_m=int(data.get("max_travel_m", 3000)),
        preferences=tuple(Preference(p["field"], str(p["value"]), int(p["weight"])) for p in data.get("preferences", [])),
        team=data.get("team"),
    )


def shift_from_dict(data: dict) -> Shift:
    return Shift(
        id=str(data["id"]),
        start=_time(data["start"]),
        end=_time(data["end"]),
        location=_location(data["location"]),
        place=str(data.get("place", "")),
        kind=str(data.get("kind", "")),
        slot=str(data.get("slot", "")),
        min_seats=int(data["min_seats"]),
        ideal_seats=int(data["ideal_seats"]),
        max_seats=int(data["max_seats"]),
        required_skills={str(k): int(v) for k, v in data.get("required_skills", {}).items()},
        skills_for_all=frozenset(data.get("skills_for_all", [])),
        min_age=int(data.get("min_age", 0)),
        priority=int(data.get("priority", 1)),
        team_activity=bool(data.get("team_activity", False)),
    )


def problem_from_dict(data: dict) -> Problem:
    try:
        return Problem(
            volunteers=tuple(volunteer_from_dict(v) for v in data.get("volunteers", [])),
            shifts=tuple(shift_from_dict(s) for s in data.get("shifts", [])),
            skills=tuple(data.get("skills", [])),
            fixed=tuple(_assignment(a) for a in data.get("fixed", [])),
            published=tuple(_assignment(a) for a in data.get("published", [])),
            excluded=tuple(_assignment(a) for a in data.get("excluded") or []),
            weights=Weights(**data.get("weights", {})),
            travel_speed_kmh=int(data.get("travel_speed_kmh", 12)),
            now=_time(data["now"]) if data.get("now") else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProblemError(f"malformed problem JSON: {error!r}") from error


def problem_to_dict(problem: Problem) -> dict:
    def volunteer(v: Volunteer) -> dict:
        return {
            "id": v.id,
            "age": v.age,
            "home": {"x_m": v.home.x_m, "y_m": v.home.y_m},
            "availability": [{"start": a.start.isoformat(), "end": a.end.isoformat()} for a in v.availability],
            "skills": sorted(v.skills),
            "max_shifts_per_week": v.max_shifts_per_week,
            "max_minutes_per_week": v.max_minutes_per_week,
            "max_travel_m": v.max_travel_m,
            "preferences": [{"field": p.field, "value": p.value, "weight": p.weight} for p in v.preferences],
            "team": v.team,
        }

    def shift(s: Shift) -> dict:
        return {
            "id": s.id,
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
            "location": {"x_m": s.location.x_m, "y_m": s.location.y_m},
            "place": s.place,
            "kind": s.kind,
            "slot": s.slot,
            "min_seats": s.min_seats,
            "ideal_seats": s.ideal_seats,
            "max_seats": s.max_seats,
            "required_skills": dict(s.required_skills),
            "skills_for_all": sorted(s.skills_for_all),
            "min_age": s.min_age,
            "priority": s.priority,
            "team_activity": s.team_activity,
        }

    return {
        "skills": list(problem.skills),
        "travel_speed_kmh": problem.travel_speed_kmh,
        "now": problem.now.isoformat() if problem.now else None,
        "weights": vars(problem.weights),
        "volunteers": [volunteer(v) for v in problem.volunteers],
        "shifts": [shift(s) for s in problem.shifts],
        "fixed": [_assignment_dict(a) for a in problem.fixed],
        "published": [_assignment_dict(a) for a in problem.published],
        "excluded": [_assignment_dict(a) for a in problem.excluded],
    }


def result_to_dict(result: Result) -> dict[str, Any]:
    return {
        "method": result.method,
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "objective_terms": result.objective_terms,
        "coverage_min": result.coverage_min,
        "coverage_ideal": result.coverage_ideal,
        "wall_s": result.wall_s,
        "build_s": result.build_s,
        "first_solution_s": result.first_solution_s,
        "solutions_found": result.solutions_found,
        "stats": result.stats,
        "skipped_shifts": result.skipped_shifts,
        "shortfalls": [
            {
                "shift_id": s.shift_id,
                "filled": s.filled,
                "min_seats": s.min_seats,
                "ideal_seats": s.ideal_seats,
                "eligible": s.eligible,
                "no_eligible_person": s.no_eligible_person,
                "reasons": s.reasons,
                "lead_missing": s.lead_missing,
            }
            for s in result.shortfalls
        ],
        "assignments": [_assignment_dict(a) for a in result.assignments],
    }


def result_from_dict(data: dict) -> Result:
    return Result(
        method=data.get("method", ""),
        status=data["status"],
        assignments=[_assignment(a) for a in data.get("assignments", [])],
        objective=data.get("objective"),
        bound=data.get("bound"),
        gap=data.get("gap"),
        objective_terms=dict(data.get("objective_terms", {})),
        coverage_min=float(data.get("coverage_min", 0.0)),
        coverage_ideal=float(data.get("coverage_ideal", 0.0)),
        wall_s=float(data.get("wall_s", 0.0)),
        build_s=float(data.get("build_s", 0.0)),
        first_solution_s=data.get("first_solution_s"),
        solutions_found=int(data.get("solutions_found", 0)),
        shortfalls=[
            Shortfall(
                shift_id=s["shift_id"],
                filled=s["filled"],
                min_seats=s["min_seats"],
                ideal_seats=s["ideal_seats"],
                eligible=s["eligible"],
                reasons=s["reasons"],
                lead_missing=s.get("lead_missing", []),
            )
            for s in data.get("shortfalls", [])
        ],
        skipped_shifts=list(data.get("skipped_shifts", [])),
        stats=dict(data.get("stats", {})),
    )


def read_problem(path: str | Path) -> Problem:
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ProblemError(f"{path}: not valid JSON: {error}") from error
    return problem_from_dict(data)


def write_problem(problem: Problem, path: str | Path) -> None:
    Path(path).write_text(json.dumps(problem_to_dict(problem), separators=(",", ":")))


def read_result(path: str | Path) -> Result:
    try:
        return result_from_dict(json.loads(Path(path).read_text()))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProblemError(f"{path}: not a result file: {error!r}") from error


def write_result(result: Result, path: str | Path) -> None:
    Path(path).write_text(json.dumps(result_to_dict(result), indent=1))
