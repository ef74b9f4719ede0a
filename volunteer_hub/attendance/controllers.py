"""Attendance: check-in by QR code (volunteers), the attendance sheet (coordinators, managers), the
volunteer's hours record: pages and JSON API."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_VOLUNTEER
from volunteer_hub.attendance import services
from volunteer_hub.attendance.tables import ATTENDANCE_STATES
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render
from volunteer_hub.web.qr import check_in_url, qr_svg

volunteer_only = roles_required(ROLE_VOLUNTEER)
keepers = roles_required(ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)


def status_label(status: str | None) -> str:
    return {"present": _("Present"), "late": _("Late"), "left_early": _("Left early"),
            "no_show": _("No-show")}.get(status or "", _("Not recorded"))


class TokenBody(msgspec.Struct):
    token: str


class AttendanceOut(msgspec.Struct):
    shift_id: int
    status: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    verified_minutes: int


class MarkBody(msgspec.Struct):
    volunteer_id: int
    status: str
    minutes: int | None = None


class MarksBody(msgspec.Struct):
    marks: list[MarkBody]
    reason: str = ""


class SheetLineOut(msgspec.Struct):
    volunteer_id: int
    name: str
    status: str | None
    minutes: int


class HoursOut(msgspec.Struct):
    total_minutes: int
    points: int


def _attendance_out(row) -> AttendanceOut:
    return AttendanceOut(shift_id=row.shift, status=row.status, checked_in_at=row.checked_in_at,
                         checked_out_at=row.checked_out_at, verified_minutes=row.verified_minutes)


class AttendancePages(Controller):
    include_in_schema = False

    @get("/checkin/{token:str}", guards=[volunteer_only])
    async def check_in_page(self, request: Request, token: FromPath[str]) -> Template:
        view = await services.check_in_view(current_user(request), token)
        return render(request, "attendance/checkin.html", view=view, status_label=status_label)

    @post("/checkin/{token:str}/in", guards=[volunteer_only])
    async def check_in(self, request: Request, token: FromPath[str]) -> Redirect:
        await services.check_in(current_user(request), token)
        flash(request, _("Checked in. Thank you for coming!"), category="success")
        return Redirect(path=f"/checkin/{token}", status_code=303)

    @post("/checkin/{token:str}/out", guards=[volunteer_only])
    async def check_out(self, request: Request, token: FromPath[str]) -> Redirect:
        attendance = await services.check_out(current_user(request), token)
        flash(request, _("Checked out: %(minutes)s minutes of service recorded.", minutes=attendance.verified_minutes),
              category="success")
        return Redirect(path=f"/checkin/{token}", status_code=303)

    @get("/shifts/{shift_id:int}/attendance", guards=[keepers])
    async def sheet(self, request: Request, shift_id: FromPath[int]) -> Template:
        return await _sheet_page(request, shift_id)

    @post("/shifts/{shift_id:int}/attendance", guards=[keepers])
    async def mark(self, request: Request, shift_id: FromPath[int]) -> Template | Redirect:
        form = FormReader(await request.form())
        marks = []
        for volunteer_id in form.integers("volunteer"):
            status = form.text(f"status_{volunteer_id}")
            if status:
                marks.append(services.Mark(volunteer_id=volunteer_id, status=status,
                                           minutes=form.integer(f"minutes_{volunteer_id}")))
        try:
            changed = await services.mark_attendance(current_user(request), shift_id, marks, reason=form.text("reason"))
        except ValidationFailed as error:
            return await _sheet_page(request, shift_id, status_code=error.status_code, message=error.message,
                                     errors={**error.field_errors, **form.errors})
        flash(request, _("Attendance saved (%(n)s changed).", n=changed), category="success")
        return Redirect(path=f"/shifts/{shift_id}/attendance", status_code=303)

    @get("/my/hours", guards=[volunteer_only])
    async def my_hours(self, request: Request) -> Template:
        record = await services.hours_record(current_user(request))
        return render(request, "attendance/hours.html", record=record, status_label=status_label)


async def _sheet_page(request: Request, shift_id: int, status_code: int = 200, **context) -> Template:
    shift, lines = await services.attendance_sheet(current_user(request), shift_id)
    url = check_in_url(request, shift_id)
    return render(request, "attendance/sheet.html", status_code=status_code, shift=shift, lines=lines,
                  check_in_url=url, qr=qr_svg(url, scale=6), states=[(s, status_label(s)) for s in ATTENDANCE_STATES],
                  status_label=status_label, **context)


class AttendanceApi(Controller):
    path = "/api"
    tags = ["attendance"]

    @post("/checkin", guards=[volunteer_only], status_code=201, summary="Check in with the token of a shift's QR code")
    async def check_in(self, request: Request, data: JSONBody[TokenBody]) -> AttendanceOut:
        return _attendance_out(await services.check_in(current_user(request), data.token))

    @post("/checkout", guards=[volunteer_only], status_code=200, summary="Check out; the verified minutes are counted")
    async def check_out(self, request: Request, data: JSONBody[TokenBody]) -> AttendanceOut:
        return _attendance_out(await services.check_out(current_user(request), data.token))

    @get("/shifts/{shift_id:int}/attendance", guards=[keepers], summary="Who is on a shift and what is recorded")
    async def sheet(self, request: Request, shift_id: FromPath[int]) -> list[SheetLineOut]:
        _shift, lines = await services.attendance_sheet(current_user(request), shift_id)
        return [SheetLineOut(volunteer_id=l.volunteer_id, name=l.name, status=l.status, minutes=l.minutes) for l in lines]

    @put("/shifts/{shift_id:int}/attendance", guards=[keepers],
         summary="Mark attendance (present, late, left_early, no_show); changing a record needs a reason")
    async def mark(self, request: Request, shift_id: FromPath[int], data: JSONBody[MarksBody]) -> dict[str, int]:
        marks = [services.Mark(volunteer_id=m.volunteer_id, status=m.status, minutes=m.minutes) for m in data.marks]
        return {"changed": await services.mark_attendance(current_user(request), shift_id, marks, reason=data.reason)}

    @get("/my/hours", guards=[volunteer_only], summary="My verified service minutes and points balance")
    async def my_hours(self, request: Request) -> HoursOut:
        record = await services.hours_record(current_user(request))
        return HoursOut(total_minutes=record.total_minutes, points=record.balance)
