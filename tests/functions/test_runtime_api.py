"""Custom runtimes through the Lambda Runtime API: a shell bootstrap speaking it with curl, and the official
runtime interface clients unchanged (awslambdaric from PyPI, aws-lambda-ric from npm)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.functions import invoker, sandbox
from tests.functions.test_functions_invoker import Functions

# The version the npm test installs; its native part builds curl from source, so it is cached (see npm_ric).
NPM_RIC = "aws-lambda-ric@3.3.0"
NPM_CACHE_ENV = "PINFLOW_TEST_NPM_CACHE"
_REPO = Path(__file__).resolve().parents[2]

# A bootstrap as Lambda's custom runtime tutorial writes one: fetch an event, answer it, forever. It answers
# with the event and the headers Lambda sends, and reports an error when the event asks for one.
CURL_BOOTSTRAP = r"""#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  header() { grep -i "^$1:" "$HEADERS" | cut -d' ' -f2- | tr -d '\r'; }
  ID="$(header Lambda-Runtime-Aws-Request-Id)"
  case "$EVENT" in
    *wrong-id*)
      STATUS="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$API/invocation/not-$ID/response" -d '"x"')"
      curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\"wrong_id_status\": $STATUS}" ;;
    *fail*)
      curl -sS -o /dev/null -X POST "$API/invocation/$ID/error" \
        -H 'Lambda-Runtime-Function-Error-Type: Custom.Failure' \
        -d '{"errorMessage": "it failed", "errorType": "Custom.Failure"}' ;;
    *exit*) exit 7 ;;
    *sleep*) sleep 30 ;;
    *peek*)
      OTHER="$(printf '%s' "$EVENT" | sed 's/.*"peek": *"\([^"]*\)".*/\1/')"
      CODE="$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://$OTHER/2018-06-01/runtime/invocation/next" || true)"
      curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\"peeked\": \"$CODE\"}" ;;
    *)
      curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\"event\": $EVENT, \"id\": \"$ID\",
        \"deadline\": \"$(header Lambda-Runtime-Deadline-Ms)\",
        \"arn\": \"$(header Lambda-Runtime-Invoked-Function-Arn)\",
        \"trace\": \"$(header Lambda-Runtime-Trace-Id)\", \"api\": \"$AWS_LAMBDA_RUNTIME_API\", \"cwd\": \"$(pwd)\"}" ;;
  esac
done
"""

PYTHON_APP = """
def handler(event, context):
    if event.get("fail"):
        raise KeyError("no such thing")
    return {"python": event, "request_id": context.aws_request_id, "function": context.function_name,
            "remaining": context.get_remaining_time_in_millis() > 0}
"""
NODE_APP = """
class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
exports.handler = async (event, context) => {
  if (event.fail) throw new MyError('node failed');
  return { node: event, requestId: context.awsRequestId, functionName: context.functionName };
};
"""


@pytest.fixture
def inv(tmp_path: Path, functions: Functions, isolation: sandbox.Isolation) -> Iterator[invoker.Invoker]:
    """An invoker under each isolation (conftest's: the root sandbox, the user-namespace one, none): the
    Runtime API must know its worker's processes in each."""
    with invoker.Invoker(tmp_path / "code", functions.load, isolation=isolation) as running:
        yield running


@pytest.fixture
def functions(tmp_path: Path) -> Functions:
    return Functions(tmp_path)


def custom(functions: Functions, files: dict[str, str | bytes], **config: object) -> invoker.FunctionSpec:
    """A provided.al2023 function (its `bootstrap` executable)."""
    return functions.publish(files, handler=str(config.pop("handler", "app.handler")), runtime="provided.al2023",
                             **config)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_shell_bootstrap_gets_events_with_lambdas_headers(inv: invoker.Invoker, functions: Functions) -> None:
    spec = custom(functions, {"bootstrap": CURL_BOOTSTRAP}, timeout=5.0)
    result = inv.invoke(spec, {"n": 1}, request_id="req-1")
    assert result.function_error is None, result.payload
    out = result.payload
    assert out["event"] == {"n": 1}
    assert out["id"] == "req-1"
    assert out["arn"] == spec.arn
    assert int(out["deadline"]) > 0
    assert out["trace"].startswith("Root=1-") and ";Parent=" in out["trace"]
    host, port = out["api"].split(":")
    assert host == "127.0.0.1" and port.isdigit()  # on loopback, as AWS_LAMBDA_RUNTIME_API names it on Lambda
    if inv.isolation.name == sandbox.SANDBOX:
        assert out["cwd"] == "/var/task"
    # An error the runtime posts is the invocation's error document, as posted.
    failed = inv.invoke(spec, {"fail": 1}, request_id="req-2")
    assert failed.function_error == "Unhandled"
    assert failed.payload == {"errorMessage": "it failed", "errorType": "Custom.Failure"}
    # An answer for another request id is refused with Lambda's 400; the right one is taken.
    assert inv.invoke(spec, {"wrong-id": 1}, request_id="req-3").payload == {"wrong_id_status": 400}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_timeouts_and_crashes_are_lambdas(inv: invoker.Invoker, functions: Functions) -> None:
    spec = custom(functions, {"bootstrap": CURL_BOOTSTRAP}, timeout=1.0)
    slow = inv.invoke(spec, {"sleep": 1}, request_id="slow")
    assert slow.payload == {"errorType": "Sandbox.Timedout",
                            "errorMessage": "RequestId: slow Error: Task timed out after 1.00 seconds"}
    crashed = inv.invoke(spec, {"exit": 1}, request_id="crash")
    assert crashed.payload == {"errorType": "Runtime.ExitError",
                               "errorMessage": "RequestId: crash Error: Runtime exited with error: exit status 7"}
    assert inv.invoke(spec, {"n": 2}, request_id="after").payload["event"] == {"n": 2}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_worker_cannot_reach_another_workers_runtime_api(inv: invoker.Invoker, functions: Functions) -> None:
    victim = custom(functions, {"bootstrap": CURL_BOOTSTRAP}, timeout=5.0)
    address = inv.invoke(victim, {"n": 1}, request_id="v1").payload["api"]
    thief = custom(functions, {"bootstrap": CURL_BOOTSTRAP, "other": "x"}, timeout=8.0)
    # The connection is closed before any answer: curl reports status 000.
    assert inv.invoke(thief, {"peek": address}, request_id="t1").payload == {"peeked": "000"}
    assert inv.invoke(victim, {"n": 2}, request_id="v2").payload["event"] == {"n": 2}


def test_no_bootstrap_is_an_invalid_entrypoint(inv: invoker.Invoker, functions: Functions) -> None:
    result = inv.invoke(custom(functions, {"app.sh": "echo"}), {}, request_id="r")
    assert result.payload == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": "RequestId: r Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"}


def test_awslambdaric_from_pypi_runs_unchanged(inv: invoker.Invoker, functions: Functions) -> None:
    pytest.importorskip("awslambdaric")
    bootstrap = "#!/bin/sh\nexec python3 -m awslambdaric \"$_HANDLER\"\n"
    spec = custom(functions, {"bootstrap": bootstrap, "app.py": PYTHON_APP}, timeout=10.0)
    out = inv.invoke(spec, {"n": 1}, request_id="py-1").payload
    assert out == {"python": {"n": 1}, "request_id": "py-1", "function": "hello", "remaining": True}
    failed = inv.invoke(spec, {"fail": True}, request_id="py-2")
    assert failed.function_error == "Unhandled"
    assert failed.payload["errorType"] == "KeyError"
    assert failed.payload["errorMessage"] == "'no such thing'"
    assert failed.payload["requestId"] == "py-2"
    missing = custom(functions, {"bootstrap": bootstrap, "app.py": PYTHON_APP}, handler="nope.handler")
    init = inv.invoke(missing, {}, request_id="py-3")
    assert init.payload["errorType"] == "Runtime.ImportModuleError"
    assert init.payload["errorMessage"].startswith("Unable to import module 'nope'")


@pytest.fixture(scope="session")
def npm_ric() -> Path:
    """aws-lambda-ric installed by npm (once; cached in $PINFLOW_TEST_NPM_CACHE, else .test-cache/npm)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    folder = Path(os.environ.get(NPM_CACHE_ENV) or _REPO / ".test-cache" / "npm")
    package = folder / "node_modules" / "aws-lambda-ric"
    if not (package / "dist" / "rapid-client.node").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), NPM_RIC],
                              capture_output=True, timeout=900, check=False)
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
            message = f"npm install {NPM_RIC} failed (it builds curl: autoconf, automake, libtool, make, g++, " \
                      f"cmake are needed): {' / '.join(said)}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return package


@pytest.mark.slow
def test_aws_lambda_ric_from_npm_runs_unchanged(inv: invoker.Invoker, functions: Functions, npm_ric: Path) -> None:
    files: dict[str, str | bytes] = {"app.js": NODE_APP,
             "bootstrap": "#!/bin/sh\nexec node node_modules/aws-lambda-ric/bin/index.mjs \"$_HANDLER\"\n"}
    # The client as a user bundles it: its JavaScript and its native module, in the package's node_modules.
    for relative in ("package.json", "bin/index.mjs", "dist/index.mjs", "dist/rapid-client.node"):
        files[f"node_modules/aws-lambda-ric/{relative}"] = (npm_ric / relative).read_bytes()
    spec = custom(functions, files, timeout=10.0)
    out = inv.invoke(spec, {"n": 1}, request_id="node-1")
    assert out.payload == {"node": {"n": 1}, "requestId": "node-1", "functionName": "hello"}, out.log_tail
    failed = inv.invoke(spec, {"fail": True}, request_id="node-2")
    assert failed.function_error == "Unhandled"
    assert failed.payload["errorType"] == "MyError"
    assert failed.payload["errorMessage"] == "node failed"
    assert failed.payload["trace"][0] == "MyError: node failed"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_bootstrap_in_a_layer_runs_the_package_and_gets_the_client_context(inv: invoker.Invoker,
                                                                           functions: Functions) -> None:
    runtime_layer = functions.publish({"bootstrap": CURL_BOOTSTRAP}).code_sha256
    # Lambda runs /opt/bootstrap when the package has none.
    spec = custom(functions, {"README": "code without a bootstrap"}, timeout=5.0, layers=(runtime_layer,))
    out = inv.invoke(spec, {"n": 3}, request_id="layered").payload
    assert (out["event"], out["id"]) == ({"n": 3}, "layered")


def test_the_client_context_reaches_the_runtime_api(inv: invoker.Invoker, functions: Functions) -> None:
    pytest.importorskip("awslambdaric")
    app = ("def handler(event, context):\n"
           "    return {'custom': context.client_context.custom, 'env': context.client_context.env}\n")
    bootstrap = "#!/bin/sh\nexec python3 -m awslambdaric \"$_HANDLER\"\n"
    spec = custom(functions, {"bootstrap": bootstrap, "app.py": app}, timeout=10.0)
    given = {"custom": {"tenant": "t1"}, "env": {"locale": "fr"}, "client": {"app_title": "demo"}}
    out = inv.invoke(spec, {}, request_id="ctx", client_context=given).payload
    assert out == {"custom": {"tenant": "t1"}, "env": {"locale": "fr"}}


def test_without_a_network_a_custom_runtime_is_refused_with_a_reason(tmp_path: Path, functions: Functions) -> None:
    # The Runtime API is served on this host's loopback; a sandbox without a network (--function-network
    # none) cannot reach it, so each call says why instead of waiting for the bootstrap to time out.
    from tests.functions.conftest import sandbox_or_skip

    sandbox_or_skip()
    isolation = sandbox.create_sandbox([], network=False)
    with invoker.Invoker(tmp_path / "code-offline", functions.load, isolation=isolation) as offline:
        result = offline.invoke(custom(functions, {"bootstrap": CURL_BOOTSTRAP}, timeout=5.0), {}, request_id="r")
    assert result.payload["errorType"] == "Runtime.InvalidEntrypoint"
    assert "--function-network none" in result.payload["errorMessage"]
