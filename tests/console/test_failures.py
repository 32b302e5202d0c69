"""A failed execution in the browser: Parallel and Map drawn as boxes around their states, the failing
state selected with its error and cause, a Map's iterations selected one by one, and a redrive from the
page that reruns the failure and succeeds."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pinflow import arns
from tests.console.story import execution_url, shot
from tests.roles import execution_role

CHARGE = '''
import os

def handler(event, context):
    if not os.path.exists(event["ticket"]):
        raise ValueError(f"card declined for {event['sku']}")
    return {"sku": event["sku"], "charged": True}
'''

ORDERS = {
    "Comment": "Check an order in two ways at once, then charge each line",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Parallel", "Next": "ChargeLines", "ResultPath": None, "Branches": [
            {"StartAt": "Validate", "States": {"Validate": {"Type": "Pass", "End": True}}},
            {"StartAt": "Price", "States": {"Price": {"Type": "Pass", "End": True}}},
        ]},
        "ChargeLines": {"Type": "Map", "ItemsPath": "$.lines", "MaxConcurrency": 1, "Next": "Done", "ItemProcessor": {
            "StartAt": "Charge",
            "States": {"Charge": {"Type": "Task", "End": True,
                                  "Resource": arns.function("charge", "1")}}}},
        "Done": {"Type": "Succeed"},
    },
}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("charge.py", source)
    return buffer.getvalue()


@pytest.mark.slow
def test_a_failed_map_iteration_is_found_shown_and_redriven(page, console, service, shots, tmp_path: Path) -> None:
    service.functions.create_function("charge", _zip(CHARGE), "charge.handler", publish=True)
    machine = service.machines.create("orders", json.dumps(ORDERS), execution_role(service, "orders"))
    tickets = tmp_path / "tickets"
    tickets.mkdir()
    (tickets / "a").touch()  # line b has no ticket yet: its charge fails
    lines = [{"sku": sku, "ticket": str(tickets / sku)} for sku in ("a", "b")]
    started = service.engine.start_execution(machine["stateMachineArn"], name="order-7",
                                             input=json.dumps({"lines": lines}))
    arn = started["executionArn"]
    assert service.engine.wait_for(arn)["status"] == "FAILED"

    page.goto(execution_url(console.endpoint, arn))
    status = page.locator("[data-test=execution-name] [data-test=execution-status]")
    expect(status).to_have_text("Failed")
    # Parallel and Map are boxes around their states, coloured by what happened inside.
    expect(page.locator("[data-state=Prepare]")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-state=Validate]")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-state=Price]")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-state=ChargeLines]")).to_have_attribute("data-status", "failed")
    expect(page.locator("[data-state=ChargeLines]")).to_contain_text("2 iterations")
    expect(page.locator("[data-state=Charge]")).to_have_attribute("data-status", "failed")
    expect(page.locator("[data-state=Done]")).to_have_attribute("data-status", "not_reached")

    # The failing state, selected: the function's error and cause (Lambda's errorType and message).
    page.locator("[data-state=Charge]").click()
    expect(page.locator("[data-test=state-error-name]")).to_have_text("ValueError")
    expect(page.locator("[data-test=state-error]")).to_contain_text("card declined for b")
    expect(page.locator("[data-test=state-panel]")).to_contain_text("In iteration ChargeLines #1")
    shot(page, shots, "execution-failed")

    # The Map's iterations (one at a time, MaxConcurrency 1): #0 succeeded, #1 failed; selecting #0
    # colours the states inside for it.
    page.locator("[data-state=ChargeLines] .box-header").click()
    iterations = page.locator("[data-test=iteration]")
    expect(iterations).to_have_count(2)
    expect(iterations.nth(0)).to_have_class("iteration st-succeeded")
    expect(iterations.nth(1)).to_have_class("iteration st-failed")
    expect(page.locator("[data-test=map-runs]")).to_contain_text("no Map Run")
    iterations.nth(0).click()
    expect(page.locator("[data-state=Charge]")).to_have_attribute("data-status", "succeeded")
    page.locator("[data-state=Charge]").click()
    page.locator("[data-test=state-panel]").get_by_role("tab", name="Output", exact=True).click()
    expect(page.locator("[data-test=state-output]")).to_contain_text('"charged": true')
    shot(page, shots, "execution-map-iteration")

    # Redrive from the page once line b has its ticket: the failed iteration runs again and succeeds.
    (tickets / "b").touch()
    page.locator("[data-test=redrive]").click()
    expect(status).to_have_text("Succeeded", timeout=20_000)
    expect(page.locator("[data-state=Done]")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-test=details]")).to_contain_text("Redrives")
    row = service.engine.execution_row(arn)
    assert (row["status"], row["redrive_count"]) == ("SUCCEEDED", 1)
    page.goto(execution_url(console.endpoint, arn))
    expect(page.locator("[data-state=ChargeLines]")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-test=redrive]")).to_have_count(0)
    page.locator("[data-test=event-type-filter]").select_option("ExecutionRedriven")
    expect(page.locator("[data-test=event-row]")).to_have_count(1)
    shot(page, shots, "execution-redriven")
