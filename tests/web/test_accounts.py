"""Logging in and out, throttling, session renewal, role guards, staff accounts, create-admin."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest
from support import api, csrf_token, log_in, make_reference_data, make_staff, page_text, post_form, registration_form

from volunteer_hub.accounts.tables import User
from volunteer_hub.accounts.throttle import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_LOGIN


async def test_login_and_logout(client):
    await make_staff("manager1", "manager")
    await log_in(client, "manager1", "Staff2026pass")
    me = await client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "manager"
    await post_form(client, "/logout", {})
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_failed_login_does_not_say_whether_the_login_exists(client):
    await make_staff("manager1", "manager")
    wrong_password = await post_form(client, "/login", {"login": "manager1", "password": "Wrong2026pass"})
    unknown_login = await post_form(client, "/login", {"login": "nobody", "password": "Wrong2026pass"})
    assert wrong_password.status_code == unknown_login.status_code == 400
    assert "手机号/用户名或密码错误" in page_text(wrong_password.text)
    assert page_text(wrong_password.text).replace("manager1", "") == page_text(unknown_login.text).replace("nobody", "")


async def test_login_is_throttled_after_repeated_failures(client):
    await make_staff("manager1", "manager")
    for _ in range(5):
        response = await api(client, "POST", "/api/auth/login", json={"login": "manager1", "password": "nope"})
        assert response.status_code == 400
    locked = await api(client, "POST", "/api/auth/login", json={"login": "manager1", "password": "Staff2026pass"})
    assert locked.status_code == 429
    assert "15 分钟" in locked.json()["detail"]


async def test_failed_login_by_phone_does_not_say_whether_the_phone_is_registered(client):
    refs = await make_reference_data()
    assert (await post_form(client, "/register", registration_form(refs["grid"].id, phone="13912345678"))).status_code == 303
    await post_form(client, "/logout", {})
    registered, unknown = "13912345678", "13987654321"
    wrong_password = await post_form(client, "/login", {"login": registered, "password": "Wrong2026pass"})
    no_such_phone = await post_form(client, "/login", {"login": unknown, "password": "Wrong2026pass"})
    assert wrong_password.status_code == no_such_phone.status_code == 400
    assert "手机号/用户名或密码错误" in page_text(wrong_password.text)
    # The whole page is the same once the typed phone number is taken out (the CSRF token aside).
    def page(response, phone):
        return re.sub(r'value="[^"]{20,}"', "", response.text).replace(phone, "PHONE")
    assert page(wrong_password, registered) == page(no_such_phone, unknown)
    api_wrong = await api(client, "POST", "/api/auth/login", json={"login": registered, "password": "Wrong2026pass"})
    api_unknown = await api(client, "POST", "/api/auth/login", json={"login": unknown, "password": "Wrong2026pass"})
    assert api_wrong.status_code == api_unknown.status_code == 400
    assert api_wrong.json() == api_unknown.json() == {"status_code": 400, "detail": "手机号/用户名或密码错误。"}
    assert (await client.get("/api/auth/me")).status_code == 401


def _client_from(client, host: str) -> httpx.AsyncClient:
    """Another client on the same app whose requests come from ``host``."""
    transport = httpx.ASGITransport(app=client._transport.app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url=str(client.base_url))


async def test_login_is_throttled_per_address_across_logins(client):
    await make_staff("manager1", "manager")
    guesser, neighbour = _client_from(client, "10.0.0.7"), _client_from(client, "10.0.0.8")
    try:
        for n in range(MAX_FAILURES_PER_ADDRESS - 1):  # each login fails fewer than its own limit
            failed = await api(guesser, "POST", "/api/auth/login", json={"login": f"user{n}", "password": "nope"})
            assert failed.status_code == 400, (n, failed.text)
        # Successful logins from the address (people behind one office router) do not count against it.
        for _ in range(3):
            assert (await api(guesser, "POST", "/api/auth/login",
                              json={"login": "manager1", "password": "Staff2026pass"})).status_code == 200
            await api(guesser, "POST", "/api/auth/logout")
        assert (await api(guesser, "POST", "/api/auth/login", json={"login": "last", "password": "nope"})).status_code == 400
        locked = await api(guesser, "POST", "/api/auth/login", json={"login": "manager1", "password": "Staff2026pass"})
        assert locked.status_code == 429 and "15 分钟" in locked.json()["detail"]
        page = await post_form(guesser, "/login", {"login": "manager1", "password": "Staff2026pass"})
        assert page.status_code == 429 and "15 分钟" in page_text(page.text)
        assert (await guesser.get("/api/auth/me")).status_code == 401
        # Another address is not locked out, and the account itself is not locked.
        elsewhere = await api(neighbour, "POST", "/api/auth/login", json={"login": "manager1", "password": "Staff2026pass"})
        assert elsewhere.status_code == 200
    finally:
        await guesser.aclose()
        await neighbour.aclose()


async def test_simultaneous_failed_logins_are_all_counted(client):
    await make_staff("manager1", "manager")
    attempts = 3 * MAX_FAILURES_PER_LOGIN
    guessers = [_client_from(client, f"10.0.1.{n}") for n in range(attempts)]
    try:
        for guesser in guessers:
            await csrf_token(guesser)
        answers = await asyncio.gather(*(api(guesser, "POST", "/api/auth/login",
                                             json={"login": "manager1", "password": f"guess{n}"})
                                         for n, guesser in enumerate(guessers)))
        codes = sorted(answer.status_code for answer in answers)
        # Exactly the allowed number of guesses were checked, however many arrived at once.
        assert codes == [400] * MAX_FAILURES_PER_LOGIN + [429] * (attempts - MAX_FAILURES_PER_LOGIN), codes
        right = await api(guessers[0], "POST", "/api/auth/login", json={"login": "manager1", "password": "Staff2026pass"})
        assert right.status_code == 429
    finally:
        for guesser in guessers:
            await guesser.aclose()


async def test_the_counter_adds_up_under_concurrency(tmp_path):
    from litestar.stores.file import FileStore

    from volunteer_hub.accounts.throttle import add

    store = FileStore(tmp_path / "counts", create_directories=True)
    await asyncio.gather(*(add(store, "key", 1) for _ in range(60)), *(add(store, "key", -1) for _ in range(20)))
    assert int(await store.get("key")) == 40


async def test_refused_attempts_do_not_prolong_the_lock_out(tmp_path):
    from litestar.stores.file import FileStore

    from volunteer_hub.accounts.throttle import LOCKOUT_SECONDS, LoginThrottle

    throttle = LoginThrottle(FileStore(tmp_path / "counts", create_directories=True))
    assert all([await throttle.begin_attempt("manager1", "10.0.0.1") for _ in range(MAX_FAILURES_PER_LOGIN)])
    assert 0 < await throttle.store.expires_in("login:manager1") <= LOCKOUT_SECONDS
    # As if most of the lock-out had passed: 100 s are left.
    await throttle.store.set("login:manager1", str(MAX_FAILURES_PER_LOGIN), expires_in=100)
    assert not await throttle.begin_attempt("manager1", "10.0.0.1")
    assert await throttle.count("login:manager1") == MAX_FAILURES_PER_LOGIN
    assert 0 < await throttle.store.expires_in("login:manager1") <= 100


async def test_the_counter_adds_up_under_concurrency_in_redis(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    from litestar.stores.redis import RedisStore

    from volunteer_hub.accounts.throttle import LOCKOUT_SECONDS, LoginThrottle, add

    socket = tmp_path / "redis.sock"
    process = subprocess.Popen([server, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis.asyncio

        connection = redis.asyncio.Redis(unix_socket_path=str(socket))
        for _ in range(200):
            try:
                await connection.ping()
                break
            except (redis.exceptions.ConnectionError, FileNotFoundError):
                await asyncio.sleep(0.01)
        store = RedisStore(connection, namespace="vh_test").with_namespace("login_throttle")
        await asyncio.gather(*(add(store, "key", 1) for _ in range(60)), *(add(store, "key", -1) for _ in range(20)))
        assert int(await store.get("key")) == 40
        assert 0 < await connection.ttl(store._make_key("key")) <= LOCKOUT_SECONDS
        throttle = LoginThrottle(store)
        allowed = await asyncio.gather(*(throttle.begin_attempt("manager1", "10.0.0.1") for _ in range(12)))
        assert allowed.count(True) == 5 and await throttle.count("login:manager1") == 5
        await connection.expire(store._make_key("login:manager1"), 100)  # as if most of the lock-out had passed
        assert not await throttle.begin_attempt("manager1", "10.0.0.1")
        assert 0 < await connection.ttl(store._make_key("login:manager1")) <= 100
        await connection.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_session_id_is_renewed_at_login(client):
    await make_staff("manager1", "manager")
    await post_form(client, "/language", {"locale": "zh_CN"})  # an anonymous session (it holds a flash message)
    anonymous_id = client.cookies.get("session")
    assert anonymous_id and anonymous_id != "null"
    await log_in(client, "manager1", "Staff2026pass")
    logged_in_id = client.cookies.get("session")
    assert logged_in_id not in (None, anonymous_id)
    assert (await client.get("/api/auth/me")).status_code == 200
    # Someone who planted or learnt the anonymous id is not logged in by it.
    client.cookies.set("session", anonymous_id, domain="testserver.local")
    assert (await client.get("/api/auth/me")).status_code == 401


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("volunteer", "/staff/accounts", 403),
        ("volunteer", "/admin/reference", 403),
        ("coordinator", "/staff/accounts", 403),
        ("manager", "/admin/reference", 403),
        ("manager", "/staff/accounts", 200),
        ("admin", "/admin/reference", 200),
        ("coordinator", "/profile", 403),
        ("volunteer", "/api/staff/accounts", 403),
    ],
)
async def test_role_guards(client, role, url, status):
    refs = await make_reference_data()
    if role == "volunteer":
        await post_form(client, "/register", registration_form(refs["grid"].id))
    else:
        await make_staff("someone", role)
        await log_in(client, "someone", "Staff2026pass")
    response = await client.get(url)
    assert response.status_code == status
    if status == 403:
        body = response.json()["detail"] if url.startswith("/api") else page_text(response.text)
        assert "您没有权限" in body


async def test_anonymous_page_visit_redirects_to_login_and_back(client):
    await make_staff("admin1", "admin")
    response = await client.get("/admin/reference", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin/reference"
    login = await post_form(client, "/login", {"login": "admin1", "password": "Staff2026pass", "next": "/admin/reference"})
    assert login.headers["location"] == "/admin/reference"
    evil = await post_form(client, "/login", {"login": "admin1", "password": "Staff2026pass", "next": "//evil.example"})
    assert evil.headers["location"] == "/staff/accounts"
    assert (await client.get("/api/staff/accounts")).status_code == 200


async def test_manager_creates_coordinator_but_not_admin(client):
    await make_staff("manager1", "manager")
    await log_in(client, "manager1", "Staff2026pass")
    created = await post_form(client, "/staff/accounts", {"login": "coord1", "display_name": "李老师",
                                                          "role": "coordinator", "password": "Coord2026pass"})
    assert created.status_code == 303
    assert (await User.objects().where(User.login == "coord1").first()).role == "coordinator"
    refused = await api(client, "POST", "/api/staff/accounts", json={"login": "boss", "display_name": "x",
                                                                     "role": "admin", "password": "Boss2026pass"})
    assert refused.status_code == 403
    duplicate = await post_form(client, "/staff/accounts", {"login": "coord1", "display_name": "李老师",
                                                            "role": "coordinator", "password": "Coord2026pass"})
    assert duplicate.status_code == 409 and "该用户名已被使用" in page_text(duplicate.text)
    weak = await post_form(client, "/staff/accounts", {"login": "coord2", "display_name": "王老师",
                                                       "role": "coordinator", "password": "weak"})
    assert weak.status_code == 400
    assert await User.objects().where(User.login == "coord2").first() is None


async def test_admin_creates_manager_through_api(client):
    await make_staff("admin1", "admin")
    await api(client, "POST", "/api/auth/login", json={"login": "admin1", "password": "Staff2026pass"})
    response = await api(client, "POST", "/api/staff/accounts",
                         json={"login": "manager2", "display_name": "周经理", "role": "manager",
                               "password": "Manager2026x"})
    assert response.status_code == 201 and response.json()["role"] == "manager"
    listing = await client.get("/api/staff/accounts")
    assert {row["login"] for row in listing.json()} == {"admin1", "manager2"}


def test_create_admin_command(db):
    env = {**os.environ, "VOLUNTEER_HUB_ADMIN_PASSWORD": "Admin2026pass"}
    done = subprocess.run([sys.executable, "-m", "volunteer_hub", "create-admin", "root1", "--name", "管理员"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([sys.executable, "-m", "volunteer_hub", "create-admin", "root1"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2
    weak = subprocess.run([sys.executable, "-m", "volunteer_hub", "create-admin", "root2"],
                          env={**env, "VOLUNTEER_HUB_ADMIN_PASSWORD": "weak"}, capture_output=True, text=True,
                          timeout=60)
    assert weak.returncode == 2


async def test_created_admin_can_log_in(client):
    from volunteer_hub.accounts.services import create_admin

    await create_admin("root1", "Admin2026pass", "管理员")
    await log_in(client, "root1", "Admin2026pass")
    assert (await client.get("/admin/reference")).status_code == 200
