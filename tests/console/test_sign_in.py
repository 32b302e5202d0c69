"""With `--auth`, the console asks for an access key id and secret, checks them on the server, and
remembers the sign-in by an HttpOnly, SameSite=Strict session cookie that holds nothing of the secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from pinflow.api.auth import Auth
from tests.api.conftest import RunningServer
from tests.console.story import shot

KEY_ID, SECRET = "AKIACONSOLETEST", "console-secret-0123456789abcdefghij"


@pytest.fixture
def guarded(service) -> Iterator[RunningServer]:
    running = RunningServer(service, auth=Auth({KEY_ID: SECRET}))
    yield running
    running.stop()


def test_the_console_needs_a_sign_in_when_auth_is_on(page, guarded, browser, shots) -> None:
    # Nothing is shown, nor answered, before signing in.
    page.goto(f"{guarded.endpoint}/console/state-machines")
    expect(page.locator("[data-test=sign-in]")).to_be_visible()
    assert "/console/sign-in?next=" in page.url
    answer = page.request.get(f"{guarded.endpoint}/console/api/state-machines")
    assert answer.status == 401
    assert answer.json()["error"] == "NotSignedIn"

    page.fill("input[name=accessKeyId]", KEY_ID)
    page.fill("input[name=secretAccessKey]", "not-the-secret")
    page.click("[data-test=sign-in-submit]")
    expect(page.locator("[role=alert]")).to_contain_text("not valid")
    assert [c for c in browser.cookies() if c["name"] == "pinflow_console_session"] == []
    shot(page, shots, "sign-in")

    page.fill("input[name=secretAccessKey]", SECRET)
    page.click("[data-test=sign-in-submit]")
    expect(page.locator("[data-test=machines]")).to_be_visible()
    expect(page.locator("[data-test=signed-in-as]")).to_have_text(KEY_ID)
    assert page.url.endswith("/console/state-machines")  # back where the sign-in was asked for

    (cookie,) = [c for c in browser.cookies() if c["name"] == "pinflow_console_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert SECRET not in cookie["value"]
    stored = page.evaluate("() => [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]")
    assert all(SECRET not in text for text in stored) and stored[0] == ""  # HttpOnly: no script sees it
    assert page.request.get(f"{guarded.endpoint}/console/api/state-machines").status == 200

    # The API itself still wants SigV4: the console's cookie opens only the console.
    assert page.request.post(f"{guarded.endpoint}/", headers={
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"}, data="{}").status == 403

    page.click("[data-test=sign-out]")
    expect(page.locator("[data-test=sign-in]")).to_be_visible()
    assert page.request.get(f"{guarded.endpoint}/console/api/state-machines").status == 401
    # Signing out ended the session itself, not only the browser's copy of its cookie.
    replayed = page.request.get(f"{guarded.endpoint}/console/api/state-machines",
                                headers={"Cookie": f"{cookie['name']}={cookie['value']}"})
    assert replayed.status == 401
