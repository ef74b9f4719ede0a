"""The points shop: volunteers browse and redeem; managers keep the catalogue and fulfil or reject."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER, ROLE_VOLUNTEER
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.points.services import balance
from volunteer_hub.rewards import services
from volunteer_hub.volunteers.services import volunteer_for_user
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

volunteer_only = roles_required(ROLE_VOLUNTEER)
staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)


class RewardBody(msgspec.Struct):
    name: str
    points_cost: int
    stock: int
    active_from: dt.date
    active_until: dt.date | None = None
    description: str = ""
    is_active: bool = True


class RewardOut(RewardBody, kw_only=True):
    id: int


class RedemptionOut(msgspec.Struct):
    id: int
    reward_id: int
    points: int
    status: str


class DecisionBody(msgspec.Struct):
    fulfil: bool
    reason: str = ""


def _reward_out(row) -> RewardOut:
    get = row.__getitem__ if isinstance(row, dict) else lambda name: getattr(row, name)
    return RewardOut(id=get("id"), name=get("name"), points_cost=get("points_cost"), stock=get("stock"),
                     active_from=get("active_from"), active_until=get("active_until"), description=get("description"),
                     is_active=get("is_active"))


def _redemption_out(row) -> RedemptionOut:
    return RedemptionOut(id=row.id, reward_id=row.reward, points=row.points, status=row.status)


class RewardPages(Controller):
    include_in_schema = False

    @get("/rewards", guards=[volunteer_only])
    async def shop(self, request: Request) -> Template:
        user = current_user(request)
        volunteer = await volunteer_for_user(user)
        return render(request, "rewards/shop.html", rewards=await services.catalogue(),
                      balance=await balance(volunteer.id), mine=await services.my_redemptions(user))

    @post("/rewards/{reward_id:int}/redeem", guards=[volunteer_only])
    async def redeem(self, request: Request, reward_id: FromPath[int]) -> Redirect:
        await services.redeem(current_user(request), reward_id)
        flash(request, _("Requested. A manager will hand it to you; your points are set aside."), category="success")
        return Redirect(path="/rewards", status_code=303)

    @get("/rewards/manage", guards=[staff_only])
    async def manage(self, request: Request) -> Template:
        return await _manage_page(request)

    @post("/rewards/manage", guards=[staff_only])
    async def create(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        data = services.RewardInput(name=form.text("name"), points_cost=form.integer("points_cost"),
                                    stock=form.integer("stock"), active_from=form.date("active_from"),
                                    active_until=form.date("active_until"), description=form.text("description"))
        try:
            if form.errors:
                raise ValidationFailed(_("Please check the form."), {})
            await services.create_reward(current_user(request), data)
        except ValidationFailed as error:
            return await _manage_page(request, status_code=error.status_code, message=error.message,
                                      errors={**error.field_errors, **form.errors}, values=form.form)
        flash(request, _("Reward added."), category="success")
        return Redirect(path="/rewards/manage", status_code=303)

    @post("/rewards/redemptions/{redemption_id:int}", guards=[staff_only])
    async def decide(self, request: Request, redemption_id: FromPath[int]) -> Template | Redirect:
        form = FormReader(await request.form())
        fulfil = form.text("decision") == "fulfil"
        try:
            await services.decide(current_user(request), redemption_id, fulfil=fulfil, reason=form.text("reason"))
        except ValidationFailed as error:
            return await _manage_page(request, status_code=error.status_code, message=error.message,
                                      errors=error.field_errors)
        flash(request, _("Handed over.") if fulfil else _("Rejected; the points are refunded."), category="success")
        return Redirect(path="/rewards/manage", status_code=303)


async def _manage_page(request: Request, status_code: int = 200, **context) -> Template:
    user = current_user(request)
    return render(request, "rewards/manage.html", status_code=status_code,
                  rewards=await services.catalogue(include_inactive=True),
                  pending=await services.pending_redemptions(user), **context)


class RewardApi(Controller):
    path = "/api"
    tags = ["rewards"]

    @get("/rewards", guards=[volunteer_only], summary="Rewards on offer now")
    async def catalogue(self) -> list[RewardOut]:
        return [_reward_out(row) for row in await services.catalogue()]

    @post("/rewards", guards=[staff_only], summary="Add a reward to the catalogue")
    async def create(self, request: Request, data: JSONBody[RewardBody]) -> RewardOut:
        return _reward_out(await services.create_reward(current_user(request), services.RewardInput(**msgspec.structs.asdict(data))))

    @put("/rewards/{reward_id:int}", guards=[staff_only], summary="Change a reward")
    async def update(self, request: Request, reward_id: FromPath[int], data: JSONBody[RewardBody]) -> RewardOut:
        return _reward_out(await services.update_reward(current_user(request), reward_id,
                                                        services.RewardInput(**msgspec.structs.asdict(data))))

    @post("/rewards/{reward_id:int}/redeem", guards=[volunteer_only], status_code=201,
          summary="Redeem points for a reward (points are taken now, refunded if a manager rejects)")
    async def redeem(self, request: Request, reward_id: FromPath[int]) -> RedemptionOut:
        return _redemption_out(await services.redeem(current_user(request), reward_id))

    @post("/redemptions/{redemption_id:int}/decision", guards=[staff_only], status_code=200,
          summary="Fulfil or reject (with a reason; refunds) a redemption")
    async def decide(self, request: Request, redemption_id: FromPath[int], data: JSONBody[DecisionBody]) -> RedemptionOut:
        return _redemption_out(await services.decide(current_user(request), redemption_id, data.fulfil, data.reason))
