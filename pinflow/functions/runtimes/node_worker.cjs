'use strict';
// pinflow's Node.js worker: loads one handler as Lambda's Node.js runtime does, then serves invocations
// read from a pipe (frames described in pinflow/functions/protocol.py), one at a time.
//
// Handlers: `async (event, context)`, `(event, context, callback)`, CommonJS or ES modules (`.mjs`, `.cjs`,
// or `.js` under a package.json with "type": "module"), nested paths (`src/handlers/api.main`) and
// nested names (`app.handlers.main`). Errors are reported as the runtime reports them: `errorType` is the
// error's `name` (so a class that does not set `name` reports "Error"), `errorMessage`, and `trace`, the
// stack's lines.

const fs = require('fs');
const net = require('net');
const path = require('path');
const url = require('url');
const util = require('util');

const requestFd = Number(process.env._PINFLOW_REQUEST_FD);
const replyFd = Number(process.env._PINFLOW_REPLY_FD);
delete process.env._PINFLOW_REQUEST_FD;
delete process.env._PINFLOW_REPLY_FD;

// Where Lambda shows the function's files and its runtime, whatever folder they are really in.
const SHOWN_TASK_ROOT = '/var/task';
const SHOWN_RUNTIME = '/var/runtime/index.mjs';
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const ownFile = __filename;

const READY = 'K';
const RESULT = 'R';
const ERROR = 'E';
const INIT_ERROR = 'I';

class RuntimeError extends Error {}
function runtimeError(kind) {
  const made = class extends RuntimeError {};
  made.prototype.name = `Runtime.${kind}`;
  return made;
}
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');

function shown(text) {
  let out = String(text).split(ownFile).join(SHOWN_RUNTIME);
  if (taskRoot !== SHOWN_TASK_ROOT) out = out.split(taskRoot + path.sep).join(SHOWN_TASK_ROOT + '/');
  return out;
}

function isError(value) {
  return Boolean(value && typeof value.name === 'string' && typeof value.message === 'string'
    && typeof value.stack === 'string');
}

// The error document the runtime posts: errorType, errorMessage, trace.
function errorDocument(error) {
  try {
    if (util.types.isNativeError(error) || isError(error)) {
      return { errorType: error.name, errorMessage: shown(error.message), trace: shown(error.stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_ignored) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more '
        + 'of its message, name, and stack',
    };
  }
}

function writeFrame(tag, text) {
  const body = Buffer.from(text, 'utf8');
  const data = Buffer.alloc(5 + body.length);
  data.write(tag, 0, 'latin1');
  data.writeUInt32BE(body.length, 1);
  body.copy(data, 5);
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(replyFd, data, offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
    }
  }
}

// --- the log: console methods prefixed as Lambda's runtime prefixes them ------------------------------

let currentRequestId = undefined;

function patchConsole() {
  const write = (level, args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId === undefined ? 'undefined' : currentRequestId}`
      + `\t${level}\t${util.format(...args)}`;
    fs.writeSync(1, line.replace(/\n/g, '\r') + '\n');
  };
  for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'],
    ['debug', 'DEBUG'], ['trace', 'TRACE'], ['fatal', 'FATAL']]) {
    console[method] = (...args) => write(level, args);
  }
}

function logError(prefix, error) {
  let text;
  try {
    text = JSON.stringify(error, (_key, value) => {
      if (!(value instanceof Error)) return value;
      const shaped = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
      if (typeof value.stack === 'string') shaped.stack = shown(value.stack).split('\n');
      return shaped;
    });
  } catch (_ignored) {
    text = JSON.stringify(errorDocument(error));
  }
  console.error(prefix, '\t' + text);
}

// --- loading the handler -------------------------------------------------------------------------------

function moduleType(file) {
  // The nearest package.json decides what a .js file is, as in Node.
  for (let folder = path.dirname(file); ; folder = path.dirname(folder)) {
    const manifest = path.join(folder, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module' ? 'module' : 'commonjs';
      } catch (_ignored) {
        return 'commonjs';
      }
    }
    if (folder === path.dirname(folder)) return 'commonjs';
  }
}

async function importFile(file) {
  const ext = path.extname(file);
  if (ext === '.mjs' || (ext === '.js' && moduleType(file) === 'module')) {
    return import(url.pathToFileURL(file).href);
  }
  try {
    return require(file);
  } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(url.pathToFileURL(file).href);
    throw error;
  }
}

async function loadModule(folder, name) {
  const base = path.resolve(folder, name);
  for (const ext of ['.js', '.mjs', '.cjs']) {
    if (fs.existsSync(base + ext)) return importFile(base + ext);
  }
  // A folder with an index, a .json, or a package found on NODE_PATH or in node_modules.
  try {
    return require(require.resolve(base));
  } catch (error) {
    if (!error || error.code !== 'MODULE_NOT_FOUND') throw error;
  }
  return require(name);
}

async function loadHandler(full) {
  if (full.includes('..')) {
    throw new MalformedHandlerName("'../' not allowed in handler name. Relative paths are not supported.");
  }
  const handlerString = path.basename(full);
  const moduleRoot = full.substring(0, full.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(path.resolve(taskRoot, moduleRoot), moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserCodeSyntaxError(shown(String(error)));
    if (error && error.code === 'MODULE_NOT_FOUND') {
      const message = shown(error.message).replace(/\nRequire stack:\n(- .*\n?)*$/, '');
      const stack = (error.requireStack || []).filter((entry) => entry !== ownFile).map(shown);
      throw new ImportModuleError(`Error: ${message}\nRequire stack:\n${[...stack, SHOWN_RUNTIME].map((s) => `- ${s}`).join('\n')}`);
    }
    throw error;
  }
  let handler = app;
  for (const part of handlerPath.split('.')) {
    handler = handler === undefined || handler === null ? undefined : handler[part];
  }
  if (handler === undefined || handler === null) throw new HandlerNotFound(`${full} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${full} is not a function`);
  return handler;
}

// --- invocations ---------------------------------------------------------------------------------------

let input;
let current = null;
let beforeExit = null;
process.on('beforeExit', () => {
  const waiting = beforeExit;
  beforeExit = null;
  if (waiting) waiting();
});

function finish(invocation, tag, text) {
  if (invocation.done) return;
  invocation.done = true;
  beforeExit = null;
  input.ref();
  writeFrame(tag, text);
  current = null;
  currentRequestId = undefined;
  input.resume();
}

function succeed(invocation, result) {
  let text;
  try {
    text = JSON.stringify(result === undefined ? null : result);
  } catch (error) {
    fail(invocation, new Error(`Unable to stringify response body: ${error.message}`));
    return;
  }
  finish(invocation, RESULT, text === undefined ? 'null' : text);
}

function fail(invocation, error) {
  if (invocation.done) return;
  const reported = error === undefined || error === null ? 'handled' : error;
  logError('Invoke Error', reported);
  finish(invocation, ERROR, JSON.stringify(errorDocument(reported)));
}

function makeContext(invocation, requestId, deadlineMs, invokedArn) {
  const env = process.env;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: invocation.clientContext,
    identity: undefined,
    invokedFunctionArn: invokedArn,
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => Math.max(deadlineMs - Date.now(), 0),
    succeed: (result) => succeed(invocation, result),
    fail: (error) => fail(invocation, error),
    done: (error, result) => (error === undefined || error === null ? succeed(invocation, result)
      : fail(invocation, error)),
  };
  return context;
}

function invoke(handler, body) {
  const [requestId, deadlineMs, invokedArn, event, clientContext] = JSON.parse(body);
  const invocation = { done: false, clientContext: clientContext === null ? undefined : clientContext };
  current = invocation;
  currentRequestId = requestId;
  input.pause();
  const context = makeContext(invocation, requestId, deadlineMs, invokedArn);
  const callback = (error, result) => {
    if (error !== undefined && error !== null) {
      fail(invocation, error);
    } else if (!context.callbackWaitsForEmptyEventLoop) {
      succeed(invocation, result);
    } else {
      // As Lambda does: the answer goes once the event loop has nothing left to do.
      input.unref();
      beforeExit = () => setImmediate(() => succeed(invocation, result));
    }
  };
  try {
    const returned = handler(event, context, callback);
    if (returned && typeof returned.then === 'function') {
      returned.then((result) => succeed(invocation, result), (error) => fail(invocation, error));
    }
  } catch (error) {
    fail(invocation, error);
  }
}

function serve(handler) {
  let buffer = Buffer.alloc(0);
  input = new net.Socket({ fd: requestFd, readable: true, writable: false });
  input.on('data', (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    while (current === null && buffer.length >= 4) {
      const length = buffer.readUInt32BE(0);
      if (buffer.length < 4 + length) break;
      const body = buffer.subarray(4, 4 + length).toString('utf8');
      buffer = buffer.subarray(4 + length);
      invoke(handler, body);
    }
  });
  input.on('end', () => process.exit(0));
  input.on('error', () => process.exit(0));
}

// An exception nobody caught, or a rejection nobody handled, fails the invocation under way; the runtime
// then exits (as Lambda's does), and the next invocation gets a new worker.
process.on('uncaughtException', (error) => {
  logError('Uncaught Exception', error);
  if (current !== null) finish(current, ERROR, JSON.stringify(errorDocument(error)));
  process.exit(129);
});
process.on('unhandledRejection', (reason) => {
  const error = new UnhandledPromiseRejection(isError(reason) ? `${reason.name}: ${reason.message}` : String(reason));
  logError('Unhandled Promise Rejection', error);
  if (current !== null) finish(current, ERROR, JSON.stringify(errorDocument(error)));
  process.exit(128);
});

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '');
  } catch (error) {
    logError('Init Error', error);
    writeFrame(INIT_ERROR, JSON.stringify(errorDocument(error)));
    process.exit(0);
  }
  writeFrame(READY, '');
  serve(handler);
}

main();
