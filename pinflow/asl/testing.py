"""TestState's options (what it changes in how one state runs) and its outcome (what it reports).

Both stay outside the execution state: the options go into every `step` of a tested state, the
outcome comes back with each step and the driver merges the outcomes of the steps in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RETRIABLE = "RETRIABLE"
CAUGHT_ERROR = "CAUGHT_ERROR"


@dataclass(frozen=True, slots=True)
class Options:
    """How TestState runs a state.

    Attributes:
        state_name: the state to run (the machine's start is ignored).
        variables: the workflow variables the state sees.
        context: the context object the state sees, when given (AWS uses it as given: `{}` gives an
            empty `$$`); None for the one an execution would have.
        inspect: keep the stages of the data flow (inspection levels DEBUG and TRACE).
    """

    state_name: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] | None = None
    inspect: bool = False


@dataclass(slots=True)
class Outcome:
    """What TestState reports beyond the execution's own status, output and error.

    Attributes:
        status: RETRIABLE (a Retrier would run the state again) or CAUGHT_ERROR (a Catcher took the
            error), else None (the execution's status stands).
        next_state: the state the tested one hands over to.
        error: the error a Catcher took ({"Error", "Cause"}).
        inspection: the stages of the data flow, by inspectionData's member names.
    """

    status: str | None = None
    next_state: str | None = None
    error: dict[str, Any] | None = None
    inspection: dict[str, Any] = field(default_factory=dict)

    def merge(self, later: Outcome | None) -> None:
        """Take in what a later step of the same test reported."""
        if later is None:
            return
        self.status = later.status or self.status
        self.next_state = later.next_state or self.next_state
        self.error = later.error or self.error
        self.inspection.update(later.inspection)
