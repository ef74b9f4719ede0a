"""Volunteer registration, profile and availability: pages and the JSON API."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import msgspec
from litestar.params import FromPath, JSONBody
from litestar import Controller, Request, get, post, put
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_VOLUNTEER
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.incentives.services import recognition
from volunteer_hub.reference.services import list_grids, list_units, unit_kind_label
from volunteer_hub.schools.tables import School
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers import services
from volunteer_hub.web.auth import current_user, log_in, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

volunteer_only = roles_required(ROLE_VOLUNTEER)
WINDOW_ROWS_EXTRA = 3  # blank rows offered below the saved windows


async def _choices() -> dict:
    return {
        "grids": await list_grids(),
        "units": await list_units(),
        "unit_kind_label": unit_kind_label,
        "skills": [(skill, services.skill_label(skill)) for skill in services.SKILLS],
    }


def _profile_from_form(form: FormReader) -> dict:
    return {
        "name": form.text("name"),
        "email": form.optional_text("email"),
        "birth_year": form.integer("birth_year"),
        "home_grid_id": form.integer("home_grid"),
        "unit_id": form.integer("unit"),
        "skills": form.values("skills"),
        "max_shifts_per_week": form.integer("max_shifts_per_week"),
        "max_hours_per_week": form.number("max_hours_per_week"),
    }


def _merge_form_errors(form: FormReader, error: ValidationFailed) -> ValidationFailed:
    # A number that did not parse is reported as such rather than as "missing".
    return ValidationFailed(error.message, {**error.field_errors, **form.errors})


class RegistrationPages(Controller):
    include_in_schema = False

    @get("/register", name="register")
    async def form(self, request: Request) -> Template:
        return render(request, "volunteers/register.html", values={"max_shifts_per_week": 3, "max_hours_per_week": 4},
                      **await _choices())

    @post("/register")
    async def register(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        fields = _profile_from_form(form)
        data = services.RegistrationInput(
            **fields,
            phone=form.text("phone"),
            password=form.text("password"),
            privacy_consent=form.flag("privacy_consent"),
            locale=request.cookies.get("lang") or "zh_CN",
        )
        try:
            if form.errors:
                raise ValidationFailed(_("Please check the form."), {})
            user = await services.register_volunteer(data)
        except ValidationFailed as error:
            error = _merge_form_errors(form, error)
            values = {**fields, "phone": data.phone, "privacy_consent": data.privacy_consent}
            return render(request, "volunteers/register.html", status_code=error.status_code, message=error.message,
                          errors=error.field_errors, values=values, **await _choices())
        log_in(request, user)
        flash(request, _("Welcome! Your registration is complete."), category="success")
        return Redirect(path="/availability", status_code=303)


class ProfilePages(Controller):
    include_in_schema = False
    guards = [volunteer_only]

    @get("/profile", name="profile")
    async def show(self, request: Request) -> Template:
        profile = await services.get_profile(current_user(request))
        values = {**asdict(profile), "max_hours_per_week": f"{profile.max_hours_per_week:g}"}
        return render(request, "volunteers/profile.html", profile=profile, values=values,
                      recognition=await recognition(profile.id), skill_label=services.skill_label, **await _choices())

    @post("/profile")
    async def update(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        fields = _profile_from_form(form)
        try:
            if form.errors:
                raise ValidationFailed(_("Please check the form."), {})
            await services.update_profile(current_user(request), services.ProfileInput(**fields))
        except ValidationFailed as error:
            error = _merge_form_errors(form, error)
            profile = await services.get_profile(current_user(request))
            return render(request, "volunteers/profile.html", status_code=error.status_code, message=error.message,
                          errors=error.field_errors, profile=profile, values=fields,
                          skill_label=services.skill_label, **await _choices())
        flash(request, _("Profile saved."), category="success")
        return Redirect(path="/profile", status_code=303)


def _window_rows(windows: list[services.Window]) -> list[dict]:
    rows = [
        {"weekday": w.weekday, "start": services.format_minute(w.start_minute), "end": services.format_minute(w.end_minute)}
        for w in windows
    ]
    return rows + [{"weekday": "", "start": "", "end": ""} for _ in range(WINDOW_ROWS_EXTRA)]


async def _availability_choices() -> dict:
    return {
        "weekdays": [(day, services.weekday_label(day)) for day in range(7)],
        "kinds": [(kind, services.kind_label(kind)) for kind in services.ACTIVITY_KINDS],
        "schools": await School.select(School.id, School.name).order_by(School.name),
        "sites": await Site.select(Site.id, Site.name).order_by(Site.name),
    }


class AvailabilityPages(Controller):
    include_in_schema = False
    guards = [volunteer_only]

    @get("/availability", name="availability")
    async def show(self, request: Request) -> Template:
        availability = await services.get_availability(current_user(request))
        return render(request, "volunteers/availability.html", availability=availability,
                      rows=_window_rows(availability.windows),
                      unavailable_text=" ".join(day.isoformat() for day in availability.unavailable_dates),
                      **await _availability_choices())

    @post("/availability")
    async def update(self, request: Request) -> Template | Redirect:
        raw = await request.form()
        form = FormReader(raw)
        windows, rows, row_errors = [], [], {}
        row_count = form.integer("row_count") or 0
        for index in range(min(row_count, 50)):
            day, start, end = form.text(f"w{index}_day"), form.text(f"w{index}_start"), form.text(f"w{index}_end")
            rows.append({"weekday": int(day) if day.isdigit() else "", "start": start, "end": end})
            if not (day or start or end):
                continue
            start_minute, end_minute = services.parse_time(start), services.parse_time(end)
            if not day.isdigit() or start_minute is None or end_minute is None:
                row_errors["windows"] = _("Each window needs a weekday, a start and an end time (HH:MM).")
                continue
            windows.append(services.Window(int(day), start_minute, end_minute))
        data = services.Availability(
            windows=windows,
            unavailable_dates=form.dates("unavailable_dates"),
            preferred_kinds=form.values("preferred_kinds"),
            preferred_school_ids=form.integers("preferred_schools"),
            preferred_site_ids=form.integers("preferred_sites"),
            max_travel_km=form.number("max_travel_km"),
        )
        try:
            if form.errors or row_errors:
                raise ValidationFailed(_("Please check the form."), {**form.errors, **row_errors})
            await services.replace_availability(current_user(request), data)
        except ValidationFailed as error:
            errors = {**error.field_errors, **form.errors, **row_errors}
            return render(request, "volunteers/availability.html", status_code=400, message=error.message,
                          errors=errors, availability=data, rows=rows,
                          unavailable_text=form.text("unavailable_dates"), **await _availability_choices())
        flash(request, _("Availability saved."), category="success")
        return Redirect(path="/availability", status_code=303)


# ---------------------------------------------------------------------------------------- API


class ProfileBody(msgspec.Struct):
    name: str
    birth_year: int
    home_grid_id: int
    email: str | None = None
    unit_id: int | None = None
    skills: list[str] = []
    max_shifts_per_week: int = 3
    max_hours_per_week: float = 4


class RegistrationBody(ProfileBody, kw_only=True):
    phone: str
    password: str
    privacy_consent: bool


class ProfileOut(msgspec.Struct):
    id: int
    name: str
    phone: str
    email: str | None
    birth_year: int
    home_grid_id: int
    home_grid_name: str
    unit_id: int | None
    unit_name: str | None
    skills: list[str]
    max_shifts_per_week: int
    max_hours_per_week: float
    is_adult: bool


class WindowBody(msgspec.Struct):
    weekday: int
    start: str
    end: str


class AvailabilityBody(msgspec.Struct):
    windows: list[WindowBody] = []
    unavailable_dates: list[dt.date] = []
    preferred_kinds: list[str] = []
    preferred_school_ids: list[int] = []
    preferred_site_ids: list[int] = []
    max_travel_km: float = 3.0


def _profile_out(profile: services.Profile) -> ProfileOut:
    return ProfileOut(**asdict(profile))


def _availability_out(availability: services.Availability) -> AvailabilityBody:
    return AvailabilityBody(
        windows=[WindowBody(w.weekday, services.format_minute(w.start_minute), services.format_minute(w.end_minute))
                 for w in availability.windows],
        unavailable_dates=availability.unavailable_dates,
        preferred_kinds=availability.preferred_kinds,
        preferred_school_ids=availability.preferred_school_ids,
        preferred_site_ids=availability.preferred_site_ids,
        max_travel_km=availability.max_travel_km,
    )


class VolunteerApi(Controller):
    path = "/api"
    tags = ["volunteers"]

    @post("/volunteers", status_code=201, summary="Register as a volunteer (logs the new volunteer in)")
    async def register(self, request: Request, data: JSONBody[RegistrationBody]) -> ProfileOut:
        fields = msgspec.structs.asdict(data)
        user = await services.register_volunteer(
            services.RegistrationInput(**fields, locale=request.cookies.get("lang") or "zh_CN")
        )
        log_in(request, user)
        return _profile_out(await services.get_profile(user))

    @get("/me/profile", guards=[volunteer_only], summary="My volunteer profile")
    async def get_profile(self, request: Request) -> ProfileOut:
        return _profile_out(await services.get_profile(current_user(request)))

    @put("/me/profile", guards=[volunteer_only], summary="Update my volunteer profile")
    async def update_profile(self, request: Request, data: JSONBody[ProfileBody]) -> ProfileOut:
        profile = await services.update_profile(current_user(request), services.ProfileInput(**msgspec.structs.asdict(data)))
        return _profile_out(profile)

    @get("/me/availability", guards=[volunteer_only], summary="My weekly availability and preferences")
    async def get_availability(self, request: Request) -> AvailabilityBody:
        return _availability_out(await services.get_availability(current_user(request)))

    @put("/me/availability", guards=[volunteer_only],
         summary="Replace my availability and preferences (overlapping windows are merged)")
    async def put_availability(self, request: Request, data: JSONBody[AvailabilityBody]) -> AvailabilityBody:
        windows = []
        for window in data.windows:
            start, end = services.parse_time(window.start), services.parse_time(window.end)
            if start is None or end is None:
                raise ValidationFailed(_("Please check the form."),
                                       {"windows": _("Times are written as HH:MM.")})
            windows.append(services.Window(window.weekday, start, end))
        availability = await services.replace_availability(
            current_user(request),
            services.Availability(
                windows=windows,
                unavailable_dates=data.unavailable_dates,
                preferred_kinds=data.preferred_kinds,
                preferred_school_ids=data.preferred_school_ids,
                preferred_site_ids=data.preferred_site_ids,
                max_travel_km=data.max_travel_km,
            ),
        )
        return _availability_out(availability)
