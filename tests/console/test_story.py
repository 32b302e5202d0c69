"""The article's story, watched in the console in a real browser: the day-1 execution waits, pinned to
hello:1; day 2 is deployed; the same page, never reloaded, shows day-1 wake up, call hello:1 (which
answers "Approved") and succeed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pinflow.deploy import clients
from tests.console.story import WAIT_SECONDS, day, deploy, execution_url, shot


@pytest.mark.slow
def test_the_day_1_execution_is_watched_through_the_day_2_deploy(page, console, shots) -> None:
    cl = clients.connect(console.endpoint)
    machine, version1 = deploy(cl, day("v1"))
    assert version1.endswith(":1")
    arn = cl.sfn.start_execution(stateMachineArn=version1, name="day-1")["executionArn"]

    page.goto(f"{console.endpoint}/console/")
    row = page.locator("[data-test=machine-row]", has_text=machine)
    expect(row.locator("[data-test=running]")).to_have_text("1")
    shot(page, shots, "state-machines")

    page.goto(execution_url(console.endpoint, arn))
    status = page.locator("[data-test=execution-name] [data-test=execution-status]")
    expect(status).to_have_text("Running")
    expect(page.locator("[data-state=WaitForApprover]")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("[data-state=Hello]")).to_have_attribute("data-status", "not_reached")
    # What it is pinned to: machine version 1, and Hello's call pinned to hello's version 1.
    expect(page.locator("[data-test=pinned-machine]")).to_contain_text("version 1")
    call = page.locator("[data-test=pinned-call]", has_text="Hello")
    expect(call.locator("[data-test=pin-kind]")).to_have_text("pinned")
    expect(call.locator("[data-test=pin-version]")).to_have_text("version 1")
    page.locator("[data-state=WaitForApprover]").click()
    expect(page.locator("[data-test=state-name]")).to_have_text("WaitForApprover")
    shot(page, shots, "execution-waiting")
    page.evaluate("window.__sameDocument = true")  # gone if the page were ever reloaded

    machine2, version2 = deploy(cl, day("v2"))
    assert (machine2, version2.rsplit(":", 1)[1]) == (machine, "2")
    assert cl.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING", \
        "day-1 ended before day 2 was deployed: the test's wait is too short for this machine"

    # The same page follows day-1 to its end, without a reload.
    timeout = (WAIT_SECONDS + 20) * 1000
    expect(page.locator("[data-state=Done]")).to_have_attribute("data-status", "succeeded", timeout=timeout)
    expect(status).to_have_text("Succeeded", timeout=timeout)
    for state in ("WaitForApprover", "Hello", "CheckApproval"):
        expect(page.locator(f"[data-state={state}]")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-state=Rejected]")).to_have_attribute("data-status", "not_reached")
    assert page.evaluate("window.__sameDocument") is True

    # It called hello's version 1, which answered "Approved" (day 2's answers "ThumbsUp").
    page.locator("[data-state=Hello]").click()
    expect(page.locator("[data-test=state-name]")).to_have_text("Hello")
    page.locator("[data-test=state-panel]").get_by_role("tab", name="Output", exact=True).click()
    expect(page.locator("[data-test=state-output]")).to_have_text('"Approved"')
    page.locator("[data-test=event-type-filter]").select_option("LambdaFunctionScheduled")
    scheduled = page.locator("[data-test=event-row]")
    expect(scheduled).to_have_count(1)
    expect(scheduled.locator("td.resource")).to_have_text(re.compile(r":function:hello-approval-pinned-hello:1$"))
    shot(page, shots, "execution-succeeded")

    # The machine's page: both versions and the definition as a graph; the function's page: version 1
    # no longer held (day-1 succeeded), so it can be removed.
    page.goto(f"{console.endpoint}/console/state-machines/{machine}?tab=definition")
    expect(page.locator("[data-state=Hello]")).to_be_visible()
    expect(page.locator("[data-test=definition-text]")).to_contain_text('"StartAt": "Hello"')
    shot(page, shots, "state-machine")

    # Starting from the page: the input editor refuses what is not JSON, then starts version 2.
    page.locator("[data-test=start-execution]").click()
    dialog = page.locator("[data-test=start-dialog]")
    dialog.locator("select[name=target]").select_option(version2)
    dialog.locator("input[name=name]").fill("from-the-console")
    dialog.locator("textarea[name=input]").fill('{"approver": "Ada"')
    expect(dialog.locator("[data-test=input-error]")).to_contain_text("Not JSON")
    expect(dialog.locator("[data-test=start-submit]")).to_be_disabled()
    dialog.locator("textarea[name=input]").fill('{"approver": "Ada"}')
    dialog.locator("[data-test=start-submit]").click()
    expect(page.locator("[data-test=execution-name]")).to_contain_text("from-the-console")
    expect(status).to_have_text("Succeeded", timeout=15_000)
    expect(page.locator("[data-test=pinned-machine]")).to_contain_text("version 2")
    started = cl.sfn.describe_execution(executionArn=arn.rsplit(":", 1)[0] + ":from-the-console")
    assert (started["input"], started["stateMachineVersionArn"]) == ('{"approver": "Ada"}', version2)
    page.goto(f"{console.endpoint}/console/functions/hello-approval-pinned-hello")
    version_1 = page.locator("[data-test=function-version][data-version='1']")
    expect(version_1.locator("[data-test=removable]")).to_contain_text("Yes")
    shot(page, shots, "function")
