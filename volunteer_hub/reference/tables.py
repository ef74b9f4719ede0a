from piccolo.columns import Real, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class StreetOffice(Table):
    """街道: the top of the district's management areas."""

    name = Varchar(length=100, unique=True)


class Community(Table):
    """社区, inside a street office."""

    name = Varchar(length=100)
    street_office = ForeignKey(StreetOffice, on_delete=OnDelete.restrict)


class Grid(Table):
    """网格: the smallest management area. Its centre stands in for a volunteer's home location,
    so no home address is ever stored."""

    code = Varchar(length=20, unique=True)
    name = Varchar(length=100)
    community = ForeignKey(Community, on_delete=OnDelete.restrict)
    latitude = Real()
    longitude = Real()
