"""Friday activities at sites: one-off or weekly; they expand into dated shifts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from volunteer_hub.accounts.tables import User
from volunteer_hub.activities.tables import ACTIVITY_KINDS, Activity
from volunteer_hub.clock import local_today
from volunteer_hub.errors import Conflict, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers.services import SKILLS

MAX_SEATS = 200
MAX_WEEKS = 53


@dataclass
class ActivityInput:
    site_id: int | None
    title: str
    kind: str
    description: str = ""
    first_date: dt.date | None = None
    repeat_weekly: bool = False
    until_date: dt.date | None = None
    start_minute: int | None = None
    end_minute: int | None = None
    seats_min: int | None = None
    seats_max: int | None = None
    required_skills: list[str] = field(default_factory=list)
    team_slots: int = 0


async def _validated(data: ActivityInput, allow_past_start: bool = False) -> None:
    errors: dict[str, str] = {}
    if data.site_id is None or not await Site.exists().where(Site.id == data.site_id):
        errors["site"] = _("Please choose a site from the list.")
    if not data.title.strip() or len(data.title.strip()) > 100:
        errors["title"] = _("Please give a title of at most 100 characters.")
    if data.kind not in ACTIVITY_KINDS:
        errors["kind"] = _("Please choose a kind from the list.")
    if len(data.description) > 2000:
        errors["description"] = _("At most 2000 characters.")
    if data.first_date is None:
        errors["first_date"] = _("Please give the date.")
    elif data.first_date < local_today() and not allow_past_start:
        errors["first_date"] = _("The first date must not be in the past.")
    elif data.repeat_weekly:
        if data.until_date is None or data.until_date < data.first_date:
            errors["until_date"] = _("A weekly activity needs a last date on or after the first.")
        elif (data.until_date - data.first_date).days > MAX_WEEKS * 7:
            errors["until_date"] = _("A weekly activity runs for at most a year.")
    if data.start_minute is None or data.end_minute is None or not 0 <= data.start_minute < data.end_minute <= 24 * 60:
        errors["time"] = _("The activity must end after it starts, within the day.")
    if data.seats_min is None or not 1 <= data.seats_min <= MAX_SEATS:
        errors["seats_min"] = _("The minimum must be from 1 to %(n)s.", n=MAX_SEATS)
    elif data.seats_max is None or not data.seats_min <= data.seats_max <= MAX_SEATS:
        errors["seats_max"] = _("The maximum must be at least the minimum and at most %(n)s.", n=MAX_SEATS)
    unknown = [skill for skill in data.required_skills if skill not in SKILLS]
    if unknown:
        errors["required_skills"] = _("Unknown skill: %(skill)s", skill=", ".join(unknown))
    if data.team_slots is None or data.team_slots < 0 or (data.seats_max is not None and data.team_slots > data.seats_max):
        errors["team_slots"] = _("Team seats must be from 0 to the maximum.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)


def _apply(activity: Activity, data: ActivityInput) -> None:
    activity.site, activity.title, activity.kind = data.site_id, data.title.strip(), data.kind
    activity.description = data.description.strip()
    activity.first_date, activity.repeat_weekly = data.first_date, data.repeat_weekly
    activity.until_date = data.until_date if data.repeat_weekly else None
    activity.start_minute, activity.end_minute = data.start_minute, data.end_minute
    activity.seats_min, activity.seats_max = data.seats_min, data.seats_max
    activity.required_skills = ",".join(sorted(set(data.required_skills)))
    activity.team_slots = data.team_slots


async def get_activity(activity_id: int) -> Activity:
    activity = await Activity.objects().where(Activity.id == activity_id).first()
    if activity is None:
        raise NotFound(_("No such activity."))
    return activity


async def create_activity(user: User, data: ActivityInput) -> Activity:
    from volunteer_hub.shifts.services import expand_activity

    await _validated(data)
    activity = Activity(created_by=user.id)
    _apply(activity, data)
    await activity.save()
    await expand_activity(activity)
    return activity


async def update_activity(activity_id: int, data: ActivityInput) -> Activity:
    """Future shifts follow the change; past ones and their attendance stay as they were."""
    from volunteer_hub.shifts.services import expand_activity

    activity = await get_activity(activity_id)
    if activity.is_cancelled:
        raise Conflict(_("This activity is cancelled and cannot be changed."))
    await _validated(data, allow_past_start=True)
    _apply(activity, data)
    await activity.save()
    await expand_activity(activity)
    return activity


async def cancel_activity(activity_id: int) -> Activity:
    from volunteer_hub.shifts.services import expand_activity

    activity = await get_activity(activity_id)
    activity.is_cancelled = True
    await activity.save()
    await expand_activity(activity)
    return activity


async def list_activities() -> list[dict]:
    return await Activity.select(Activity.all_columns(), Activity.site.name.as_alias("site_name")).order_by(
        Activity.first_date
    )


async def all_activities() -> list[Activity]:
    return await Activity.objects().order_by(Activity.first_date).order_by(Activity.id)


def next_friday(today: dt.date | None = None) -> dt.date:
    """The coming Friday (today, if it is one): the default date of a new activity."""
    today = today or local_today()
    return today + dt.timedelta(days=(4 - today.weekday()) % 7)
