"""The points shop: a catalogue of rewards; volunteers redeem points, managers fulfil or reject (a
rejection refunds through the ledger and returns the item to stock).

Spending locks the volunteer (through the ledger) and then the reward row, so neither the balance nor
the stock can go below zero however many requests arrive at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER, User
from volunteer_hub.clock import local_today
from volunteer_hub.db import for_update, write_transaction
from volunteer_hub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.points import services as points
from volunteer_hub.rewards.tables import FULFILLED, REJECTED, REQUESTED, Redemption, Reward
from volunteer_hub.volunteers.services import volunteer_for_user

STAFF = (ROLE_MANAGER, ROLE_ADMIN)
MAX_COST = 1_000_000
MAX_STOCK = 100_000


@dataclass
class RewardInput:
    name: str
    points_cost: int | None
    stock: int | None
    active_from: dt.date | None
    active_until: dt.date | None = None
    description: str = ""
    is_active: bool = True


def _errors(data: RewardInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip() or len(data.name.strip()) > 100:
        errors["name"] = _("Please give a name of at most 100 characters.")
    if data.points_cost is None or not 1 <= data.points_cost <= MAX_COST:
        errors["points_cost"] = _("The price is a whole number of points from 1 to %(n)s.", n=MAX_COST)
    if data.stock is None or not 0 <= data.stock <= MAX_STOCK:
        errors["stock"] = _("The stock is a whole number from 0 to %(n)s.", n=MAX_STOCK)
    if data.active_from is None:
        errors["active_from"] = _("Please give the date.")
    elif data.active_until is not None and data.active_until < data.active_from:
        errors["active_until"] = _("The last date must not be before the first.")
    if len(data.description) > 2000:
        errors["description"] = _("At most 2000 characters.")
    return errors


def _check_staff(user: User) -> None:
    if user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))


async def create_reward(user: User, data: RewardInput) -> Reward:
    _check_staff(user)
    if errors := _errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    reward = Reward(name=data.name.strip(), description=data.description.strip(), points_cost=data.points_cost,
                    stock=data.stock, active_from=data.active_from, active_until=data.active_until,
                    is_active=data.is_active)
    await reward.save()
    return reward


async def update_reward(user: User, reward_id: int, data: RewardInput) -> Reward:
    _check_staff(user)
    if errors := _errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    async with write_transaction():
        if await for_update(Reward.select(Reward.id).where(Reward.id == reward_id)).first() is None:
            raise NotFound(_("No such reward."))
        await Reward.update({
            Reward.name: data.name.strip(), Reward.description: data.description.strip(),
            Reward.points_cost: data.points_cost, Reward.stock: data.stock, Reward.active_from: data.active_from,
            Reward.active_until: data.active_until, Reward.is_active: data.is_active,
        }).where(Reward.id == reward_id)
    return await Reward.objects().where(Reward.id == reward_id).first()


async def catalogue(include_inactive: bool = False) -> list[dict]:
    query = Reward.select().order_by(Reward.points_cost)
    if not include_inactive:
        today = local_today()
        query = query.where((Reward.is_active == True) & (Reward.active_from <= today)  # noqa: E712
                            & (Reward.active_until.is_null() | (Reward.active_until >= today)))
    return await query


async def redeem(user: User, reward_id: int) -> Redemption:
    volunteer = await volunteer_for_user(user)
    async with write_transaction():
        await points.lock_volunteer(volunteer.id)
        row = await for_update(Reward.select().where(Reward.id == reward_id)).first()
        if row is None:
            raise NotFound(_("No such reward."))
        today = local_today()
        if not row["is_active"] or row["active_from"] > today or (row["active_until"] and row["active_until"] < today):
            raise Conflict(_("This reward is not offered at the moment."))
        if row["stock"] <= 0:
            raise Conflict(_("This reward is out of stock."))
        if await points.balance(volunteer.id) < row["points_cost"]:
            raise Conflict(_("You do not have enough points for this reward."))
        await Reward.update({Reward.stock: Reward.stock - 1}).where(Reward.id == reward_id)
        redemption = Redemption(reward=reward_id, volunteer=volunteer.id, points=row["points_cost"], status=REQUESTED)
        await redemption.save()
        await points.add_entry(volunteer.id, -row["points_cost"], rule="redemption", source="redemption",
                               source_id=redemption.id, key=f"redemption:{redemption.id}", created_by=user.id,
                               note=row["name"][:200])
    return redemption


async def decide(user: User, redemption_id: int, fulfil: bool, reason: str = "") -> Redemption:
    _check_staff(user)
    if not fulfil and not reason.strip():
        raise ValidationFailed(_("Please check the form."), {"reason": _("Please give a reason for the rejection.")})
    existing = await Redemption.objects().where(Redemption.id == redemption_id).first()
    if existing is None:
        raise NotFound(_("No such redemption."))
    async with write_transaction():
        await points.lock_volunteer(existing.volunteer)
        row = await for_update(Redemption.select().where(Redemption.id == redemption_id)).first()
        if row["status"] != REQUESTED:
            raise Conflict(_("This redemption has already been dealt with."))
        await Redemption.update({
            Redemption.status: FULFILLED if fulfil else REJECTED, Redemption.reason: reason.strip()[:500],
            Redemption.decided_by: user.id, Redemption.decided_at: dt.datetime.now(dt.timezone.utc),
        }).where(Redemption.id == redemption_id)
        redemption = await Redemption.objects().where(Redemption.id == redemption_id).first()
        if not fulfil:
            await Reward.update({Reward.stock: Reward.stock + 1}).where(Reward.id == redemption.reward)
            await points.add_entry(redemption.volunteer, redemption.points, rule="redemption_refund", source="redemption",
                                   source_id=redemption.id, key=f"redemption:{redemption.id}:refund",
                                   created_by=user.id, note=redemption.reason[:200])
    return redemption


async def my_redemptions(user: User) -> list[dict]:
    volunteer = await volunteer_for_user(user)
    return await Redemption.select(Redemption.all_columns(), Redemption.reward.name.as_alias("reward_name")).where(
        Redemption.volunteer == volunteer.id).order_by(Redemption.id, ascending=False)


async def pending_redemptions(user: User) -> list[dict]:
    _check_staff(user)
    return await Redemption.select(Redemption.all_columns(), Redemption.reward.name.as_alias("reward_name"),
                                   Redemption.volunteer.name.as_alias("volunteer_name"),
                                   Redemption.volunteer.phone.as_alias("volunteer_phone")).where(
        Redemption.status == REQUESTED).order_by(Redemption.id)
