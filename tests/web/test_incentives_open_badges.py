"""Badges exported as Open Badges 2.0: every id in the JSON is an address this app answers, the
assertion names its recipient only by a salted hash, and descriptions say something other than the
criteria. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import urlsplit

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text

from volunteer_hub.incentives.services import BADGES, recipient_identity
from volunteer_hub.shifts.tables import Assignment

CONTEXT = "https://w3id.org/openbadges/v2"


async def _follow(client, url: str) -> dict:
    """GET an id found in the JSON, through the app: it must be one of the app's own addresses."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == str(client.base_url).rstrip("/"), url
    answer = await client.get(parts.path)
    assert answer.status_code == 200, (url, answer.status_code)
    body = answer.json()
    assert body["@context"] == CONTEXT and body["id"] == url
    return body


async def test_exported_badges_resolve_to_assertion_badge_class_and_issuer(client):
    refs = await make_reference_data()
    await make_staff("wangfang", "manager")
    await log_in(client, "wangfang", "Staff2026pass")
    volunteer = await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    shift = await make_shift(refs, starts_in=dt.timedelta(hours=-3), minutes=40, key="escort", kind="escort")
    await Assignment(shift=shift.id, volunteer=volunteer.id, status="confirmed", source="self").save()
    marked = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance",
                       json={"marks": [{"volunteer_id": volunteer.id, "status": "present"}]})
    assert marked.status_code == 200
    phone = await volunteer_client(client, "13900000001")

    urls = (await phone.get("/api/my/badges")).json()
    assert len(urls) == 1
    assertion = await _follow(client, urls[0])  # anyone holding the address can check it (hosted verification)
    assert assertion["type"] == "Assertion" and assertion["verification"] == {"type": "hosted"}
    issued = dt.datetime.fromisoformat(assertion["issuedOn"].replace("Z", "+00:00"))
    assert abs(dt.datetime.now(dt.timezone.utc) - issued) < dt.timedelta(minutes=5)
    recipient = assertion["recipient"]
    assert recipient["type"] == "url" and recipient["hashed"] is True and recipient["salt"]
    identity = recipient_identity(volunteer.id, str(client.base_url).rstrip("/"))
    assert recipient["identity"] == "sha256$" + hashlib.sha256(f"{identity}{recipient['salt']}".encode()).hexdigest()
    # The phone number cannot be recovered by hashing candidates with the published salt.
    for form in (volunteer.phone, f"+86{volunteer.phone}"):
        assert recipient["identity"] != "sha256$" + hashlib.sha256(f"{form}{recipient['salt']}".encode()).hexdigest()
    assert volunteer.phone not in str(assertion)

    badge = await _follow(client, assertion["badge"])
    assert badge["type"] == "BadgeClass" and badge["name"] == "首次护学"  # the manager's language
    assert badge["description"] and badge["description"] != badge["criteria"]["narrative"]
    assert (await client.get(urlsplit(badge["image"]).path)).status_code == 200
    issuer = await _follow(client, badge["issuer"])
    assert issuer["type"] == "Issuer" and issuer["name"] and issuer["url"]

    record = await phone.get("/my/hours")
    assert urlsplit(urls[0]).path in record.text and "Export (Open Badges)" in page_text(record.text)

    forged = urlsplit(urls[0]).path[:-2] + "xx"
    assert (await client.get(forged)).status_code == 404
    assert (await client.get("/api/badges/assertions/1")).status_code == 404  # a bare id is not an address
    assert (await client.get("/api/my/badges")).status_code == 403  # staff hold no badges
    await phone.aclose()


async def test_every_badge_class_resolves_and_describes_more_than_its_criteria(client):
    descriptions = set()
    for definition in BADGES:
        badge = await _follow(client, f"{client.base_url}/api/badges/{definition.code}")
        assert badge["type"] == "BadgeClass" and badge["name"]
        assert badge["description"] != badge["criteria"]["narrative"], definition.code
        descriptions.add(badge["description"])
        assert (await _follow(client, badge["issuer"]))["type"] == "Issuer"
    assert len(descriptions) == len(BADGES)
