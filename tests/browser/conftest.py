"""Browser tests: Debian's Chromium driven by Playwright against the real server.

The server is the end-to-end harness's (`server_factory`: `python wsgi.py` on a free
port). Chromium is the system's `/usr/bin/chromium` (CHROMIUM_PATH overrides):
Playwright never downloads a browser here. Without Chromium, Playwright or the
Socket.IO browser script the tests skip on a developer machine and FAIL when
CI=true.

Each `WebUser` records what its page did that a test must be able to refuse: page
errors, JavaScript dialogs (an `alert` from injected markup) and Content-Security-
Policy violations (from the console and from `securitypolicyviolation` events).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The harness's fixture, shared rather than copied: servers stop at teardown.
from tests.e2e.conftest import server_factory  # noqa: F401
from tests.e2e.harness import PASSWORD, ROOT, SERVERS, Api, ServerProcess

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The background-networking flags matter on a closed network: without them Chromium
# keeps trying Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SOCKETIO_SCRIPT = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 10_000

# Collects CSP violations in the page; runs before the page's own scripts.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`);
});
"""


PEOPLE = pytest.StashKey[list]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failing test's report carries each server's output and each page's console."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in item.stash.get(SERVERS, []):
            report.sections.append((f"server output: {server.name}", server.log_tail()))
        for person in item.stash.get(PEOPLE, []):
            report.sections.append((f"browser: {person.name}", person.log()))


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make test installs it)"
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} not found (as root: apt-get install -y chromium)"
    if not SOCKETIO_SCRIPT.is_file():
        return f"{SOCKETIO_SCRIPT.relative_to(ROOT)} is missing (needs Node.js: npm ci)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _unavailable()
    if problem:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{problem} (CI=true: the browser tests must run)", pytrace=False)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def web_server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:  # noqa: F811
    return server_factory("eventlet")


@pytest.fixture
def api(web_server: ServerProcess) -> Api:
    return Api(web_server.url)


class WebUser:
    """One person in their own browser context (own storage, own network)."""

    def __init__(self, context: Any, base_url: str, name: str):
        self.context = context
        self.base_url = base_url
        self.name = name
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.failed_requests: list[str] = []
        self.websockets: list[str] = []
        self.page.on("websocket", lambda socket: self.websockets.append(socket.url))
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.on(
            "requestfailed",
            lambda request: self.failed_requests.append(
                f"{request.method} {request.url}: {request.failure}"
            ),
        )
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.response: Any = None

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # -- navigation and accounts --------------------------------------------------
    def open(self) -> WebUser:
        self.response = self.page.goto(self.base_url + "/")
        return self

    def sign_up(self, username: str | None = None, password: str = PASSWORD) -> WebUser:
        from playwright.sync_api import expect

        username = username or self.name
        page = self.page
        if page.locator("#signup-form").is_hidden():
            page.click("#show-signup")
        page.fill("#signup-username", username)
        page.fill("#signup-password", password)
        page.click("#signup-form button[type=submit]")
        expect(page.locator("#me-name")).to_have_text(username)
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        return self

    def sign_in(self, login: str | None = None, password: str = PASSWORD) -> WebUser:
        from playwright.sync_api import expect

        page = self.page
        expect(page.locator("#auth-view")).to_be_visible()  # after a sign-out's request
        if page.locator("#signin-form").is_hidden():
            page.click("#show-signin")
        page.fill("#signin-login", login or self.name)
        page.fill("#signin-password", password)
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#chat-view")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        return self

    # -- rooms ------------------------------------------------------------------
    def create_room(self, name: str, password: str | None = None, private: bool = False) -> WebUser:
        from playwright.sync_api import expect

        page = self.page
        page.click("#new-room-button")
        page.fill("#room-name", name)
        if private:
            page.select_option("#room-visibility", "private")
        if password:
            page.fill("#room-password", password)
        page.click("#create-room-form button[type=submit]")
        expect(page.locator("#create-room-dialog")).to_be_hidden()
        expect(page.locator("#room-title")).to_have_text(name)
        expect(page.locator("#composer-input")).to_be_focused()
        return self

    def browse_item(self, room_name: str) -> Any:
        self.page.click("#browse-button")
        return self.page.locator(".browse-item").filter(has_text=room_name)

    def join_room(self, name: str, password: str | None = None) -> WebUser:
        from playwright.sync_api import expect

        item = self.browse_item(name)
        item.locator("button[type=submit]").click()
        if password is not None:
            item.get_by_label(f"Password for {name}").fill(password)
            item.locator("button[type=submit]").click()
        expect(self.page.locator("#browse-dialog")).to_be_hidden()
        expect(self.page.locator("#room-title")).to_have_text(name)
        expect(self.page.locator("#composer-input")).to_be_focused()
        return self

    def open_room(self, name: str) -> WebUser:
        from playwright.sync_api import expect

        self.page.locator(".room-item").filter(has_text=name).click()
        expect(self.page.locator("#room-title")).to_have_text(name)
        return self

    # -- members ------------------------------------------------------------------
    def open_members(self) -> Any:
        """Open the members panel (which reads the list afresh); returns the list."""
        from playwright.sync_api import expect

        page = self.page
        if page.locator("#members-panel").is_hidden():
            page.click("#members-button")
        expect(page.locator("#members-panel")).to_be_visible()
        return page.locator("#member-list")

    def reopen_members(self) -> Any:
        from playwright.sync_api import expect

        if self.page.locator("#members-panel").is_visible():
            self.page.click("#members-close")
        expect(self.page.locator("#members-panel")).to_be_hidden()
        return self.open_members()

    def member(self, username: str) -> Any:
        """The members panel's row of `username` (the name shown, or the @username
        written under a display name)."""
        page = self.page
        name = re.escape(username)
        shown = page.locator(".member-display", has_text=re.compile(rf"^{name}$"))
        handle = page.locator(".member-sub", has_text=re.compile(rf"@{name}$"))
        return page.locator("#member-list li.member").filter(has=shown.or_(handle))

    def confirm(self, name: str, asking: str | re.Pattern[str]) -> None:
        """Click a two-step button by its accessible name, then its question."""
        self.page.get_by_role("button", name=name, exact=True).click()
        self.page.get_by_role("button", name=asking).click()

    # -- account ------------------------------------------------------------------
    def open_account(self) -> Any:
        from playwright.sync_api import expect

        self.page.click("#account-button")
        dialog = self.page.locator("#account-dialog")
        expect(dialog).to_be_visible()
        return dialog

    # -- messages ---------------------------------------------------------------
    def send(self, text: str) -> None:
        self.page.fill("#composer-input", text)
        self.page.press("#composer-input", "Enter")

    def message(self, text: str) -> Any:
        """The stored (not pending) message whose text is exactly `text`."""
        return self.page.locator("#message-list li.message:not(.pending)").filter(
            has=self.page.locator(".message-text", has_text=text)
        )

    def texts(self) -> list[str]:
        return self.page.locator(
            "#message-list li.message:not(.pending) .message-text"
        ).all_inner_texts()

    def seqs(self) -> list[int]:
        values = self.page.locator("#message-list li.message:not(.pending)").evaluate_all(
            "items => items.map(li => Number(li.dataset.seq))"
        )
        return list(values)

    # -- evidence -----------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def log(self) -> str:
        return "\n".join(
            [
                f"url: {self.page.url}",
                *(f"console: {line}" for line in self.console),
                *(f"page error: {line}" for line in self.page_errors),
                *(f"request failed: {line}" for line in self.failed_requests),
                *(f"dialog: {line}" for line in self.dialogs),
            ]
        )

    def csp_violations(self) -> list[str]:
        reported = self.page.evaluate("window.__cspViolations || []")
        logged = [text for text in self.console if "Content Security Policy" in text]
        return [*reported, *logged]

    def assert_clean(self) -> None:
        """Nothing ran that should not have: no errors, no dialogs, no CSP violation."""
        assert self.page_errors == [], self.page_errors
        assert self.dialogs == [], self.dialogs
        assert self.csp_violations() == []


@pytest.fixture
def people(
    request: pytest.FixtureRequest, browser: Any, web_server: ServerProcess
) -> Iterator[Callable[..., WebUser]]:
    """`people("alice", width=1100)` → a WebUser on the client page, in a new context
    (on `server`, else the test's `web_server`)."""
    contexts: list[Any] = []
    opened: list[WebUser] = []
    request.node.stash[PEOPLE] = opened

    def open_person(
        name: str, width: int = 1100, height: int = 760, server: ServerProcess | None = None
    ) -> WebUser:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_init_script(WATCH_CSP)
        contexts.append(context)
        person = WebUser(context, (server or web_server).url, name)
        opened.append(person)
        return person.open()

    yield open_person
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()
