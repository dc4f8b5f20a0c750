"""pgAdmin and Mongo Express for the local stack (`oneenglish admin up`), with demo data,
checked in a real browser; and the clear refusals when they cannot start."""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import FloatRect, Page

from oneenglish.cli import run_migrations
from oneenglish.settings import Settings
from oneenglish.stack.admin import AdminTools
from oneenglish.stack.errors import StackError
from oneenglish.stack.manager import Stack
from oneenglish.stack.mongo_express import LOGIN_USER as MONGO_EXPRESS_USER
from oneenglish.stack.pgadmin import LOGIN_EMAIL
from tests.conftest import (
    PORT_OFFSET,
    REPO,
    TEST_PORTS,
    WORKER_INDEX,
    _stack_lock,
    make_settings,
    per_worker,
)
from tests.processes import CLI, environment

TOOLS = REPO / ".data" / "tools"  # shared with `make admin`: installed once per machine


def admin_settings(**overrides: object) -> Settings:
    database = per_worker("oneenglish_browser")
    values: dict[str, Any] = {
        "local_postgres_database": database,
        "mongodb_database": database,
        "local_pgadmin_port": 25050 + PORT_OFFSET + WORKER_INDEX,
        "local_mongo_express_port": 28081 + PORT_OFFSET + WORKER_INDEX,
    }
    return make_settings("test", *TEST_PORTS, **{**values, **overrides})


def tools_for(settings: Settings) -> AdminTools:
    state = REPO / ".data" / "test" / per_worker("admin")
    return AdminTools(settings, state_dir=state, tools_dir=TOOLS)


@pytest.fixture(scope="module")
def demo_admin(stack: Stack) -> Iterator[AdminTools]:
    """A database of its own with a small demo school in it, and both admin UIs on it."""
    settings = admin_settings()
    with _stack_lock():
        Stack(settings, durable=False).up()
        run_migrations(settings)
    seeded = subprocess.run(
        [str(CLI), "seed-demo", "--learners", "4"],
        env=environment(settings),
        cwd=REPO / ".data",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    tools = tools_for(settings)
    tools.up()
    try:
        yield tools
    finally:
        tools.down()


def test_a_taken_port_names_the_process_holding_it() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        tools = tools_for(admin_settings(local_pgadmin_port=port))
        with pytest.raises(StackError, match=rf"port 127.0.0.1:{port} is taken by pid \d+ \(") as e:
            tools.pgadmin.start()
        assert "LOCAL_PGADMIN_PORT" in str(e.value)


def test_without_npm_mongo_express_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    tools = tools_for(admin_settings(local_mongo_express_port=28999 - WORKER_INDEX))
    with pytest.raises(StackError, match=r"Node\.js and npm are needed"):
        tools.mongo_express.start()


@pytest.mark.browser
async def test_pgadmin_shows_the_users_of_the_demo_data(demo_admin: AdminTools, page: Page) -> None:
    pgadmin = demo_admin.pgadmin
    await page.goto(f"{pgadmin.url}/login")
    await page.fill("input[name=email]", LOGIN_EMAIL)
    await page.fill("input[name=password]", pgadmin.login_password)
    await page.keyboard.press("Enter")
    database = demo_admin.settings.local_postgres_database
    path = ["OneEnglish", "OneEnglish (local)", "Databases", database, "Schemas", "public"]
    path += ["Tables", "users"]

    def node(name: str) -> object:
        label = re.compile(rf"^{re.escape(name)}( \(\d+\))?$")
        return page.get_by_text(label).locator("visible=true").first

    await node("OneEnglish").wait_for(timeout=60000)  # type: ignore[attr-defined]
    for parent, child in itertools.pairwise(path):
        # pgAdmin restores the tree it saved, and expands a server only once connected:
        # open each level by its toggle until the child shows.
        for attempt in range(5):
            try:
                await node(child).wait_for(timeout=4000 if attempt == 0 else 10000)  # type: ignore[attr-defined]
                break
            except Exception:
                box = await node(parent).bounding_box()  # type: ignore[attr-defined]
                await page.mouse.click(box["x"] - 30, box["y"] + box["height"] / 2)
    await node("users").click()  # type: ignore[attr-defined]
    # The reporting role may read users but not their password hashes, so "View Data" (a
    # SELECT *) is refused: the Query Tool with the columns it may read (README).
    await page.locator("button[aria-label='Query Tool']").click()
    # The Query Tool opens in a tab once its editor (CodeMirror 6) has loaded: click into the
    # editor and type there, not wherever the focus happens to be; on a busy machine that
    # may take a while, so try the query again if no result shows.
    for _ in range(3):
        box = await _query_editor(page)
        await page.mouse.click(box["x"] + 40, box["y"] + 10)
        await page.keyboard.press("Control+A")
        await page.keyboard.type("SELECT email, username, first_name FROM users ORDER BY email")
        await page.keyboard.press("F5")
        for _ in range(40):
            frames = page.frames
            text = "text=learner0001@demo.oneenglish.dev"
            if any([await f.locator(text).count() for f in frames]):
                return
            await asyncio.sleep(0.5)
    pytest.fail("the demo learners never showed in pgAdmin's data grid")


async def _query_editor(page: Page) -> FloatRect:
    """Where the Query Tool's editor is: the largest visible CodeMirror editor (the Scratch Pad
    beside it is one too), in whichever frame it opened; waits up to a minute."""
    for _ in range(120):
        boxes = []
        for frame in page.frames:
            editors = frame.locator(".cm-content").locator("visible=true")
            for index in range(await editors.count()):
                box = await editors.nth(index).bounding_box()
                if box and box["width"] > 0:
                    boxes.append(box)
        if boxes:
            return max(boxes, key=lambda b: b["width"] * b["height"])
        await asyncio.sleep(0.5)
    pytest.fail("pgAdmin's Query Tool editor never opened")


@pytest.mark.browser
async def test_mongo_express_lists_user_profiles_and_shows_a_document(
    demo_admin: AdminTools, page: Page
) -> None:
    express = demo_admin.mongo_express
    login = base64.b64encode(f"{MONGO_EXPRESS_USER}:{express.login_password}".encode()).decode()
    await page.set_extra_http_headers({"Authorization": f"Basic {login}"})
    database = demo_admin.settings.mongodb_database
    await page.goto(f"{express.url}/db/{database}/")
    await page.get_by_role("link", name="user_profiles").first.click()
    await page.wait_for_url(re.compile(r"/user_profiles"))
    await page.get_by_text("Viewing Collection: user_profiles").wait_for(timeout=15000)
    row = page.locator("td", has_text="GMT").first  # a document's createdAt cell opens it
    await row.click()
    await page.wait_for_url(re.compile(r"/user_profiles/.+"))
    await page.get_by_text("Editing Document").first.wait_for(timeout=15000)
    assert "userId" in await page.content()


def test_a_second_demo_run_adds_nothing_and_the_databases_agree(demo_admin: AdminTools) -> None:
    env = environment(demo_admin.settings)
    again = subprocess.run(
        [str(CLI), "seed-demo", "--learners", "4"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "the demo data is already there (12 courses, 4 learners): nothing added" in again.stdout
    reconcile = subprocess.run(
        [str(CLI), "reconcile"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
