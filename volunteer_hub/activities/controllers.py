"""Friday activities (managers): pages and JSON API."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER
from volunteer_hub.activities import services
from volunteer_hub.activities.tables import ACTIVITY_KINDS
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.sites.services import list_sites
from volunteer_hub.volunteers.services import SKILLS, format_minute, kind_label, parse_time, skill_label
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)


class ActivityBody(msgspec.Struct):
    site_id: int
    title: str
    kind: str
    first_date: dt.date
    start: str  # HH:MM
    end: str
    seats_min: int
    seats_max: int
    repeat_weekly: bool = False
    until_date: dt.date | None = None
    description: str = ""
    required_skills: list[str] = []
    team_slots: int = 0


class ActivityOut(ActivityBody, kw_only=True):
    id: int
    is_cancelled: bool


def _input_from_body(data: ActivityBody) -> services.ActivityInput:
    return services.ActivityInput(
        site_id=data.site_id, title=data.title, kind=data.kind, description=data.description,
        first_date=data.first_date, repeat_weekly=data.repeat_weekly, until_date=data.until_date,
        start_minute=parse_time(data.start), end_minute=parse_time(data.end), seats_min=data.seats_min,
        seats_max=data.seats_max, required_skills=list(data.required_skills), team_slots=data.team_slots)


def _activity_out(activity) -> ActivityOut:
    return ActivityOut(
        id=activity.id, site_id=activity.site, title=activity.title, kind=activity.kind,
        first_date=activity.first_date, start=format_minute(activity.start_minute), end=format_minute(activity.end_minute),
        seats_min=activity.seats_min, seats_max=activity.seats_max, repeat_weekly=activity.repeat_weekly,
        until_date=activity.until_date, description=activity.description,
        required_skills=[s for s in activity.required_skills.split(",") if s], team_slots=activity.team_slots,
        is_cancelled=activity.is_cancelled)


def _input_from_form(form: FormReader) -> services.ActivityInput:
    return services.ActivityInput(
        site_id=form.integer("site"), title=form.text("title"), kind=form.text("kind"),
        description=form.text("description"), first_date=form.date("first_date"),
        repeat_weekly=form.flag("repeat_weekly"), until_date=form.date("until_date"),
        start_minute=parse_time(form.text("start")), end_minute=parse_time(form.text("end")),
        seats_min=form.integer("seats_min"), seats_max=form.integer("seats_max"),
        required_skills=form.values("required_skills"), team_slots=form.integer("team_slots") or 0)


def _form_values(activity) -> dict:
    out = _activity_out(activity)
    values = msgspec.structs.asdict(out)
    values["site"] = out.site_id
    return values


async def _choices() -> dict:
    return {
        "sites": await list_sites(),
        "kinds": [(kind, kind_label(kind)) for kind in ACTIVITY_KINDS],
        "skills": [(skill, skill_label(skill)) for skill in SKILLS],
    }


class ActivityPages(Controller):
    path = "/activities"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return render(request, "activities/index.html", activities=await services.list_activities(),
                      kind_label=kind_label, format_minute=format_minute)

    @get("/new")
    async def new(self, request: Request) -> Template:
        friday = services.next_friday()
        values = {"first_date": friday.isoformat(), "start": "15:00", "end": "17:00", "seats_min": 5, "seats_max": 20,
                  "repeat_weekly": True, "until_date": (friday + dt.timedelta(weeks=4)).isoformat(), "team_slots": 0}
        return render(request, "activities/form.html", activity=None, values=values, **await _choices())

    @post("/new")
    async def create(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        try:
            if form.errors:
                raise ValidationFailed(_("Please check the form."), {})
            activity = await services.create_activity(current_user(request), _input_from_form(form))
        except ValidationFailed as error:
            return render(request, "activities/form.html", status_code=error.status_code, message=error.message,
                          errors={**error.field_errors, **form.errors}, values=_typed_values(form), activity=None,
                          **await _choices())
        flash(request, _("Activity %(title)s saved; its shifts are open for sign-up.", title=activity.title),
              category="success")
        return Redirect(path="/activities", status_code=303)

    @get("/{activity_id:int}")
    async def edit(self, request: Request, activity_id: FromPath[int]) -> Template:
        activity = await services.get_activity(activity_id)
        return render(request, "activities/form.html", activity=activity, values=_form_values(activity),
                      **await _choices())

    @post("/{activity_id:int}")
    async def update(self, request: Request, activity_id: FromPath[int]) -> Template | Redirect:
        activity = await services.get_activity(activity_id)
        form = FormReader(await request.form())
        try:
            if form.errors:
                raise ValidationFailed(_("Please check the form."), {})
            await services.update_activity(activity_id, _input_from_form(form))
        except ValidationFailed as error:
            return render(request, "activities/form.html", status_code=error.status_code, message=error.message,
                          errors={**error.field_errors, **form.errors}, values=_typed_values(form), activity=activity,
                          **await _choices())
        flash(request, _("Saved. Future shifts follow the change; past ones stay as they were."), category="success")
        return Redirect(path="/activities", status_code=303)

    @post("/{activity_id:int}/cancel")
    async def cancel(self, request: Request, activity_id: FromPath[int]) -> Redirect:
        activity = await services.cancel_activity(activity_id)
        flash(request, _("Activity %(title)s cancelled; everyone signed up has been told.", title=activity.title),
              category="success")
        return Redirect(path="/activities", status_code=303)


def _typed_values(form: FormReader) -> dict:
    values = {key: form.text(key) for key in ("site", "title", "kind", "description", "first_date", "until_date",
                                                "start", "end", "seats_min", "seats_max", "team_slots")}
    values["repeat_weekly"] = form.flag("repeat_weekly")
    values["required_skills"] = form.values("required_skills")
    return values


class ActivityApi(Controller):
    path = "/api/activities"
    tags = ["activities"]
    guards = [staff_only]

    @get("/", summary="Friday and festival activities")
    async def list_activities(self) -> list[ActivityOut]:
        return [_activity_out(a) for a in await services.all_activities()]

    @post("/", summary="Create an activity; its dated shifts are created at once")
    async def create(self, request: Request, data: JSONBody[ActivityBody]) -> ActivityOut:
        return _activity_out(await services.create_activity(current_user(request), _input_from_body(data)))

    @get("/{activity_id:int}", summary="One activity")
    async def get_activity(self, activity_id: FromPath[int]) -> ActivityOut:
        return _activity_out(await services.get_activity(activity_id))

    @put("/{activity_id:int}", summary="Change an activity; future shifts follow, past ones stay")
    async def update(self, activity_id: FromPath[int], data: JSONBody[ActivityBody]) -> ActivityOut:
        return _activity_out(await services.update_activity(activity_id, _input_from_body(data)))

    @post("/{activity_id:int}/cancel", summary="Cancel an activity and its future shifts", status_code=200)
    async def cancel(self, activity_id: FromPath[int]) -> ActivityOut:
        return _activity_out(await services.cancel_activity(activity_id))
