from piccolo.columns import ForeignKey, Real, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from volunteer_hub.reference.tables import Grid

SITE_CATEGORIES = ("back_street", "old_estate", "urban_village", "urban_rural_fringe", "park", "other")


class Site(Table):
    """A place where Friday work happens."""

    name = Varchar(length=100, unique=True)
    category = Varchar(length=30)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict)
    latitude = Real()
    longitude = Real()
