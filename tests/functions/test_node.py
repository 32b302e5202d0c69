"""Node.js functions against real `node` workers: every handler form, the context object, the environment,
errors as Lambda's Node.js runtime reports them, timeouts and crashes, layers on NODE_PATH."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.functions import errors, invoker, sandbox
from pinflow.functions.runtimes import node
from tests.functions.conftest import sandbox_or_skip
from tests.functions.test_functions_invoker import Functions

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

CONTEXT = """
exports.handler = async (event, context) => ({
  event,
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop,
  env: process.env,
  cwd: process.cwd(),
  node: process.version,
});
"""

ERRORS = """
class Named extends Error { constructor(message) { super(message); this.name = 'MyError'; } }
class Unnamed extends Error {}
exports.named = async () => { throw new Named('named went wrong'); };
exports.unnamed = async () => { throw new Unnamed('unnamed went wrong'); };
exports.text = async () => { throw 'just a string'; };
exports.callback = (event, context, callback) => callback(new TypeError('via callback'));
exports.sync = () => { throw new RangeError('thrown at once'); };
exports.uncaught = (event, context, callback) => { setTimeout(() => { throw new Error('later'); }, 1); };
exports.sleep = (event) => new Promise((resolve) => setTimeout(() => resolve('woke up'), event.ms));
exports.exit = (event) => { process.exit(event.status); };
exports.pid = async () => process.pid + ':' + (globalThis.instance ??= Math.random());
"""


@pytest.fixture(params=[sandbox.SANDBOX, sandbox.NONE])
def inv(request: pytest.FixtureRequest, tmp_path: Path, functions: Functions) -> Iterator[invoker.Invoker]:
    isolation = sandbox_or_skip() if request.param == sandbox.SANDBOX else sandbox.create(sandbox.NONE)
    with invoker.Invoker(tmp_path / "code", functions.load, isolation=isolation) as running:
        yield running


@pytest.fixture
def functions(tmp_path: Path) -> Functions:
    return Functions(tmp_path)


def run(inv: invoker.Invoker, spec: invoker.FunctionSpec, event: object = None, request_id: str = "req-1"):
    return inv.invoke(spec, {} if event is None else event, request_id=request_id)


def layer(functions: Functions, files: dict[str, str]) -> str:
    """A layer's zip stored beside the functions' code; its digest."""
    return functions.publish(files).code_sha256


@pytest.mark.parametrize("files, handler", [
    ({"index.js": "exports.handler = async (event) => ({ form: 'async', event });"}, "index.handler"),
    ({"index.js": "module.exports.hello = async () => { return { form: 'module.exports' }; };"}, "index.hello"),
    ({"index.js": "exports.cb = (event, context, callback) => callback(null, { form: 'callback' });"}, "index.cb"),
    ({"index.js": "exports.old = (event, context) => context.succeed({ form: 'context.succeed' });"}, "index.old"),
    ({"index.mjs": "export const handler = async () => ({ form: 'mjs' });"}, "index.handler"),
    ({"package.json": '{"type": "module"}',
      "app.js": "export async function handler() { return { form: 'type module' }; }"}, "app.handler"),
    ({"index.cjs": "exports.handler = async () => ({ form: 'cjs' });"}, "index.handler"),
    ({"src/handlers/api.js": "exports.main = async () => ({ form: 'nested path' });"}, "src/handlers/api.main"),
    ({"app.js": "exports.handlers = { main: async () => ({ form: 'nested name' }) };"}, "app.handlers.main"),
    ({"app.js": "const pad = require('left-pad'); exports.handler = async () => ({ form: pad('deps', 6) });",
      "node_modules/left-pad/package.json": '{"name": "left-pad", "main": "index.js"}',
      "node_modules/left-pad/index.js": "module.exports = (text, n) => ' '.repeat(n - text.length) + text;"},
     "app.handler"),
])
def test_every_handler_form_runs(inv: invoker.Invoker, functions: Functions, files: dict[str, str],
                                 handler: str) -> None:
    result = run(inv, functions.publish(files, handler=handler, runtime="nodejs20.x"), {"n": 1})
    assert result.function_error is None, result.payload
    source = next(text for name, text in files.items() if name.endswith("js") and "node_modules" not in name)
    expected = re.search(r"form: (?:pad\()?'([^']+)'", source).group(1)
    assert result.payload["form"].strip() == expected


def test_the_context_object_and_the_environment_are_lambdas(
    inv: invoker.Invoker, functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINFLOW_ENGINE_SECRET", "do-not-leak")
    spec = functions.publish({"index.js": CONTEXT}, version="7", handler="index.handler", runtime="nodejs8.10",
                             timeout=2.0, memory_size=256, environment={"GREETING": "hola"})
    out = run(inv, spec, {"n": [1, "é"]}, request_id="req-7").payload
    assert out["event"] == {"n": [1, "é"]}
    assert out["awsRequestId"] == "req-7"
    assert out["functionName"] == "hello"
    assert out["functionVersion"] == "7"
    assert out["invokedFunctionArn"].endswith(":function:hello:7")
    assert out["memoryLimitInMB"] == "256"  # a string, as Lambda's Node.js runtime gives it
    assert out["logGroupName"] == "/aws/lambda/hello"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[7\][0-9a-f]{32}", out["logStreamName"])
    assert 0 < out["remaining"] <= 2000
    assert out["waits"] is True  # callbackWaitsForEmptyEventLoop defaults to true
    # nodejs8.10 is declared; the machine's node runs it.
    assert out["node"] == node.version()
    env = out["env"]
    assert env["GREETING"] == "hola"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs8.10"
    assert env["_HANDLER"] == "index.handler"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["TZ"] == ":UTC"
    assert env["LAMBDA_TASK_ROOT"] == out["cwd"]
    assert env["NODE_PATH"].split(":")[-1] == env["LAMBDA_TASK_ROOT"]
    assert "PINFLOW_ENGINE_SECRET" not in env
    assert not any(name.startswith("_PINFLOW") for name in env)
    if inv.isolation.name == sandbox.SANDBOX:
        assert out["cwd"] == "/var/task"


def test_errors_are_reported_as_lambdas_nodejs_runtime_reports_them(inv: invoker.Invoker, functions: Functions) -> None:
    def fail(name: str) -> dict:
        result = run(inv, functions.publish({"app.js": ERRORS}, handler=f"app.{name}", runtime="nodejs20.x"))
        assert result.function_error == "Unhandled"
        return result.payload

    named = fail("named")
    # Lambda's runtime (toRapidResponse in aws-lambda-nodejs-runtime-interface-client's Errors.js) names the
    # error after its `name` property, and gives the stack as `trace`, one line per item.
    assert list(named) == ["errorType", "errorMessage", "trace"]
    assert named["errorType"] == "MyError"
    assert named["errorMessage"] == "named went wrong"
    assert named["trace"][0] == "MyError: named went wrong"
    assert re.fullmatch(r"    at .*\(/var/task/app\.js:\d+:\d+\)", named["trace"][1])
    # A subclass that does not set `name` inherits Error's: Lambda reports "Error", not the class's name.
    assert fail("unnamed")["errorType"] == "Error"
    assert fail("text") == {"errorType": "string", "errorMessage": "just a string", "trace": []}
    assert fail("callback")["errorType"] == "TypeError"
    assert fail("sync")["errorType"] == "RangeError"
    uncaught = fail("uncaught")
    assert (uncaught["errorType"], uncaught["errorMessage"]) == ("Error", "later")
    # The document is passed on compact, as the runtime wrote it with JSON.stringify.
    result = run(inv, functions.publish({"app.js": ERRORS}, handler="app.named", runtime="nodejs20.x"))
    assert errors.asl_error_from(result) == ("MyError", json.dumps(result.payload, separators=(",", ":")))


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"app.js": "exports.x = 1;"}, "missing.handler", "Runtime.ImportModuleError",
     "Error: Cannot find module 'missing'\nRequire stack:\n- /var/runtime/index.mjs"),
    ({"app.js": "exports.x = 1;"}, "app.handler", "Runtime.HandlerNotFound",
     "app.handler is undefined or not exported"),
    ({"app.js": "exports.x = 1;"}, "app.x", "Runtime.HandlerNotFound", "app.x is not a function"),
    ({"app.js": "exports.x = 1;"}, "app", "Runtime.MalformedHandlerName", "Bad handler"),
    ({"app.js": "exports.x = (;"}, "app.x", "Runtime.UserCodeSyntaxError", None),
    ({"app.js": "require('not-installed'); exports.x = async () => 1;"}, "app.x", "Runtime.ImportModuleError",
     "Error: Cannot find module 'not-installed'\nRequire stack:\n- /var/task/app.js\n- /var/runtime/index.mjs"),
])
def test_init_failures_are_named_as_lambda_names_them(inv: invoker.Invoker, functions: Functions, files: dict[str, str],
                                                     handler: str, error_type: str, message: str | None) -> None:
    result = run(inv, functions.publish(files, handler=handler, runtime="nodejs20.x"))
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == error_type
    if message is not None:
        assert result.payload["errorMessage"] == message
    else:
        assert result.payload["errorMessage"].startswith("SyntaxError: ")


def test_a_timeout_kills_the_worker_and_the_next_call_gets_a_new_one(inv: invoker.Invoker,
                                                                     functions: Functions) -> None:
    spec = functions.publish({"app.js": ERRORS}, handler="app.pid", runtime="nodejs20.x", timeout=1.0)
    first = run(inv, spec).payload
    sleeper = functions.publish({"app.js": ERRORS}, handler="app.sleep", runtime="nodejs20.x", timeout=1.0)
    assert run(inv, sleeper, {"ms": 10}).payload == "woke up"
    timed_out = run(inv, sleeper, {"ms": 5000}, request_id="slow")
    assert timed_out.payload == {"errorType": "Sandbox.Timedout",
                                 "errorMessage": "RequestId: slow Error: Task timed out after 1.00 seconds"}
    assert run(inv, sleeper, {"ms": 10}).payload == "woke up"
    assert run(inv, spec).payload == first  # another version's warm worker is untouched


def test_a_crash_is_a_runtime_exit_error(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.js": ERRORS}, handler="app.exit", runtime="nodejs20.x")
    result = run(inv, spec, {"status": 3}, request_id="crash")
    assert result.payload == {"errorType": "Runtime.ExitError",
                              "errorMessage": "RequestId: crash Error: Runtime exited with error: exit status 3"}


def test_callbacks_wait_for_an_empty_event_loop_unless_told_not_to(inv: invoker.Invoker, functions: Functions) -> None:
    source = """
let log = [];
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => log.push('timer'), 300);
  callback(null, log.splice(0));
};
"""
    spec = functions.publish({"app.js": source}, handler="app.handler", runtime="nodejs20.x")
    waited = run(inv, spec, {"wait": True})
    assert waited.duration_ms >= 250  # the answer left once the timer had run
    assert run(inv, spec, {"wait": False}).payload == ["timer"]
    assert run(inv, spec, {"wait": True}).payload == []  # the unwaited timer had not run when it answered


def test_console_output_is_logged_with_the_request_id(inv: invoker.Invoker, functions: Functions) -> None:
    source = "exports.handler = async () => { console.log('hello', {a: 1}); console.error('oops'); return 1; };"
    result = run(inv, functions.publish({"app.js": source}, handler="app.handler", runtime="nodejs20.x"),
                 request_id="req-log")
    assert re.search(r"\d{4}-\d\d-\d\dT[\d:.]+Z\treq-log\tINFO\thello { a: 1 }\n", result.log_tail)
    assert "\treq-log\tERROR\toops\n" in result.log_tail


def test_layers_are_on_node_path(inv: invoker.Invoker, functions: Functions) -> None:
    shared = layer(functions, {"nodejs/node_modules/greeter/index.js": "module.exports = (n) => 'hello ' + n;"})
    newer = layer(functions, {"nodejs/node_modules/greeter/index.js": "module.exports = (n) => 'hi ' + n;",
                              "nodejs/node_modules/extra/index.js": "module.exports = 'extra';"})
    source = "exports.handler = async () => [require('greeter')('ann'), require('extra')];"
    spec = functions.publish({"app.js": source}, handler="app.handler", runtime="nodejs20.x", layers=(shared, newer))
    # Layers are merged in order: the later one's files win, as in Lambda's /opt.
    assert run(inv, spec).payload == ["hi ann", "extra"]
    only_first = functions.publish({"app.js": "exports.handler = async () => require('greeter')('bo');"},
                                   handler="app.handler", runtime="nodejs20.x", layers=(shared,))
    assert run(inv, only_first).payload == "hello bo"


def test_a_layer_changed_on_disk_refuses_to_run(inv: invoker.Invoker, functions: Functions) -> None:
    shared = layer(functions, {"nodejs/node_modules/greeter/index.js": "module.exports = () => 'hello';"})
    spec = functions.publish({"app.js": "exports.handler = async () => require('greeter')();"},
                             handler="app.handler", runtime="nodejs20.x", layers=(shared,), timeout=1.0)
    assert run(inv, spec).payload == "hello"
    folder = next(path for path in Path(inv._code_root).iterdir() if path.name.startswith("opt-"))
    target = folder / "nodejs/node_modules/greeter/index.js"
    for path in (folder, folder / "nodejs", folder / "nodejs/node_modules", target.parent):
        path.chmod(0o755)
    target.chmod(0o644)
    target.write_text("module.exports = () => 'tampered';")
    # A new worker must start (the old one timed out), and the check refuses it.
    sleeper = functions.publish({"app.js": "exports.handler = () => new Promise(() => {});"},
                                handler="app.handler", runtime="nodejs20.x", layers=(shared,), timeout=1.0)
    with pytest.raises(invoker.CodeIntegrityError, match="layers of hello:1"):
        run(inv, sleeper)


def test_the_client_context_reaches_the_handler(inv: invoker.Invoker, functions: Functions) -> None:
    source = "exports.handler = async (event, context) => context.clientContext;"
    spec = functions.publish({"app.js": source}, handler="app.handler", runtime="nodejs20.x")
    given = {"custom": {"tenant": "t1"}, "env": {"locale": "fr"}}
    assert inv.invoke(spec, {}, request_id="r", client_context=given).payload == given
    assert inv.invoke(spec, {}, request_id="r2").payload is None


def test_a_node_installed_outside_usr_is_shown_to_the_sandbox(tmp_path: Path, functions: Functions,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A node under a home folder (nvm, a tarball) is bound read-only where it is, its parents reachable."""
    isolation = sandbox_or_skip()
    installed = tmp_path / "home" / "someone" / "node-v20" / "bin" / "node"
    installed.parent.mkdir(parents=True)
    try:
        installed.hardlink_to(Path(str(node.find())))
    except OSError as exc:
        pytest.skip(f"node cannot be linked here: {exc}")
    for folder in [*installed.parents][:5]:
        folder.chmod(0o755)
    monkeypatch.setattr(node, "find", lambda: str(installed))
    spec = functions.publish({"app.js": "exports.handler = async () => process.execPath;"}, handler="app.handler",
                             runtime="nodejs18.x")
    with invoker.Invoker(tmp_path / "code", functions.load, isolation=isolation) as running:
        assert running.invoke(spec, {}, request_id="r").payload == str(installed)
