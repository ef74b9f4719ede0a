"""Shifts: browsing and signing up (volunteers), my shifts and the calendar feed, rosters and the week
overview (coordinators, managers): pages and JSON API."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_VOLUNTEER
from volunteer_hub.clock import local_now
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import list_grids
from volunteer_hub.schools.services import coordinator_school_id, slot_label, visible_schools
from volunteer_hub.shifts import calendar, services
from volunteer_hub.shifts.schemas import ShiftOut, shift_out
from volunteer_hub.shifts.services import BrowseFilter, NeedsConfirmation
from volunteer_hub.sites.services import list_sites
from volunteer_hub.volunteers.services import ACTIVITY_KINDS, kind_label, skill_label, volunteer_for_user
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render, safe_next
from volunteer_hub.web.qr import check_in_url, qr_svg

volunteer_only = roles_required(ROLE_VOLUNTEER)
keepers = roles_required(ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)
staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)
anyone_logged_in = roles_required(ROLE_VOLUNTEER, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)


# ---------------------------------------------------------------------------------------- API shapes


class SignUpBody(msgspec.Struct):
    confirm_outside_availability: bool = False


class SignUpOut(msgspec.Struct):
    assignment_id: int
    status: str
    waitlist_position: int | None


class CancelOut(msgspec.Struct):
    late: bool


class MyShiftOut(msgspec.Struct):
    shift: ShiftOut
    status: str
    source: str
    late_cancellation: bool
    waitlist_position: int | None


class TeamBody(msgspec.Struct):
    seats: int


class TeamBookingOut(msgspec.Struct):
    unit: str
    seats: int
    taken: int


class TeamSlotsOut(msgspec.Struct):
    total: int
    bookings: list[TeamBookingOut]
    mine: int


def _team_out(slots) -> TeamSlotsOut:
    return TeamSlotsOut(total=slots.total, bookings=[TeamBookingOut(**b) for b in slots.bookings], mine=slots.mine)


class CalendarOut(msgspec.Struct):
    url: str


class RosterPerson(msgspec.Struct):
    name: str
    phone: str


class RosterOut(msgspec.Struct):
    shift: ShiftOut
    people: list[RosterPerson]


class OverviewOut(msgspec.Struct):
    place: str
    days: list[list[ShiftOut]]  # Monday first


def _date_param(value: str | None, name: str, errors: dict[str, str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Dates are written as YYYY-MM-DD.")
        return None


def _browse_filter(date_from: str | None, date_to: str | None, kind: str | None, grid: str | None,
                   max_km: str | None) -> BrowseFilter:
    errors: dict[str, str] = {}
    criteria = BrowseFilter(date_from=_date_param(date_from, "date_from", errors),
                            date_to=_date_param(date_to, "date_to", errors), kind=kind or None)
    if kind and kind not in ACTIVITY_KINDS:
        errors["kind"] = _("Please choose a kind from the list.")
    for name, raw, convert in (("grid", grid, int), ("max_km", max_km, float)):
        if raw:
            try:
                setattr(criteria, "grid_id" if name == "grid" else name, convert(raw))
            except ValueError:
                errors[name] = _("Please give a number.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    return criteria


def _calendar_url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + f"/calendar/{token}.ics"


# ---------------------------------------------------------------------------------------- pages


def _labels() -> dict:
    return {"kind_label": kind_label, "slot_label": slot_label, "skill_label": skill_label}


class ShiftPages(Controller):
    include_in_schema = False

    @get("/shifts", guards=[volunteer_only])
    async def browse(self, request: Request, date_from: FromQuery[str | None] = None,
                     date_to: FromQuery[str | None] = None, kind: FromQuery[str | None] = None,
                     grid: FromQuery[str | None] = None, max_km: FromQuery[str | None] = None) -> Template:
        values = {"date_from": date_from, "date_to": date_to, "kind": kind, "grid": grid, "max_km": max_km}
        choices = {"grids": await list_grids(), "kinds": [(k, kind_label(k)) for k in ACTIVITY_KINDS], **_labels()}
        try:
            cards = await services.browse(current_user(request), _browse_filter(**values))
        except ValidationFailed as error:
            return render(request, "shifts/browse.html", status_code=error.status_code, message=error.message,
                          errors=error.field_errors, values=values, cards=[], **choices)
        return render(request, "shifts/browse.html", values=values, cards=cards, **choices)

    @get("/shifts/{shift_id:int}", guards=[anyone_logged_in])
    async def detail(self, request: Request, shift_id: FromPath[int]) -> Template:
        user = current_user(request)
        view = await services.shift_view(user, shift_id)
        unit = (await volunteer_for_user(user)).unit if user.role == ROLE_VOLUNTEER else None
        team = await services.team_slots(shift_id, unit) if view.team_slots else None
        return render(request, "shifts/detail.html", view=view, card=view.card, team=team, in_unit=unit is not None,
                      **_labels())

    @post("/shifts/{shift_id:int}/team", guards=[volunteer_only])
    async def book_team(self, request: Request, shift_id: FromPath[int]) -> Redirect:
        form = FormReader(await request.form())
        slots = await services.book_team_seats(current_user(request), shift_id, form.integer("seats"))
        flash(request, _("%(n)s seats are reserved for your unit; its members can now sign up.", n=slots.mine)
              if slots.mine else _("Your unit's reservation is released."), category="success")
        return Redirect(path=f"/shifts/{shift_id}", status_code=303)

    @post("/shifts/{shift_id:int}/signup", guards=[volunteer_only])
    async def sign_up(self, request: Request, shift_id: FromPath[int]) -> Template | Redirect:
        form = FormReader(await request.form())
        back = safe_next(form.text("next"), default=f"/shifts/{shift_id}")
        try:
            result = await services.sign_up(current_user(request), shift_id,
                                            confirm_outside_availability=form.flag("confirm_outside_availability"))
        except NeedsConfirmation as question:
            view = await services.shift_view(current_user(request), shift_id)
            return render(request, "shifts/confirm.html", status_code=question.status_code, question=question.message,
                          card=view.card, next=back, **_labels())
        if result.status == "confirmed":
            flash(request, _("You are signed up. Thank you!"), category="success")
        else:
            flash(request, _("This shift is full: you are number %(n)s on the waitlist. We will tell you if a seat frees up.",
                             n=result.waitlist_position), category="info")
        return Redirect(path=back, status_code=303)

    @post("/shifts/{shift_id:int}/leave", guards=[volunteer_only])
    async def leave(self, request: Request, shift_id: FromPath[int]) -> Redirect:
        form = FormReader(await request.form())
        result = await services.cancel_sign_up(current_user(request), shift_id)
        if result.late:
            flash(request, _("You have left the shift. It was less than %(h)s hours before the start, so it is recorded as a late cancellation.",
                             h=services.cutoff_hours_text()), category="info")
        else:
            flash(request, _("You have left the shift."), category="success")
        return Redirect(path=safe_next(form.text("next"), default="/my/shifts"), status_code=303)

    @post("/shifts/{shift_id:int}/cancel", guards=[keepers])
    async def cancel_shift(self, request: Request, shift_id: FromPath[int]) -> Redirect:
        await services.cancel_shift(current_user(request), shift_id)
        flash(request, _("The shift is cancelled; everyone on it has been told."), category="success")
        return Redirect(path=f"/shifts/{shift_id}", status_code=303)

    @get("/my/shifts", guards=[volunteer_only])
    async def my_shifts(self, request: Request) -> Template:
        user = current_user(request)
        mine = await services.my_shifts(user)
        now = local_now()
        token = await calendar.calendar_token(user)
        return render(request, "shifts/mine.html", upcoming=[m for m in mine if m.shift.ends_at > now and m.status != "cancelled"],
                      past=[m for m in mine if m.shift.ends_at <= now or m.status == "cancelled"],
                      calendar_url=_calendar_url(request, token), **_labels())

    @post("/my/calendar/renew", guards=[volunteer_only])
    async def renew_calendar(self, request: Request) -> Redirect:
        await calendar.calendar_token(current_user(request), renew=True)
        flash(request, _("You have a new calendar link; the old one no longer works."), category="success")
        return Redirect(path="/my/shifts", status_code=303)

    @get("/calendar/{token:str}", name="calendar_feed")
    async def calendar_feed(self, token: FromPath[str]) -> Response:
        body = await calendar.feed(token.removesuffix(".ics"))
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="volunteer-shifts.ics"'})

    @get("/rosters", guards=[keepers])
    async def rosters(self, request: Request, week: FromQuery[str | None] = None,
                      school: FromQuery[int | None] = None, site: FromQuery[int | None] = None) -> Template:
        user = current_user(request)
        monday = services.parse_week(week)
        if school is None and site is None and user.role == ROLE_COORDINATOR:
            school = await coordinator_school_id(user)
        schools = await visible_schools(user)
        sites = await list_sites() if user.role in services.STAFF else []
        entries = None
        place = None
        if school is not None or site is not None:
            entries = await services.roster(user, monday, school_id=school, site_id=site)
            names = {("school", s["id"]): s["name"] for s in schools} | {("site", s["id"]): s["name"] for s in sites}
            place = names.get(("school", school) if school is not None else ("site", site))
        codes = {entry.shift.id: qr_svg(check_in_url(request, entry.shift.id), scale=2) for entry in entries or []
                 if entry.shift.status != "cancelled"}
        return render(request, "shifts/roster.html", entries=entries, place=place, week=monday, codes=codes,
                      previous_week=monday - dt.timedelta(days=7), next_week=monday + dt.timedelta(days=7),
                      schools=schools, sites=sites, school=school, site=site, **_labels())

    @get("/overview", guards=[staff_only])
    async def overview(self, request: Request, week: FromQuery[str | None] = None) -> Template:
        monday = services.parse_week(week)
        rows = await services.week_overview(current_user(request), monday)
        days = [monday + dt.timedelta(days=offset) for offset in range(7)]
        return render(request, "shifts/overview.html", rows=rows, days=days, week=monday,
                      previous_week=monday - dt.timedelta(days=7), next_week=monday + dt.timedelta(days=7), **_labels())


# ---------------------------------------------------------------------------------------- API


class ShiftApi(Controller):
    path = "/api"
    tags = ["shifts"]

    @get("/shifts", guards=[volunteer_only], summary="Open shifts for the signed-in volunteer, soonest first")
    async def browse(self, request: Request, date_from: FromQuery[str | None] = None, date_to: FromQuery[str | None] = None,
                     kind: FromQuery[str | None] = None, grid: FromQuery[str | None] = None,
                     max_km: FromQuery[str | None] = None) -> list[ShiftOut]:
        criteria = _browse_filter(date_from, date_to, kind, grid, max_km)
        return [shift_out(card) for card in await services.browse(current_user(request), criteria)]

    @get("/shifts/{shift_id:int}", guards=[anyone_logged_in], summary="One shift")
    async def detail(self, request: Request, shift_id: FromPath[int]) -> ShiftOut:
        return shift_out((await services.shift_view(current_user(request), shift_id)).card)

    @post("/shifts/{shift_id:int}/signup", guards=[volunteer_only], status_code=201,
          summary="Sign up (a seat if one is free, else the waitlist); 409 asks to confirm outside availability")
    async def sign_up(self, request: Request, shift_id: FromPath[int], data: JSONBody[SignUpBody | None] = None) -> SignUpOut:
        confirm = bool(data and data.confirm_outside_availability)
        result = await services.sign_up(current_user(request), shift_id, confirm_outside_availability=confirm)
        return SignUpOut(assignment_id=result.assignment_id, status=result.status, waitlist_position=result.waitlist_position)

    @delete("/shifts/{shift_id:int}/signup", guards=[volunteer_only], status_code=200,
            summary="Leave a shift or its waitlist (late when after the cut-off)")
    async def leave(self, request: Request, shift_id: FromPath[int]) -> CancelOut:
        result = await services.cancel_sign_up(current_user(request), shift_id)
        return CancelOut(late=result.late)

    @post("/shifts/{shift_id:int}/cancel", guards=[keepers], status_code=200,
          summary="Cancel a shift; everyone on it is told")
    async def cancel_shift(self, request: Request, shift_id: FromPath[int]) -> ShiftOut:
        await services.cancel_shift(current_user(request), shift_id)
        return shift_out((await services.shift_view(current_user(request), shift_id)).card)

    @get("/shifts/{shift_id:int}/team", guards=[anyone_logged_in], summary="A shift's team seats and the units' bookings")
    async def team(self, request: Request, shift_id: FromPath[int]) -> TeamSlotsOut:
        user = current_user(request)
        unit = (await volunteer_for_user(user)).unit if user.role == ROLE_VOLUNTEER else None
        return _team_out(await services.team_slots(shift_id, unit))

    @post("/shifts/{shift_id:int}/team", guards=[volunteer_only], status_code=200,
          summary="Reserve (or change, or with 0 release) team seats for my unit")
    async def book_team(self, request: Request, shift_id: FromPath[int], data: JSONBody[TeamBody]) -> TeamSlotsOut:
        return _team_out(await services.book_team_seats(current_user(request), shift_id, data.seats))

    @get("/my/shifts", guards=[volunteer_only], summary="The signed-in volunteer's shifts")
    async def my_shifts(self, request: Request) -> list[MyShiftOut]:
        return [MyShiftOut(shift=shift_out(m.shift), status=m.status, source=m.source,
                           late_cancellation=m.late_cancellation, waitlist_position=m.waitlist_position)
                for m in await services.my_shifts(current_user(request))]

    @get("/my/calendar", guards=[volunteer_only], summary="The secret iCalendar URL of my shifts")
    async def calendar_url(self, request: Request) -> CalendarOut:
        return CalendarOut(url=_calendar_url(request, await calendar.calendar_token(current_user(request))))

    @post("/my/calendar", guards=[volunteer_only], status_code=200, summary="Renew the calendar URL (the old one stops working)")
    async def renew_calendar(self, request: Request) -> CalendarOut:
        token = await calendar.calendar_token(current_user(request), renew=True)
        return CalendarOut(url=_calendar_url(request, token))

    @get("/rosters", guards=[keepers], summary="A week's roster of one school or one site")
    async def roster(self, request: Request, week: FromQuery[str | None] = None, school: FromQuery[int | None] = None,
                     site: FromQuery[int | None] = None) -> list[RosterOut]:
        entries = await services.roster(current_user(request), services.parse_week(week), school_id=school, site_id=site)
        return [RosterOut(shift=shift_out(e.shift), people=[RosterPerson(**p) for p in e.people]) for e in entries]

    @get("/overview", guards=[staff_only], summary="Every open shift of a week by place and day")
    async def overview(self, request: Request, week: FromQuery[str | None] = None) -> list[OverviewOut]:
        rows = await services.week_overview(current_user(request), services.parse_week(week))
        return [OverviewOut(place=row.place, days=[[shift_out(card) for card in cell] for cell in row.cells]) for row in rows]
