"""Incentive rules (managers), leaderboards (everyone logged in), badges as Open Badges: pages and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_VOLUNTEER
from volunteer_hub.clock import local_today
from volunteer_hub.errors import NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.incentives import evaluation, services
from volunteer_hub.volunteers.services import ACTIVITY_KINDS, kind_label, volunteer_for_user
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)
anyone = roles_required(ROLE_VOLUNTEER, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)
NUMBER_FIELDS = ("streak_length", "streak_bonus", "hard_to_fill_priority", "hard_to_fill_multiplier", "early_escort_multiplier", "bad_weather_multiplier",
                 "festival_multiplier", "first_shift_bonus", "no_show_penalty_factor", "late_cancellation_penalty",
                 "daily_cap")
WHOLE_FIELDS = ("streak_length", "streak_bonus", "hard_to_fill_priority", "first_shift_bonus", "late_cancellation_penalty", "daily_cap")


def board_label(board: str) -> str:
    return {"volunteers": _("Volunteers"), "units": _("Units"), "grids": _("Grids")}[board]


def period_label(period: str) -> str:
    return {"week": _("This week"), "month": _("This month"), "quarter": _("This quarter"), "year": _("This year"),
            "all": _("All time")}[period]


class BoardRowOut(msgspec.Struct):
    rank: int
    name: str
    points: int


class RulesBody(msgspec.Struct):
    effective_from: dt.date
    changes: dict


def _changes_from_form(form: FormReader) -> dict:
    changes: dict = {"points_per_hour": {}}
    for kind in ACTIVITY_KINDS:
        value = form.number(f"rate_{kind}")
        if value is not None:
            changes["points_per_hour"][kind] = value
    for name in NUMBER_FIELDS:
        value = form.integer(name) if name in WHOLE_FIELDS else form.number(name)
        if value is not None:
            changes[name] = value
    stars = form.text("star_hours")
    if stars:
        try:
            changes["star_hours"] = [int(part) for part in stars.replace(",", " ").split()]
        except ValueError:
            form.errors["star_hours"] = _("Give five rising numbers of hours, one per star.")
    changes["early_escort_before"] = form.text("early_escort_before") or "07:30"
    changes["bad_weather_days"] = [d.isoformat() for d in form.dates("bad_weather_days")]
    return changes


class IncentivePages(Controller):
    include_in_schema = False

    @get("/incentives/rules", guards=[staff_only])
    async def rules(self, request: Request) -> Template:
        return await _rules_page(request)

    @post("/incentives/rules", guards=[staff_only])
    async def add_version(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        changes = _changes_from_form(form)
        try:
            day = dt.date.fromisoformat(form.text("effective_from"))
        except ValueError:
            day = None
        try:
            if form.errors:
                raise ValidationFailed(_("Please check the form."), {})
            await services.add_rule_version(current_user(request), day, changes)
        except ValidationFailed as error:
            return await _rules_page(request, status_code=error.status_code, message=error.message,
                                     errors={**error.field_errors, **form.errors})
        flash(request, _("The new rules apply from %(day)s.", day=day.isoformat()), category="success")
        return Redirect(path="/incentives/rules", status_code=303)

    @get("/leaderboard", guards=[anyone])
    async def leaderboard(self, request: Request, board: FromQuery[str] = "volunteers",
                          period: FromQuery[str] = "quarter") -> Template:
        user = current_user(request)
        me = (await volunteer_for_user(user)).id if user.role == ROLE_VOLUNTEER else None
        rows = await services.leaderboard(board, period, viewer_volunteer_id=me)
        hidden = await services.is_hidden_from_boards(user) if me is not None else None
        return render(request, "incentives/leaderboard.html", rows=rows, board=board, period=period, hidden=hidden,
                      boards=[(b, board_label(b)) for b in services.BOARDS],
                      periods=[(p, period_label(p)) for p in services.PERIODS])

    @post("/leaderboard/visibility", guards=[roles_required(ROLE_VOLUNTEER)])
    async def visibility(self, request: Request) -> Redirect:
        form = FormReader(await request.form())
        hidden = form.flag("hidden")
        await services.set_hidden_from_boards(current_user(request), hidden)
        flash(request, _("You are no longer shown on the boards.") if hidden else _("You are shown on the boards again."),
              category="success")
        return Redirect(path="/leaderboard", status_code=303)


async def _rules_page(request: Request, status_code: int = 200, **context) -> Template:
    today = local_today()
    return render(request, "incentives/rules.html", status_code=status_code, rules=await services.rules_on(today),
                  versions=await services.rule_versions(), kinds=[(k, kind_label(k)) for k in ACTIVITY_KINDS],
                  tomorrow=(today + dt.timedelta(days=1)).isoformat(), **context)


class IncentiveApi(Controller):
    path = "/api"
    tags = ["incentives"]

    @get("/leaderboard", guards=[anyone], summary="Top 50 by points earned in a period (names masked)")
    async def leaderboard(self, board: FromQuery[str] = "volunteers", period: FromQuery[str] = "quarter") -> list[BoardRowOut]:
        return [BoardRowOut(rank=r.rank, name=r.name, points=r.points) for r in await services.leaderboard(board, period)]

    @get("/incentives/rules", guards=[staff_only], summary="The incentive rules in force today")
    async def rules(self) -> dict:
        return await services.rules_on(local_today())

    @post("/incentives/rules", guards=[staff_only], status_code=201,
          summary="Add a version of the rules from a date (today or later); unspecified values carry over")
    async def add_version(self, request: Request, data: JSONBody[RulesBody]) -> dict:
        return await services.add_rule_version(current_user(request), data.effective_from, data.changes)

    @get("/badges/issuer", summary="The badges' issuer as an Open Badges 2.0 Profile")
    async def badge_issuer(self, request: Request) -> dict:
        return services.open_badge_issuer(str(request.base_url).rstrip("/"))

    @get("/badges/assertions/{token:str}", summary="One badge granted to a volunteer, as an Open Badges 2.0 Assertion")
    async def badge_assertion(self, request: Request, token: FromPath[str]) -> dict:
        return await services.open_badge_assertion(services.grant_id_from(token), str(request.base_url).rstrip("/"))

    @get("/my/badges", guards=[roles_required(ROLE_VOLUNTEER)],
         summary="The addresses of the logged-in volunteer's badge assertions (Open Badges 2.0)")
    async def my_badges(self, request: Request) -> list[str]:
        volunteer = await volunteer_for_user(current_user(request))
        return await services.assertion_urls_of(volunteer.id, str(request.base_url).rstrip("/"))

    @get("/badges/{code:str}", summary="A badge as an Open Badges 2.0 BadgeClass")
    async def badge_class(self, request: Request, code: FromPath[str]) -> dict:
        badge = services.BADGES_BY_CODE.get(code)
        if badge is None:
            raise NotFound(_("No such badge."))
        return services.open_badge_class(badge, str(request.base_url).rstrip("/"))


# ---------------------------------------------------------------------------------- evaluation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _quarter_params(year: str | None, quarter: str | None, pool: str | None, threshold: str | None
                    ) -> tuple[int, int, Decimal, int]:
    today = local_today()
    try:
        year_value = int(year) if year else today.year
        quarter_value = int(quarter) if quarter else (today.month - 1) // 3 + 1
        pool_value = Decimal(pool) if pool else Decimal(0)
        threshold_value = int(threshold) if threshold else 0
    except (ValueError, InvalidOperation) as error:
        raise ValidationFailed(_("Please give numbers for the year, quarter, pool and threshold.")) from error
    evaluation.quarter_bounds(year_value, quarter_value)  # refuses an impossible quarter
    return year_value, quarter_value, pool_value, threshold_value


def _download(body: bytes, filename: str, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class EvaluationPages(Controller):
    path = "/evaluation"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def quarter(self, request: Request, year: FromQuery[str | None] = None, quarter: FromQuery[str | None] = None,
                      pool: FromQuery[str | None] = None, threshold: FromQuery[str | None] = None) -> Template:
        y, q, money, bar = _quarter_params(year, quarter, pool, threshold)
        units = await evaluation.unit_scores(y, q)
        split = evaluation.award_split(units, money, bar)
        return render(request, "incentives/evaluation.html", year=y, quarter=q, pool=money, threshold=bar, units=units,
                      split=split, grids=await evaluation.grid_scores(y, q), roll=await evaluation.honour_roll(y, q),
                      query=f"year={y}&quarter={q}&pool={money}&threshold={bar}")

    @get("/quarter.xlsx")
    async def quarter_xlsx(self, year: FromQuery[str | None] = None, quarter: FromQuery[str | None] = None,
                           pool: FromQuery[str | None] = None, threshold: FromQuery[str | None] = None) -> Response:
        y, q, money, bar = _quarter_params(year, quarter, pool, threshold)
        return _download(evaluation.to_xlsx(await evaluation.quarter_sheets(y, q, money, bar)), f"evaluation-{y}-Q{q}.xlsx", XLSX)

    @get("/quarter.csv")
    async def quarter_csv(self, year: FromQuery[str | None] = None, quarter: FromQuery[str | None] = None,
                          pool: FromQuery[str | None] = None, threshold: FromQuery[str | None] = None,
                          sheet: FromQuery[int] = 0) -> Response:
        y, q, money, bar = _quarter_params(year, quarter, pool, threshold)
        sheets = list((await evaluation.quarter_sheets(y, q, money, bar)).values())
        if not 0 <= sheet < len(sheets):
            raise ValidationFailed(_("No such table."))
        return _download(evaluation.to_csv(sheets[sheet]), f"evaluation-{y}-Q{q}-{sheet + 1}.csv", "text/csv; charset=utf-8")

    @get("/year")
    async def year(self, request: Request, year: FromQuery[str | None] = None) -> Template:
        y, _q, _money, _bar = _quarter_params(year, "1", None, None)
        sheets = await evaluation.year_sheets(y)
        return render(request, "incentives/year.html", year=y, tables=list(enumerate(sheets.items())))

    @get("/year.xlsx")
    async def year_xlsx(self, year: FromQuery[str | None] = None) -> Response:
        y, _q, _money, _bar = _quarter_params(year, "1", None, None)
        return _download(evaluation.to_xlsx(await evaluation.year_sheets(y)), f"evaluation-{y}.xlsx", XLSX)

    @get("/year.csv")
    async def year_csv(self, year: FromQuery[str | None] = None, sheet: FromQuery[int] = 0) -> Response:
        y, _q, _money, _bar = _quarter_params(year, "1", None, None)
        sheets = list((await evaluation.year_sheets(y)).values())
        if not 0 <= sheet < len(sheets):
            raise ValidationFailed(_("No such table."))
        return _download(evaluation.to_csv(sheets[sheet]), f"evaluation-{y}-{sheet + 1}.csv", "text/csv; charset=utf-8")
