"""`pinflow validate` and `pinflow run`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pinflow.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_run_the_example_prints_its_output_and_history() -> None:
    result = CliRunner().invoke(main, ["run", str(ROOT / "examples/order.asl.json"),
                                       "--input", f"@{ROOT / 'examples/order.input.json'}", "--history"])
    assert result.exit_code == 0, result.output
    assert "ExecutionSucceeded" in result.output and "MapIterationStarted" in result.output
    output = json.loads(result.output[result.output.rindex("\n{"):])
    assert output == {"customer": "ada", "lines": 2, "skus": ["tea", "cake"],
                      "message": "Order for ada with 2 line(s)"}


def test_run_with_a_python_task_handler(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "greet.py").write_text("def hello(event):\n    return {'greeting': 'hi ' + event['name']}\n")
    machine = tmp_path / "m.yaml"
    machine.write_text("StartAt: Hi\nStates:\n  Hi:\n    Type: Task\n"
                       "    Resource: arn:aws:lambda:us-east-1:123456789012:function:hi\n    End: true\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", str(machine), "--input", '{"name": "ada"}',
                                       "--task", "arn:aws:lambda:us-east-1:123456789012:function:hi=greet:hello"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"greeting": "hi ada"}


def test_run_reports_a_failure_with_exit_status_1(tmp_path: Path) -> None:
    machine = tmp_path / "fail.json"
    machine.write_text(json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}))
    result = CliRunner().invoke(main, ["run", str(machine)])
    assert result.exit_code == 1
    assert "FAILED: Nope" in result.output


def test_validate_names_the_state_and_field(tmp_path: Path) -> None:
    machine = tmp_path / "bad.json"
    machine.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}))
    result = CliRunner().invoke(main, ["validate", str(machine)])
    assert result.exit_code == 1
    assert "MISSING_TRANSITION_TARGET" in result.output and "/States/A/Next" in result.output


def test_validate_accepts_the_example() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "examples/order.asl.json")])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
