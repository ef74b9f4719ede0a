"""The main pages in a real browser: Debian's Chromium driven by Playwright, on a phone-sized screen,
against the app served by uvicorn on localhost with the demo district loaded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("CI requires the browser suite: /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def live_server(migrated):
    """uvicorn serving the app over an emptied database with the demo district loaded (once for the
    module: loading the demo takes a while, and each test uses its own accounts or data)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from support import empty_database

    # Playwright's sync API keeps an event loop running in this thread, so the clean-up runs in another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, empty_database()).result()
    env = dict(os.environ)
    seeded = subprocess.run([sys.executable, "-m", "volunteer_hub", "seed-demo"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    port = _free_port()
    # What `make run` starts: uvicorn with the solver's worker beside it.
    server = subprocess.Popen([sys.executable, "-m", "volunteer_hub", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base_url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
        # Stopping the server stops its worker too: nothing of the server's process group is left.
        for _ in range(100):
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(server.pid, signal.SIGKILL)
            pytest.fail("stopping `python -m volunteer_hub serve` left its worker running")


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    folder = Path(os.environ.get("VH_SCREENSHOT_DIR") or Path(os.environ["VOLUNTEER_HUB_VAR"]) / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_volunteer_registers_on_a_phone_and_sees_the_profile(live_server, phone_page):
    page = phone_page
    page.goto(live_server + "/")
    expect(page.locator("h2", has_text="周五有约")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="注册成为志愿者").first.click()
    page.wait_for_url("**/register")
    page.get_by_label("手机号").fill("13698765432")
    page.get_by_label("密码（至少 8 位，包含字母和数字）").fill("Browser2026pw")
    page.get_by_label("姓名").fill("赵小红")
    page.get_by_label("出生年份").fill("1988")
    page.locator("#home_grid").select_option(index=1)
    page.get_by_label("急救").check()
    page.get_by_label("我已阅读并同意隐私声明。").check()
    screenshot(page, "register-filled")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url("**/availability")
    expect(page.get_by_text("欢迎！您已注册成功。")).to_be_visible()
    page.get_by_role("link", name="我的资料").click()
    page.wait_for_url("**/profile")
    expect(page.locator(".facts").get_by_text("赵小红")).to_be_visible()
    expect(page.locator(".facts").get_by_text("急救")).to_be_visible()
    screenshot(page, "profile")

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live_server + "/")
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("手机号或用户名").fill("13698765432")
    page.get_by_label("密码").fill("Browser2026pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/profile")
    expect(page.locator(".facts").get_by_text("13698765432")).to_be_visible()
def test_demo_manager_logs_in_and_switches_to_english(live_server, phone_page):
    page = phone_page
    page.goto(live_server + "/login")
    page.get_by_label("手机号或用户名").fill("manager")
    page.get_by_label("密码").fill("Manager2026demo")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/staff/accounts")
    expect(page.get_by_role("heading", name="工作人员账号")).to_be_visible()
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/staff/accounts")
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    screenshot(page, "manager-english")
    page.get_by_role("button", name="中文").click()  # the choice is saved on the account: put it back
    page.wait_for_url("**/staff/accounts")
    expect(page.get_by_role("heading", name="工作人员账号")).to_be_visible()
def _log_in(page, base_url: str, login: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(base_url + "/login")
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_coordinator_requests_escorts_manager_approves_volunteer_signs_up(live_server, phone_page):
    page = phone_page
    # A Wednesday more than a week ahead, clear of the demo's own sign-ups.
    today = dt.date.today()
    wednesday = today + dt.timedelta(days=(2 - today.weekday()) % 7 + 14)

    # The coordinator asks for one escort at the side gate after school, on Wednesdays.
    _log_in(page, live_server, "coordinator", "Coord2026demo")
    page.get_by_role("link", name="护学岗申请").click()
    page.get_by_role("link", name="申请护学岗").click()
    page.wait_for_url("**/requests/new")
    crossing = page.locator("select[name=crossing]")
    side_gate = next(o.get_attribute("value") for o in crossing.locator("option").all() if "侧门" in o.inner_text())
    crossing.select_option(side_gate)
    page.get_by_label("放学离校").check()
    for box in page.locator("input[name=weekdays]").all():
        box.set_checked(box.get_attribute("value") == "2")
    page.get_by_label("开始日期").fill(wednesday.isoformat())
    page.get_by_label("结束日期").fill((wednesday + dt.timedelta(days=6)).isoformat())
    page.get_by_label("最少护学人数").fill("1")
    page.get_by_label("理想护学人数").fill("1")
    screenshot(page, "coordinator-request")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    request_path = page.url.split(live_server, 1)[1]
    expect(page.get_by_text("申请已提交")).to_be_visible()
    # The manager finds it among the submitted requests and approves it.
    _log_in(page, live_server, "manager", "Manager2026demo")
    page.goto(live_server + "/requests?status=submitted")
    page.locator(f'a[href="{request_path}"]').click()
    page.get_by_role("button", name="批准").click()
    page.wait_for_url("**" + request_path)
    expect(page.get_by_text("申请已批准")).to_be_visible()
    screenshot(page, "manager-approved")

    # A volunteer finds the new shift in the list on their phone and signs up.
    _log_in(page, live_server, "13800000001", "Volunteer2026")
    page.get_by_role("link", name="找班次").click()
    page.wait_for_url("**/shifts")
    page.get_by_label("开始", exact=True).fill(wednesday.isoformat())
    page.get_by_label("结束", exact=True).fill(wednesday.isoformat())
    page.locator("select[name=kind]").select_option("escort")
    page.get_by_role("button", name="显示").click()
    card = page.locator("article.shift-card", has_text="新蒲第一小学 · 侧门").filter(has_text="放学离校").first
    expect(card.get_by_text("剩余 1 个名额")).to_be_visible()
    card.get_by_role("button", name="报名").click()
    page.wait_for_load_state()
    if page.get_by_role("button", name="是的，为我报名").count():  # outside their stated availability: confirm
        page.get_by_role("button", name="是的，为我报名").click()
    expect(page.get_by_text("报名成功")).to_be_visible()
    card = page.locator("article.shift-card", has_text="新蒲第一小学 · 侧门").filter(has_text="放学离校").first
    expect(card.get_by_text("您已在此班次中。")).to_be_visible()
    screenshot(page, "volunteer-signed-up")
    page.get_by_role("link", name="我的班次").click()
    page.wait_for_url("**/my/shifts")
    expect(page.get_by_text(wednesday.isoformat()).first).to_be_visible()
def test_manager_week_overview_shows_the_demo_month(live_server, phone_page):
    page = phone_page
    _log_in(page, live_server, "manager", "Manager2026demo")
    # Next week: the demo's escorts start today, so on a Friday or at the weekend this week holds little.
    from volunteer_hub.clock import local_today, week_start

    next_monday = week_start(local_today()) + dt.timedelta(days=7)
    page.goto(live_server + f"/overview?week={next_monday.isoformat()}")
    expect(page.get_by_role("heading", name=re.compile("一周总览"))).to_be_visible()
    assert page.locator(".overview a.cell").count() > 50
    screenshot(page, "manager-overview")


def _run(coroutine_function):
    """Run database set-up in another thread: Playwright's sync API keeps this thread's loop busy."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()


def test_volunteer_checks_in_by_qr_link_and_sees_points_and_the_leaderboard(live_server, phone_page):
    async def shift_happening_now() -> int:
        from volunteer_hub.accounts.tables import User
        from volunteer_hub.clock import local_now
        from volunteer_hub.shifts.tables import Assignment, Shift
        from volunteer_hub.sites.tables import Site
        from volunteer_hub.volunteers.tables import Volunteer

        site = await Site.objects().first()
        start = local_now().replace(second=0) - dt.timedelta(minutes=5)
        shift = Shift(source_key="browser:now", site=site.id, grid=site.grid, kind="cleanup", title="浏览器测试清扫",
                      day=start.date(), starts_at=start, ends_at=start + dt.timedelta(minutes=60),
                      latitude=site.latitude, longitude=site.longitude, seats_min=1, seats_ideal=2, seats_max=2,
                      adults_only=False, priority=2)
        await shift.save()
        user = await User.objects().where(User.login == "13800000002").first()
        volunteer = await Volunteer.objects().where(Volunteer.user == user.id).first()
        await Assignment(shift=shift.id, volunteer=volunteer.id, status="confirmed", source="self").save()
        return shift.id

    shift_id = _run(shift_happening_now)
    page = phone_page
    # The coordinator's phone shows the code; its link is what the code holds.
    _log_in(page, live_server, "manager", "Manager2026demo")
    page.goto(f"{live_server}/shifts/{shift_id}/attendance")
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "attendance-qr")
    link = page.get_by_role("link", name="签到链接").get_attribute("href")

    _log_in(page, live_server, "13800000002", "Volunteer2026")
    page.goto(link)
    # A click does not wait for the page it loads: wait_for() and expect() wait for the text of the page
    # that comes back and fail if it never shows; a bare is_visible() (which does not wait) made these
    # tests fail in CI now and then.
    page.get_by_role("button", name="签到").click()
    page.get_by_text("签到成功").wait_for()
    page.get_by_role("button", name="签退").click()
    page.get_by_text("签退成功").wait_for()
    screenshot(page, "checked-out")
    page.get_by_role("link", name="我的服务时长").first.click()
    page.get_by_text("浏览器测试清扫").wait_for()

    page.get_by_role("link", name="排行榜").click()
    page.wait_for_url("**/leaderboard")
    assert page.locator("ol.board li").count() >= 3  # the demo's past week has earned points
    page.get_by_role("link", name="单位").click()
    expect(page.locator("ol.board li").first).to_be_visible()
    screenshot(page, "leaderboard")


def test_manager_plans_and_publishes_a_demo_week_and_a_volunteer_sees_it(live_server, phone_page):
    page = phone_page
    _log_in(page, live_server, "manager", "Manager2026demo")
    page.get_by_role("link", name="排班", exact=True).click()
    page.wait_for_url("**/plan")
    expect(page.get_by_role("heading", name="排班", exact=True)).to_be_visible()
    expect(page.locator("#supply")).to_be_visible()
    page.locator("input[name=time_limit]").fill("20")
    screenshot(page, "plan-demand")
    page.get_by_role("button", name="开始自动排班").click()
    page.wait_for_url(re.compile(r".*/plan/runs/\d+$"))
    # The page polls the run and reloads itself with the preview when the solver is done.
    page.locator("#publish").wait_for(timeout=120_000)
    assert page.locator(".plan-grid a.cell").count() > 20
    screenshot(page, "plan-preview")
    page.locator("#publish").click()
    expect(page.get_by_text(re.compile("已发布为版本 1"))).to_be_visible()
    async def planned_volunteer() -> str:
        from volunteer_hub.shifts.tables import Assignment
        from volunteer_hub.volunteers.tables import Volunteer

        row = await Assignment.select(Assignment.volunteer).where(Assignment.source == "solver").first()
        return (await Volunteer.select(Volunteer.phone).where(Volunteer.id == row["volunteer"]).first())["phone"]

    phone = _run(planned_volunteer)
    _log_in(page, live_server, phone, "Volunteer2026")
    page.goto(live_server + "/my/shifts")
    expect(page.get_by_text("协会为您安排").first).to_be_visible()
    expect(page.get_by_role("button", name="婉拒").first).to_be_visible()
    screenshot(page, "volunteer-planned-shifts")
