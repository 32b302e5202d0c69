"""`pinflow demo` end to end: an embedded server, both acts of the story, the outcomes as predicted."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pinflow.cli import main, output


@pytest.mark.slow
def test_the_demo_plays_both_acts_as_the_article_predicts(monkeypatch) -> None:
    monkeypatch.setattr(output.console, "width", 200)
    result = CliRunner().invoke(main, ["demo", "--wait-seconds", "3"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Act 1: with useExactVersion" in text and "Act 2: without useExactVersion" in text
    # Act 1: day-1 is pinned to hello:1 and the plan says the deploy is safe for it.
    assert "hello-approval-pinned-hello:1 (pinned)" in text
    assert "safe: its calls are pinned" in text
    # Act 2: the plan warns, and day-1 fails on day 2's code.
    assert "Hello: calls hello-approval-unpinned-hello live and this deploy changes its code" in text
    assert "day-1: FAILED - hello answered 'ThumbsUp' (NotApproved)" in text
    assert text.count("day-1: SUCCEEDED - hello answered 'Approved'") == 1
    assert text.count("day-2: SUCCEEDED - hello answered 'ThumbsUp'") == 2
    assert "no (expected" not in text


def test_the_demo_says_where_the_example_is_missing(tmp_path, monkeypatch) -> None:
    result = CliRunner().invoke(main, ["demo", "--example", str(tmp_path)])
    assert result.exit_code == 1
    assert "the hello-approval example (v1/ and v2/) is not here" in result.output
