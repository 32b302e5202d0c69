"""Reserved concurrency counted beyond this process (`Invoker.admission`, the nodes of a cluster): an
invocation runs only when this process's count and the shared one both admit it, the shared count hears
of each end it admitted exactly once, and one the shared count could not be asked about runs on this
process's count."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinflow.functions.invoker import FunctionSpec, Invoker, Throttled

SPEC = FunctionSpec(function_name="f", version="1", arn="arn:aws:lambda:us-east-1:123456789012:function:f",
                    code_sha256="0" * 64, handler="app.handler", reserved_concurrency=1)


class Shared:
    """A shared count that answers `verdict` (True, False, or None: it could not be asked)."""

    def __init__(self, verdict: bool | None) -> None:
        self.verdict = verdict
        self.asked: list[str] = []
        self.ended: list[str] = []

    def admit(self, function: str, limit: int) -> bool | None:
        self.asked.append(function)
        return self.verdict

    def finished(self, function: str) -> None:
        self.ended.append(function)


@pytest.fixture
def invoker(tmp_path: Path):
    with Invoker(tmp_path / "code", lambda sha: b"") as made:
        yield made


def test_an_admitted_invocation_is_counted_until_it_ends_even_when_it_fails(invoker) -> None:
    shared = invoker.admission = Shared(True)
    with invoker._admitted(SPEC):
        assert invoker._in_flight == {"f": 1}
        # This process runs the one slot already: refused without asking the others.
        with pytest.raises(Throttled), invoker._admitted(SPEC):
            pass
    assert (shared.asked, shared.ended, invoker._in_flight) == (["f"], ["f"], {})
    with pytest.raises(ValueError, match="the handler failed"), invoker._admitted(SPEC):
        raise ValueError("the handler failed")
    assert (shared.asked, shared.ended, invoker._in_flight) == (["f", "f"], ["f", "f"], {})


def test_a_slot_taken_on_another_node_throttles_and_counts_no_end(invoker) -> None:
    shared = invoker.admission = Shared(False)
    with pytest.raises(Throttled), invoker._admitted(SPEC):
        pytest.fail("a throttled invocation must not run")
    assert (shared.asked, shared.ended, invoker._in_flight) == (["f"], [], {})


def test_an_invocation_the_others_could_not_be_asked_about_runs_on_this_process_s_count(invoker) -> None:
    shared = invoker.admission = Shared(None)
    with invoker._admitted(SPEC), pytest.raises(Throttled), invoker._admitted(SPEC):  # its one slot is taken here
        pass
    assert (shared.asked, shared.ended, invoker._in_flight) == (["f"], [], {})
