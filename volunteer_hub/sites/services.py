"""Sites where Friday work happens (managers keep them)."""

from __future__ import annotations

from dataclasses import dataclass

from volunteer_hub.db import is_unique_violation
from volunteer_hub.errors import Conflict, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import check_location, grid_exists
from volunteer_hub.sites.tables import SITE_CATEGORIES, Site


def category_label(category: str) -> str:
    return {
        "back_street": _("Back street"), "old_estate": _("Old residential estate"), "urban_village": _("Urban village"),
        "urban_rural_fringe": _("Urban-rural fringe"), "park": _("Park"), "other": _("Other"),
    }.get(category, category)


@dataclass
class SiteInput:
    name: str
    category: str
    grid_id: int | None
    latitude: float | None
    longitude: float | None


async def list_sites() -> list[dict]:
    return await Site.select(Site.all_columns(), Site.grid.name.as_alias("grid_name")).order_by(Site.name)


async def get_site(site_id: int) -> Site:
    site = await Site.objects().where(Site.id == site_id).first()
    if site is None:
        raise NotFound(_("No such site."))
    return site


async def _validated(data: SiteInput) -> None:
    errors: dict[str, str] = {}
    if not data.name.strip() or len(data.name.strip()) > 100:
        errors["name"] = _("Please give a name of at most 100 characters.")
    if data.category not in SITE_CATEGORIES:
        errors["category"] = _("Please choose a category from the list.")
    if not await grid_exists(data.grid_id):
        errors["grid"] = _("Please choose a grid from the list.")
    check_location(data.latitude, data.longitude, errors)
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)


async def _save(site: Site) -> Site:
    try:
        await site.save()
    except Exception as error:
        if is_unique_violation(error):
            message = _("This name is already in use.")
            raise Conflict(message, {"name": message}) from error
        raise
    return site


async def create_site(data: SiteInput) -> Site:
    await _validated(data)
    return await _save(Site(name=data.name.strip(), category=data.category, grid=data.grid_id,
                            latitude=data.latitude, longitude=data.longitude))


async def update_site(site_id: int, data: SiteInput) -> Site:
    site = await get_site(site_id)
    await _validated(data)
    site.name, site.category, site.grid = data.name.strip(), data.category, data.grid_id
    site.latitude, site.longitude = data.latitude, data.longitude
    return await _save(site)
