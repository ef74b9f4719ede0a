"""Sites of Friday work (managers): pages and JSON API."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import list_grids
from volunteer_hub.sites import services
from volunteer_hub.sites.tables import SITE_CATEGORIES
from volunteer_hub.web.auth import roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)


class SiteBody(msgspec.Struct):
    name: str
    category: str
    grid_id: int
    latitude: float
    longitude: float


class SiteOut(SiteBody):
    id: int


def _site_out(site) -> SiteOut:
    return SiteOut(id=site.id, name=site.name, category=site.category, grid_id=site.grid,
                   latitude=site.latitude, longitude=site.longitude)


def _input_from_form(form: FormReader) -> services.SiteInput:
    return services.SiteInput(name=form.text("name"), category=form.text("category"), grid_id=form.integer("grid"),
                              latitude=form.number("latitude"), longitude=form.number("longitude"))


async def _page(request: Request, status_code: int = 200, **context) -> Template:
    return render(request, "sites/index.html", status_code=status_code, sites=await services.list_sites(),
                  grids=await list_grids(), categories=[(c, services.category_label(c)) for c in SITE_CATEGORIES],
                  category_label=services.category_label, **context)


class SitePages(Controller):
    path = "/sites"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return await _page(request)

    @post("/")
    async def create(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        try:
            site = await services.create_site(_input_from_form(form))
        except ValidationFailed as error:
            return await _page(request, status_code=error.status_code, message=error.message,
                               errors={**error.field_errors, **form.errors}, values=form.form)
        flash(request, _("Site %(name)s added.", name=site.name), category="success")
        return Redirect(path="/sites", status_code=303)

    @get("/{site_id:int}")
    async def edit(self, request: Request, site_id: FromPath[int]) -> Template:
        site = await services.get_site(site_id)
        return render(request, "sites/edit.html", site=site, grids=await list_grids(),
                      categories=[(c, services.category_label(c)) for c in SITE_CATEGORIES],
                      values={"name": site.name, "category": site.category, "grid": site.grid,
                              "latitude": site.latitude, "longitude": site.longitude})

    @post("/{site_id:int}")
    async def update(self, request: Request, site_id: FromPath[int]) -> Template | Redirect:
        site = await services.get_site(site_id)
        form = FormReader(await request.form())
        try:
            await services.update_site(site_id, _input_from_form(form))
        except ValidationFailed as error:
            return render(request, "sites/edit.html", status_code=error.status_code, message=error.message,
                          errors={**error.field_errors, **form.errors}, values=form.form, site=site,
                          grids=await list_grids(), categories=[(c, services.category_label(c)) for c in SITE_CATEGORIES])
        flash(request, _("Saved."), category="success")
        return Redirect(path="/sites", status_code=303)


class SiteApi(Controller):
    path = "/api/sites"
    tags = ["sites"]
    guards = [staff_only]

    @get("/", summary="Sites of Friday work")
    async def list_sites(self) -> list[SiteOut]:
        return [SiteOut(id=row["id"], name=row["name"], category=row["category"], grid_id=row["grid"],
                        latitude=row["latitude"], longitude=row["longitude"]) for row in await services.list_sites()]

    @post("/", summary="Add a site")
    async def create(self, data: JSONBody[SiteBody]) -> SiteOut:
        return _site_out(await services.create_site(services.SiteInput(**msgspec.structs.asdict(data))))

    @put("/{site_id:int}", summary="Change a site")
    async def update(self, site_id: FromPath[int], data: JSONBody[SiteBody]) -> SiteOut:
        return _site_out(await services.update_site(site_id, services.SiteInput(**msgspec.structs.asdict(data))))
