from piccolo.columns import ForeignKey, Real, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from volunteer_hub.reference.tables import Grid


class School(Table):
    name = Varchar(length=100, unique=True)
    address = Varchar(length=200)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict)
    latitude = Real()
    longitude = Real()
