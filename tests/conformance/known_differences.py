"""Conformance cases pinflow does not match yet, each with the reason: results (KNOWN_DIFFERENCES) and
event histories (HISTORY_KNOWN_DIFFERENCES). The tables only shrink: a case listed here that starts to
pass fails the suite until its line is removed."""

from __future__ import annotations

_V2 = "tests/aws/services/stepfunctions/v2/"
_MATH_RANDOM = _V2 + "intrinsic_functions/test_math_operations.py::TestMathOperations::test_math_random"
_FUNDAMENTAL = _V2 + "scenarios/test_sfn_scenarios.py::TestFundamental::"
_PLACEHOLDER = "the recorded definition is a placeholder Pass; AWS ran a machine that called "
_RANDOM_PLACEHOLDER = "AWS's recording replaced the random number by the placeholder 'RandomNumberGenerated'"

KNOWN_DIFFERENCES: dict[str, str] = {
    # Recordings no implementation can match.
    _MATH_RANDOM + "::exec_hist_resp_0": _RANDOM_PLACEHOLDER,
    _MATH_RANDOM + "::exec_hist_resp_1": _RANDOM_PLACEHOLDER,
    _MATH_RANDOM + "::exec_hist_resp_2": _RANDOM_PLACEHOLDER,
    _FUNDAMENTAL + "test_wait_for_callback::success__execution_history": _PLACEHOLDER + "a Lambda function",
    _FUNDAMENTAL + "test_wait_for_callback::failure__execution_history": _PLACEHOLDER + "a Lambda function",
    _FUNDAMENTAL + "test_step_functions_calling_api_gateway::success__execution_history":
        _PLACEHOLDER + "API Gateway",
}

HISTORY_KNOWN_DIFFERENCES: dict[str, str] = {}
