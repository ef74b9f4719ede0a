"""Reference data pages (admins) and API: street offices, communities, grids, units."""

from __future__ import annotations

import msgspec
from litestar.params import FromPath, JSONBody
from litestar import Controller, Request, delete, get, post, put
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN
from volunteer_hub.errors import DomainError, NotFound
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference import services
from volunteer_hub.volunteers.tables import UNIT_KINDS
from volunteer_hub.web.auth import roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

admin_only = roles_required(ROLE_ADMIN)


class ReferencePages(Controller):
    path = "/admin/reference"
    include_in_schema = False
    guards = [admin_only]

    async def _page(self, request: Request, status_code: int = 200, **context) -> Template:
        return render(
            request,
            "reference/index.html",
            status_code=status_code,
            offices=await services.list_street_offices(),
            communities=await services.list_communities(),
            grids=await services.list_grids(),
            units=await services.list_units(),
            unit_kinds=[(kind, services.unit_kind_label(kind)) for kind in UNIT_KINDS],
            unit_kind_label=services.unit_kind_label,
            **context,
        )

    async def _after(self, request: Request, action, form_name: str, values: dict) -> Template | Redirect:
        try:
            await action()
        except DomainError as error:
            return await self._page(request, status_code=error.status_code, message=error.message,
                                    errors={form_name: error.field_errors or {"": error.message}},
                                    values={form_name: values})
        flash(request, _("Saved."), category="success")
        return Redirect(path="/admin/reference", status_code=303)

    @get("/", name="reference")
    async def index(self, request: Request) -> Template:
        return await self._page(request)

    @post("/street-offices")
    async def add_office(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        name = form.text("name")
        return await self._after(request, lambda: services.create_street_office(name), "office", {"name": name})

    @post("/communities")
    async def add_community(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        name, office = form.text("name"), form.integer("street_office")
        return await self._after(request, lambda: services.create_community(name, office), "community",
                                 {"name": name, "street_office": office})

    @post("/grids")
    async def add_grid(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        data = services.GridInput(code=form.text("code"), name=form.text("name"),
                                  community_id=form.integer("community"), latitude=form.number("latitude"),
                                  longitude=form.number("longitude"))
        return await self._after(request, lambda: services.create_grid(data), "grid", vars(data))

    @post("/grids/{grid_id:int}/delete")
    async def remove_grid(self, request: Request, grid_id: FromPath[int]) -> Template | Redirect:
        return await self._after(request, lambda: services.delete_grid(grid_id), "grid_list", {})

    @post("/street-offices/{office_id:int}/rename")
    async def rename_office(self, request: Request, office_id: FromPath[int]) -> Template | Redirect:
        name = FormReader(await request.form()).text("name")
        return await self._after(request, lambda: services.rename_street_office(office_id, name), "office", {})

    @post("/street-offices/{office_id:int}/delete")
    async def remove_office(self, request: Request, office_id: FromPath[int]) -> Template | Redirect:
        return await self._after(request, lambda: services.delete_street_office(office_id), "office", {})

    @post("/communities/{community_id:int}/rename")
    async def rename_community(self, request: Request, community_id: FromPath[int]) -> Template | Redirect:
        name = FormReader(await request.form()).text("name")
        return await self._after(request, lambda: services.rename_community(community_id, name), "community", {})

    @post("/communities/{community_id:int}/delete")
    async def remove_community(self, request: Request, community_id: FromPath[int]) -> Template | Redirect:
        return await self._after(request, lambda: services.delete_community(community_id), "community", {})

    @post("/units")
    async def add_unit(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        name, kind = form.text("name"), form.text("kind")
        return await self._after(request, lambda: services.create_unit(name, kind), "unit", {"name": name, "kind": kind})


# ---------------------------------------------------------------------------------------- API


class GridOut(msgspec.Struct):
    id: int
    code: str
    name: str
    community_id: int
    community_name: str
    street_office_name: str
    latitude: float
    longitude: float


class GridBody(msgspec.Struct):
    code: str
    name: str
    community_id: int
    latitude: float
    longitude: float


class NamedOut(msgspec.Struct):
    id: int
    name: str


class NameBody(msgspec.Struct):
    name: str


class CommunityBody(msgspec.Struct):
    name: str
    street_office_id: int


class UnitOut(msgspec.Struct):
    id: int
    name: str
    kind: str


class UnitBody(msgspec.Struct):
    name: str
    kind: str


def _grid_out(row: dict) -> GridOut:
    return GridOut(id=row["id"], code=row["code"], name=row["name"], community_id=row["community"],
                   community_name=row["community_name"], street_office_name=row["street_office_name"],
                   latitude=row["latitude"], longitude=row["longitude"])


async def _grid_by_id(grid_id: FromPath[int]) -> GridOut:
    rows = [row for row in await services.list_grids() if row["id"] == grid_id]
    if not rows:
        raise NotFound(_("No such grid."))
    return _grid_out(rows[0])


class ReferenceApi(Controller):
    path = "/api/reference"
    tags = ["reference"]

    @get("/grids", summary="All grids (public: registration needs them)")
    async def grids(self) -> list[GridOut]:
        return [_grid_out(row) for row in await services.list_grids()]

    @get("/units", summary="All teams and units (public: registration needs them)")
    async def units(self) -> list[UnitOut]:
        return [UnitOut(id=u.id, name=u.name, kind=u.kind) for u in await services.list_units()]

    @post("/street-offices", guards=[admin_only], summary="Add a street office")
    async def add_office(self, data: JSONBody[NameBody]) -> NamedOut:
        office = await services.create_street_office(data.name)
        return NamedOut(id=office.id, name=office.name)

    @post("/communities", guards=[admin_only], summary="Add a community")
    async def add_community(self, data: JSONBody[CommunityBody]) -> NamedOut:
        community = await services.create_community(data.name, data.street_office_id)
        return NamedOut(id=community.id, name=community.name)

    @put("/street-offices/{office_id:int}", guards=[admin_only], summary="Rename a street office")
    async def rename_office(self, office_id: FromPath[int], data: JSONBody[NameBody]) -> NamedOut:
        office = await services.rename_street_office(office_id, data.name)
        return NamedOut(id=office.id, name=office.name)

    @delete("/street-offices/{office_id:int}", guards=[admin_only], summary="Delete a street office without communities",
            status_code=204)
    async def remove_office(self, office_id: FromPath[int]) -> None:
        await services.delete_street_office(office_id)

    @put("/communities/{community_id:int}", guards=[admin_only], summary="Rename a community")
    async def rename_community(self, community_id: FromPath[int], data: JSONBody[NameBody]) -> NamedOut:
        community = await services.rename_community(community_id, data.name)
        return NamedOut(id=community.id, name=community.name)

    @delete("/communities/{community_id:int}", guards=[admin_only], summary="Delete a community without grids",
            status_code=204)
    async def remove_community(self, community_id: FromPath[int]) -> None:
        await services.delete_community(community_id)

    @post("/grids", guards=[admin_only], summary="Add a grid")
    async def add_grid(self, data: JSONBody[GridBody]) -> GridOut:
        grid = await services.create_grid(services.GridInput(**msgspec.structs.asdict(data)))
        return await _grid_by_id(grid.id)

    @put("/grids/{grid_id:int}", guards=[admin_only], summary="Change a grid")
    async def change_grid(self, grid_id: FromPath[int], data: JSONBody[GridBody]) -> GridOut:
        await services.update_grid(grid_id, services.GridInput(**msgspec.structs.asdict(data)))
        return await _grid_by_id(grid_id)

    @delete("/grids/{grid_id:int}", guards=[admin_only], summary="Delete an unused grid", status_code=204)
    async def remove_grid(self, grid_id: FromPath[int]) -> None:
        await services.delete_grid(grid_id)

    @post("/units", guards=[admin_only], summary="Add a team or unit")
    async def add_unit(self, data: JSONBody[UnitBody]) -> UnitOut:
        unit = await services.create_unit(data.name, data.kind)
        return UnitOut(id=unit.id, name=unit.name, kind=unit.kind)
