"""Turning errors into answers: JSON for /api, a page (or a redirect to the login) otherwise.

Every message is in the request's language."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect

from volunteer_hub.errors import DomainError
from volunteer_hub.i18n import gettext as _


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _answer(request: Request, status: int, message: str, field_errors: dict[str, str] | None = None) -> Response:
    if is_api(request):
        body: dict = {"status_code": status, "detail": message}
        if field_errors:
            body["errors"] = field_errors
        return Response(content=body, status_code=status)
    from volunteer_hub.web.pages import render  # pages import the services; errors are imported first

    # Rendered like any page, so the navigation still shows who is logged in.
    return render(request, "error.html", status_code=status, status=status, error_message=message,
                  field_errors=field_errors or {})


def domain_error_handler(request: Request, error: DomainError) -> Response:
    return _answer(request, error.status_code, error.message, error.field_errors)


def not_authorized_handler(request: Request, _error: NotAuthorizedException) -> Response:
    if is_api(request):
        return _answer(request, 401, _("Please log in first."))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(path=f"/login?next={quote(target)}", status_code=303)


def permission_denied_handler(request: Request, error: PermissionDeniedException) -> Response:
    if "csrf" in str(error.detail).lower():
        message = _("This form has expired or did not come from this site. Please reload the page and try again.")
    else:
        message = _("You do not have permission to open this page.")
    return _answer(request, 403, message)


def validation_error_handler(request: Request, error: ValidationException) -> Response:
    field_errors = {}
    for item in error.extra or []:
        if isinstance(item, dict) and item.get("key"):
            field_errors[str(item["key"])] = _("This value is missing or has the wrong type.")
    return _answer(request, 400, _("The request is not valid. Please check the data sent."), field_errors)


def not_found_handler(request: Request, _error: NotFoundException) -> Response:
    return _answer(request, 404, _("This page does not exist."))


def http_error_handler(request: Request, error: HTTPException) -> Response:
    if error.status_code >= 500:
        return _answer(request, error.status_code, _("Something went wrong on our side. Please try again later."))
    return _answer(request, error.status_code, _("The request could not be handled."))


def internal_error_handler(request: Request, error: Exception) -> Response:
    request.logger.exception("unhandled error", exc_info=error)
    return _answer(request, 500, _("Something went wrong on our side. Please try again later."))


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    NotAuthorizedException: not_authorized_handler,
    PermissionDeniedException: permission_denied_handler,
    ValidationException: validation_error_handler,
    NotFoundException: not_found_handler,
    HTTPException: http_error_handler,
}
