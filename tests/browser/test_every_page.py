"""Every page, as every role that may open it, in real headless Chromium with realistic data: the
Chinese pages show no English words or raw codes, axe-core finds no serious or critical violation
on a phone or a desktop, and no page scrolls sideways at 390 px (phone screenshots are saved to
$MINSHENG_SCREENSHOTS, else a temporary folder, and their paths printed)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session, sessionmaker

from api import accounts
from models.appointments import flow as appointments
from models.consultation import flow as consultation
from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import lifecycle, queries
from models.themes import store as theme_store
from models.vocabulary import Status
from tests.browser.villager import DESKTOP, PHONE, database, quiet_server, submit_by_api
from tests.browser.walk import AXE, axe_violations, latin_words, overflow_width, screenshot_dir, visible_text
from tests.server import Server

PASSWORD = "every-page-pass-1"
#: Staff accounts by role: user name, display name, roles, department.
STAFF: dict[str, tuple[str, str, list[str], str | None]] = {
    "admin": ("zhangxz", "张乡长", ["admin"], None),
    "reviewer": ("zhoujing", "周静", ["reviewer"], None),
    "handler": ("liqiang", "李强", ["handler"], "power_station"),
    "deputy": ("wangjg", "王建国", ["deputy"], None),
}
ROLES = (*STAFF, "villager")

if not AXE.exists():
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(
            f"CI=true but axe-core is missing at {AXE} (make test runs npm ci in tests/browser)"
        )
    pytest.skip(f"axe-core is absent at {AXE}; run `npm ci --prefix tests/browser`", allow_module_level=True)


@dataclass
class World:
    """What the seeded database holds that the pages' addresses need."""

    routed_id: int = 0
    handled_id: int = 0
    review_id: int = 0
    theme_id: int = 0
    consultation_id: int = 0
    short_code: str = ""
    code: str = ""
    rating_key: str = ""
    data: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    yield from quiet_server(tmp_path_factory.mktemp("every-page"), weights_cache)


@pytest.fixture(scope="module")
def db(server: Server) -> Iterator[sessionmaker[Session]]:
    yield from database(server)


def _seed(server: Server, db: sessionmaker[Session]) -> World:
    """A township in mid-year: notes waiting for review, routed, being handled (with an extension
    asked for), resolved and rated; a theme with its paper and a consultation; 乡长有约 topics with a
    planned, an accepted and a held session."""
    w = World()
    receipt = submit_by_api(server, "村口的路灯坏了三盏，晚上看不见路，请尽快修一修。")
    w.code, w.rating_key = receipt["tracking_code"], receipt["rating_key"]
    now = utcnow()
    with unit_of_work(db) as s:
        for username, name, roles, dept in STAFF.values():
            accounts.create_staff(
                s, username=username, password=PASSWORD, roles=roles, display_name=name, department_code=dept
            )
        directory.save_deputy(s, actor="zhangxz", now=now, username="wangjg", name="王建国", village="青山村")
        power = directory.department_for(s, "power", None)
        transport = directory.department_for(s, "transport", None)
        assert power is not None and transport is not None
        mk = queries.create_suggestion
        w.review_id = mk(
            s,
            status=Status.NEEDS_REVIEW,
            actor="worker",
            channel="text",
            text="我们村的垃圾没人清运，已经堆了一个星期。",
            category="environment",
            confidence=0.41,
            village="青山村",
            submitter_name="赵大妈",
            submitter_phone="13800001111",
            now=now - timedelta(days=2),
        ).id
        w.routed_id = mk(
            s,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text="三组的电压不稳，灯一直闪。",
            category="power",
            confidence=0.93,
            village="青山村",
            department_id=power.id,
            now=now - timedelta(days=1),
        ).id
        w.handled_id = mk(
            s,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text="五组变压器噪音很大，晚上睡不着。",
            category="power",
            confidence=0.88,
            village="白水村",
            department_id=power.id,
            now=now - timedelta(days=9),
        ).id
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(s, w.handled_id, actor="zhangxz", now=now - timedelta(days=8))
        lifecycle.request_extension(
            s,
            w.handled_id,
            actor="liqiang",
            now=now - timedelta(days=1),
            days=7,
            reason="需要等供电公司的备件。",
        )
        resolved = queries.get_by_tracking_code(s, w.code)
        resolved.category, resolved.department, resolved.status = "power", power, Status.ROUTED
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(s, resolved.id, actor="zhangxz", now=now - timedelta(hours=5))
        lifecycle.resolve(
            s, resolved.id, actor="liqiang", now=now - timedelta(hours=2), result_note="路灯已更换。"
        )
        notes = [
            "五星路停车乱，人行道被占满",
            "五星路又停满了车，孩子上学只能走马路",
            "五星路晚上车辆停满人行道",
        ]
        ids = [
            mk(
                s,
                status=Status.ROUTED,
                actor="worker",
                channel="text",
                text=t,
                category="transport",
                village="青山村",
                department_id=transport.id,
                now=now - timedelta(days=10 + i),
            ).id
            for i, t in enumerate(notes)
        ]
        [theme] = theme_store.replace_automatic_themes(
            s, [theme_store.NewTheme("transport", "五星路停车乱", ["停车"], ids)], now
        )
        w.theme_id = theme.id
        topic = theme_store.promote(s, theme.id, None, None, actor="zhoujing", now=now)
        c = consultation.publish(
            s,
            title=None,
            description="五星路停车怎么管，请大家提意见",
            draft="第一条 划定停车位。\n第二条 夜间禁止在人行道停车。",
            topic_id=topic.id,
            actor="zhoujing",
            now=now,
        )
        w.consultation_id, w.short_code = c.id, c.short_code
        w.data.add(c.short_code)
        invited = appointments.raise_request(
            s,
            origin="deputy",
            mode="invitation",
            title="东山村饮水管道老化",
            detail="管道漏水，水压低。",
            requested_by="wangjg",
            suggestion_ids=[],
            theme_ids=[],
            now=now - timedelta(days=20),
        )
        appointments.record_visit(
            s, invited.id, note="看了三处漏点。", actor="zhangxz", now=now - timedelta(days=19)
        )
        held = appointments.accept_invitation(
            s, invited.id, on=now - timedelta(days=10), actor="zhangxz", now=now - timedelta(days=18)
        )
        appointments.hold(s, held.id, actor="zhangxz", now=now - timedelta(days=10))
        appointments.add_item(
            s,
            held.id,
            request_id=invited.id,
            title="更换东山村主水管",
            actions="住建局一个月内更换。",
            department_code="housing_bureau",
            deadline=now + timedelta(days=20),
            actor="zhangxz",
            now=now - timedelta(days=9),
        )
        accepted = appointments.raise_request(
            s,
            origin="deputy",
            mode="invitation",
            title="青山村小学门口交通安全",
            detail=None,
            requested_by="wangjg",
            suggestion_ids=[],
            theme_ids=[theme.id],
            now=now - timedelta(days=3),
        )
        appointments.accept_invitation(s, accepted.id, on=now + timedelta(days=5), actor="zhangxz", now=now)
        appointments.raise_request(
            s,
            origin="deputy",
            mode="session",
            title="白水村文化礼堂修缮",
            detail=None,
            requested_by="wangjg",
            suggestion_ids=[w.routed_id],
            theme_ids=[],
            now=now - timedelta(days=1),
        )
        appointments.plan_fixed_sessions(
            s,
            first=(now + timedelta(days=30)).date(),
            every_months=2,
            count=2,
            hour=9,
            zone=ZoneInfo("Asia/Shanghai"),
            actor="zhangxz",
            now=now,
        )
    return w


@pytest.fixture(scope="module")
def world(server: Server, db: sessionmaker[Session]) -> World:
    return _seed(server, db)


def staff_pages(w: World) -> list[str]:
    """Every staff page (api/routes/*pages*.py, papers, problem lists, reports, vocabulary,
    accounts), with the addresses of the seeded records."""
    return [
        "/staff",
        "/staff/board",
        f"/staff/suggestions/{w.routed_id}",
        f"/staff/suggestions/{w.handled_id}",
        "/staff/search?q=青山村",
        "/staff/review",
        f"/staff/review/{w.review_id}",
        "/staff/review/model",
        "/staff/reports",
        "/staff/themes",
        f"/staff/themes/{w.theme_id}",
        f"/staff/themes/{w.theme_id}/paper",
        f"/staff/themes/{w.theme_id}/paper/print",
        "/staff/problems",
        "/staff/problems?village=青山村",
        "/staff/problems?department=power_station",
        "/staff/consultations",
        f"/staff/consultations/{w.consultation_id}",
        f"/staff/consultations/{w.consultation_id}/poster",
        "/staff/appointments",
        "/staff/accounts",
        "/staff/admin",
        "/staff/admin/vocabulary",
    ]


@dataclass
class Findings:
    """What one walk saw."""

    opened: dict[str, list[str]] = field(default_factory=dict)  # role -> pages it opened
    refused: dict[str, list[str]] = field(default_factory=dict)  # role -> pages answered 403
    english: list[dict[str, Any]] = field(default_factory=list)
    axe: list[dict[str, Any]] = field(default_factory=list)
    overflow: list[dict[str, Any]] = field(default_factory=list)
    shots: list[str] = field(default_factory=list)
    staff_pages: int = 0


def _sign_in(browser: Browser, server: Server, username: str, device: dict[str, Any]) -> Page:
    page = browser.new_context(**device, bypass_csp=True).new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff**")
    return page


def _look(page: Page, role: str, device: str, label: str, w: World, found: Findings, shots: Path) -> None:
    """Check the page as it is now (the villager's pages are checked after their scripts ran)."""
    page.wait_for_load_state("networkidle")
    where = {"role": role, "device": device, "page": label}
    for v in axe_violations(page):
        found.axe.append({**where, **v})
    if device != "phone":
        return
    words = latin_words(visible_text(page), w.data | {w.code, w.rating_key})
    if words:
        found.english.append({**where, "words": words})
    width = overflow_width(page)
    if width > PHONE["viewport"]["width"]:
        found.overflow.append({**where, "width": width})
    name = f"{role}-{label.strip('/').replace('/', '_').replace('?', '_').replace('=', '-') or 'home'}.png"
    page.screenshot(path=str(shots / name), full_page=True)
    found.shots.append(str(shots / name))


def _walk_villager(
    browser: Browser, server: Server, w: World, device: str, found: Findings, shots: Path
) -> None:
    ctx = PHONE if device == "phone" else DESKTOP
    page = browser.new_context(**ctx, bypass_csp=True).new_page()
    opened = found.opened.setdefault("villager", [])
    page.goto(f"{server.url}/")
    _look(page, "villager", device, "/", w, found, shots)
    page.fill("#text", "青山村三组的自来水有黄泥，烧开了也不干净。")
    page.click("#text-form button[type=submit]")
    page.wait_for_url("**/receipt/**")
    _look(page, "villager", device, "/receipt", w, found, shots)
    w.data.add(page.locator("#tracking-code").inner_text().strip())
    page.goto(f"{server.url}/")
    page.locator("#mine-list li").first.wait_for()
    _look(page, "villager", device, "/mine", w, found, shots)
    opened += ["/", "/receipt", "/mine"]
    for label, path in [
        ("/track", "/track"),
        ("/track/CODE", f"/track/{w.code}"),
        ("/track/CODE/KEY", f"/track/{w.code}/{w.rating_key}"),
        ("/t/CODE", f"/t/{w.short_code}"),
        ("/login", "/login"),
    ]:
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        opened.append(label)
        _look(page, "villager", device, label, w, found, shots)


def _walk_staff(
    browser: Browser, server: Server, w: World, role: str, device: str, found: Findings, shots: Path
) -> None:
    page = _sign_in(browser, server, STAFF[role][0], PHONE if device == "phone" else DESKTOP)
    for path in staff_pages(w):
        response = page.goto(f"{server.url}{path}")
        assert response is not None
        if response.status == 403:
            found.refused.setdefault(role, []).append(path)
        else:
            assert response.status == 200, (role, path, response.status)
            found.opened.setdefault(role, []).append(path)
        _look(page, role, device, path, w, found, shots)


@pytest.fixture(scope="module")
def findings(launch_browser_module: Browser, server: Server, world: World) -> Findings:
    """Walk every page as every role, on a phone and on a desktop, once for the module's tests."""
    found, shots = Findings(staff_pages=len(staff_pages(world))), screenshot_dir()
    for device in ("phone", "desktop"):
        _walk_villager(launch_browser_module, server, world, device, found, shots)
        for role in STAFF:
            _walk_staff(launch_browser_module, server, world, role, device, found, shots)
    opened = {role: sorted(set(pages)) for role, pages in found.opened.items()}
    report = {
        "english": found.english,
        "axe": found.axe,
        "overflow": found.overflow,
        "refused": found.refused,
    }
    (shots / "findings.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(
        json.dumps(
            {
                "pages_walked": sum(len(p) for p in opened.values()),
                "distinct_pages": len({p for pages in opened.values() for p in pages}),
                "roles": sorted(opened),
                "english_offenders": len(found.english),
                "axe_serious_or_critical": len(found.axe),
                "phone_overflow": len(found.overflow),
                "screenshots": str(shots),
            },
            ensure_ascii=False,
        )
    )
    return found


@pytest.fixture(scope="module")
def launch_browser_module(playwright: Any) -> Iterator[Browser]:
    from tests.browser.conftest import CHROMIUM

    browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield browser
    browser.close()


def test_every_role_opens_the_pages_it_needs(findings: Findings) -> None:
    assert set(findings.opened) == set(ROLES)
    every = {p for pages in findings.opened.values() for p in pages}
    staff = [p for p in every if p.startswith("/staff")]
    assert len(staff) == findings.staff_pages, "some staff page no role may open"
    assert "/staff/appointments" in findings.opened["deputy"]
    assert "/staff/admin" in findings.refused["handler"]


def test_no_english_words_or_codes_on_the_chinese_pages(findings: Findings) -> None:
    print(json.dumps(findings.english, ensure_ascii=False))
    assert findings.english == []


def test_axe_finds_no_serious_or_critical_violation(findings: Findings) -> None:
    print(json.dumps(findings.axe, ensure_ascii=False))
    assert findings.axe == []


def test_no_page_scrolls_sideways_on_a_phone(findings: Findings) -> None:
    for path in findings.shots:
        print(path)
    print(json.dumps(findings.overflow, ensure_ascii=False))
    assert findings.shots
    assert findings.overflow == []
