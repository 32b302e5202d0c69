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

_ASSIGN_REFS = _V2 + "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::"
_SCENARIOS = _V2 + "scenarios/test_base_scenarios.py::TestBaseScenarios::"
_MAP_RUN = ("a Distributed Map records a Map Run (MapRunStarted, MapRunSucceeded) where pinflow runs the "
            "iterations inline; Map Runs come with Distributed Map support")

HISTORY_KNOWN_DIFFERENCES: dict[str, str] = {
    case + "::get_execution_history": _MAP_RUN for case in (
        _ASSIGN_REFS + "test_reference_in_map_state[MAP_STATE_REFERENCE_IN_TOLERATED_FAILURE_PATH]",
        _ASSIGN_REFS + "test_reference_in_map_state[MAP_STATE_REFERENCE_IN_ITEM_SELECTOR]",
        _SCENARIOS + "test_map_state_legacy_config_distributed",
        _SCENARIOS + "test_map_state_config_distributed_item_selector",
        _SCENARIOS + "test_map_state_config_distributed_item_selector_parameters",
        _SCENARIOS + "test_map_state_config_distributed_reentrant",
        _SCENARIOS + "test_map_state_config_distributed_parameters",
        _SCENARIOS + "test_map_state_config_inline_item_selector",
        _SCENARIOS + "test_map_state_tolerated_failure_values[count_literal]",
        _SCENARIOS + "test_map_state_tolerated_failure_values[percentage_literal]",
        _SCENARIOS + "test_map_state_tolerated_failure_count_path[0]",
        _SCENARIOS + "test_map_state_tolerated_failure_count_path[1]",
        _SCENARIOS + "test_map_state_tolerated_failure_percentage_path[0]",
        _SCENARIOS + "test_map_state_tolerated_failure_percentage_path[1]",
        _SCENARIOS + "test_map_state_tolerated_failure_percentage_path[1.1]",
        _SCENARIOS + "test_map_state_tolerated_failure_percentage_path[100]",
        _SCENARIOS + "test_map_state_label",
        _SCENARIOS + "test_map_state_nested_config_distributed",
        _SCENARIOS + "test_map_state_config_distributed_items_path_from_previous",
    )
}
