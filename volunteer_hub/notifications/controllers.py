"""Messages to a user (cancelled shifts, waitlist promotions, changed times): page and JSON API."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from volunteer_hub.notifications import services
from volunteer_hub.web.auth import current_user, login_required
from volunteer_hub.web.pages import render


class NotificationOut(msgspec.Struct):
    id: int
    text: str
    created_at: dt.datetime
    read: bool


class NotificationPages(Controller):
    path = "/notifications"
    guards = [login_required]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return render(request, "notifications/index.html", items=await services.for_user(current_user(request)))

    @post("/read")
    async def mark_read(self, request: Request) -> Redirect:
        await services.mark_all_read(current_user(request))
        return Redirect(path="/notifications", status_code=303)


class NotificationApi(Controller):
    path = "/api/notifications"
    tags = ["notifications"]
    guards = [login_required]

    @get("/", summary="My latest messages, newest first")
    async def list_notifications(self, request: Request) -> list[NotificationOut]:
        return [NotificationOut(id=n.id, text=n.text, created_at=n.created_at, read=n.read)
                for n in await services.for_user(current_user(request))]

    @post("/read", status_code=200, summary="Mark all my messages read")
    async def mark_read(self, request: Request) -> dict[str, int]:
        await services.mark_all_read(current_user(request))
        return {"unread": 0}
