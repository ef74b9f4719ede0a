"""Reference data: street offices, communities and grids (admins edit), and units."""

from __future__ import annotations

import re
from dataclasses import dataclass

from volunteer_hub.db import is_unique_violation
from volunteer_hub.errors import Conflict, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.tables import Community, Grid, StreetOffice
from volunteer_hub.volunteers.tables import UNIT_KINDS, Unit, Volunteer

GRID_CODE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def _name_error(name: str) -> str | None:
    if not name or len(name) > 100:
        return _("Please give a name of at most 100 characters.")
    return None


def check_location(latitude: float | None, longitude: float | None, errors: dict[str, str]) -> None:
    if latitude is None or not -90 <= latitude <= 90:
        errors["latitude"] = _("Latitude must be a number from -90 to 90.")
    if longitude is None or not -180 <= longitude <= 180:
        errors["longitude"] = _("Longitude must be a number from -180 to 180.")


async def _save_unique(row, message: str) -> None:
    try:
        await row.save()
    except Exception as error:
        if is_unique_violation(error):
            raise Conflict(message, {"name": message}) from error
        raise


async def list_street_offices() -> list[StreetOffice]:
    return await StreetOffice.objects().order_by(StreetOffice.name)


async def create_street_office(name: str) -> StreetOffice:
    name = name.strip()
    if problem := _name_error(name):
        raise ValidationFailed(_("Please check the form."), {"name": problem})
    office = StreetOffice(name=name)
    await _save_unique(office, _("This name is already in use."))
    return office


async def list_communities() -> list[dict]:
    return await Community.select(
        Community.id, Community.name, Community.street_office, Community.street_office.name.as_alias("street_office_name")
    ).order_by(Community.street_office.name).order_by(Community.name)


async def create_community(name: str, street_office_id: int | None) -> Community:
    name = name.strip()
    errors = {}
    if problem := _name_error(name):
        errors["name"] = problem
    if street_office_id is None or not await StreetOffice.exists().where(StreetOffice.id == street_office_id):
        errors["street_office"] = _("Please choose an existing street office.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    community = Community(name=name, street_office=street_office_id)
    await _save_unique(community, _("This name is already in use."))
    return community


@dataclass
class GridInput:
    code: str
    name: str
    community_id: int | None
    latitude: float | None
    longitude: float | None


async def list_grids() -> list[dict]:
    return await Grid.select(
        Grid.id,
        Grid.code,
        Grid.name,
        Grid.latitude,
        Grid.longitude,
        Grid.community,
        Grid.community.name.as_alias("community_name"),
        Grid.community.street_office.name.as_alias("street_office_name"),
    ).order_by(Grid.code)


async def get_grid(grid_id: int) -> Grid:
    grid = await Grid.objects().where(Grid.id == grid_id).first()
    if grid is None:
        raise NotFound(_("No such grid."))
    return grid


async def grid_exists(grid_id: int | None) -> bool:
    return grid_id is not None and await Grid.exists().where(Grid.id == grid_id)


async def _validate_grid(data: GridInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not GRID_CODE_PATTERN.match(data.code.strip()):
        errors["code"] = _("A grid code has 1 to 20 letters, digits or dashes.")
    if problem := _name_error(data.name.strip()):
        errors["name"] = problem
    if data.community_id is None or not await Community.exists().where(Community.id == data.community_id):
        errors["community"] = _("Please choose an existing community.")
    check_location(data.latitude, data.longitude, errors)
    return errors


async def create_grid(data: GridInput) -> Grid:
    if errors := await _validate_grid(data):
        raise ValidationFailed(_("Please check the form."), errors)
    grid = Grid(
        code=data.code.strip(),
        name=data.name.strip(),
        community=data.community_id,
        latitude=data.latitude,
        longitude=data.longitude,
    )
    await _save_unique(grid, _("This grid code is already in use."))
    return grid


async def update_grid(grid_id: int, data: GridInput) -> Grid:
    grid = await get_grid(grid_id)
    if errors := await _validate_grid(data):
        raise ValidationFailed(_("Please check the form."), errors)
    grid.code = data.code.strip()
    grid.name = data.name.strip()
    grid.community = data.community_id
    grid.latitude = data.latitude
    grid.longitude = data.longitude
    await _save_unique(grid, _("This grid code is already in use."))
    return grid


async def delete_grid(grid_id: int) -> None:
    await get_grid(grid_id)
    if await Volunteer.exists().where(Volunteer.home_grid == grid_id):
        raise Conflict(_("This grid is still in use and cannot be deleted."))
    from volunteer_hub.schools.tables import School
    from volunteer_hub.sites.tables import Site

    if await School.exists().where(School.grid == grid_id) or await Site.exists().where(Site.grid == grid_id):
        raise Conflict(_("This grid is still in use and cannot be deleted."))
    await Grid.delete().where(Grid.id == grid_id)


async def list_units() -> list[Unit]:
    return await Unit.objects().order_by(Unit.name)


def unit_kind_label(kind: str) -> str:
    labels = {
        "school_parents": _("School parent group"),
        "company": _("Company"),
        "department": _("Government department"),
        "community": _("Community"),
        "other": _("Other"),
    }
    return labels.get(kind, kind)


async def create_unit(name: str, kind: str) -> Unit:
    name = name.strip()
    errors = {}
    if problem := _name_error(name):
        errors["name"] = problem
    if kind not in UNIT_KINDS:
        errors["kind"] = _("Unknown kind of unit.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    unit = Unit(name=name, kind=kind)
    await _save_unique(unit, _("This name is already in use."))
    return unit


async def rename_street_office(office_id: int, name: str) -> StreetOffice:
    office = await StreetOffice.objects().where(StreetOffice.id == office_id).first()
    if office is None:
        raise NotFound(_("No such street office."))
    name = name.strip()
    if problem := _name_error(name):
        raise ValidationFailed(_("Please check the form."), {"name": problem})
    office.name = name
    await _save_unique(office, _("This name is already in use."))
    return office


async def delete_street_office(office_id: int) -> None:
    if not await StreetOffice.exists().where(StreetOffice.id == office_id):
        raise NotFound(_("No such street office."))
    if await Community.exists().where(Community.street_office == office_id):
        raise Conflict(_("This street office still has communities and cannot be deleted."))
    await StreetOffice.delete().where(StreetOffice.id == office_id)


async def rename_community(community_id: int, name: str) -> Community:
    community = await Community.objects().where(Community.id == community_id).first()
    if community is None:
        raise NotFound(_("No such community."))
    name = name.strip()
    if problem := _name_error(name):
        raise ValidationFailed(_("Please check the form."), {"name": problem})
    community.name = name
    await _save_unique(community, _("This name is already in use."))
    return community


async def delete_community(community_id: int) -> None:
    if not await Community.exists().where(Community.id == community_id):
        raise NotFound(_("No such community."))
    if await Grid.exists().where(Grid.community == community_id):
        raise Conflict(_("This community still has grids and cannot be deleted."))
    await Community.delete().where(Community.id == community_id)
