#!/usr/bin/env node
// Local Step Functions driver for dsmigrate (protocol: docs/develop.md, "The local Step Functions driver").
//
// Runs the real ASL file on aws-local-stepfunctions 3.x. Every Task state is routed either to
// scripted mocks (by state name, consumed in order, like Step Functions Local "mocked service
// integrations"; a mock answers {"result": ...}, {"error": "Name", "cause": "..."}, or
// {"input": "$.path"}: that part of the Task's input) or to Lambda Runtime Interface Emulator
// endpoints (by function ARN). A Task of Step Functions' optimized EventBridge integration
// (arn:aws:states:::events:putEvents) is answered by its mocks when some are scripted for it,
// otherwise it is put: on the --events-endpoint (the simulator's EventBridge PutEvents, signed
// with the AWS_* credentials of the environment), or, without one, accepted by the driver
// itself; either way the driver prints an EventsPut line with the entries. Prints one JSON object per line on stdout; exit code 0 =
// execution succeeded, 1 = execution failed, 2 = driver error (bad arguments, invalid
// definition, missing mock or endpoint).
//
// Usage:
//   node run.mjs --definition FILE --input FILE --substitutions FILE
//                (--mocks FILE | --lambda-endpoints FILE) [--wait-scale N] [--execution-name NAME]
//                [--events-endpoint URL]   (with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//                                           AWS_SESSION_TOKEN and AWS_REGION in the environment)
//                [--no-validate]   (skip the interpreter's own ASL validation, ~0.3 s)
//                [--child-machines FILE --sim-admin URL] [--state-machine-arn ARN]
//
// A Task whose Resource is arn:aws:states:::states:startExecution.sync:2 starts a child
// execution: --child-machines maps the child's state machine ARN to its definition,
// substitutions and Lambda endpoints, and the child runs as another process of this driver.
// The child is registered in the simulator (--sim-admin, POST /_sim/states/executions), which
// applies StartExecution's name rules and serves DescribeExecution and ListExecutions.

import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { SignatureV4 } from '@smithy/signature-v4';
import { StateMachine } from 'aws-local-stepfunctions';
import {
  DATA_LIMIT_EXCEEDED, DriverError, LAMBDA_UNKNOWN, MAX_PAYLOAD_BYTES, PUT_EVENTS, allStates, errorTooLong, evaluatePath, parseArgs, payloadBytes,
  retryPauseSeconds, rieUnhandledError, substitute, unknownCause, waitSeconds,
} from './lib.mjs';

// TaskError is what a Task "throws": its name is the Step Functions error name that Retry and
// Catch match (like aws-lambda-go's errorType), its message the Cause.
class TaskError extends Error {
  constructor(name, message) {
    super(message ?? '');
    this.name = name;
  }
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// exit leaves once everything written to stdout has reached the pipe (a write to a full
// pipe is queued, and process.exit would drop it).
async function exit(code) {
  await new Promise((resolve) => process.stdout.write('', resolve));
  process.exit(code);
}

function fail(message) {
  process.stderr.write(`run.mjs: ${message}\n`);
  return exit(2);
}

function readText(file, what) {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new DriverError(`reading ${what} ${file}: ${err.message}`);
  }
}

function readJSON(file, what) {
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DriverError(`${what} ${file}: ${err.message}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const substitutions = readJSON(opts.substitutions, 'substitutions');
  let definition;
  try {
    definition = JSON.parse(substitute(readText(opts.definition, 'definition'), substitutions));
  } catch (err) {
    throw err instanceof DriverError ? err : new DriverError(`definition ${opts.definition}: ${err.message}`);
  }
  const input = readJSON(opts.input, 'input');

  const states = allStates(definition);
  // Node's timers hold at most 2^31-1 ms (about 24.8 days) and fire at once beyond it, so
  // a longer TimeoutSeconds (the batch's child Task has a year) is clamped to that.
  for (const state of Object.values(states)) {
    if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > MAX_TIMER_SECONDS) state.TimeoutSeconds = MAX_TIMER_SECONDS;
  }
  const taskStates = Object.keys(states).filter((name) => states[name].Type === 'Task');
  const waitStates = Object.keys(states).filter((name) => states[name].Type === 'Wait');

  let stateMachine;
  try {
    const validationOptions = opts.validate ? { checkArn: true, checkPaths: true } : { noValidate: true };
    stateMachine = new StateMachine(definition, { validationOptions });
  } catch (err) {
    throw new DriverError(err.message);
  }

  // Waits and retry pauses. The requested Wait seconds are always printed. With --wait-scale 1
  // the interpreter sleeps both itself; with 0 nothing sleeps; with any other scale the Wait
  // state and the retry pause are overridden to 0 and the scaled pause is taken at the start of
  // the next Task attempt (the interpreter reads a wait override before the Wait's input is
  // visible to this driver). A retry override is slept as it is on every attempt, without
  // BackoffRate, MaxDelaySeconds or jitter, so the driver computes the pause Step Functions
  // would take (retryPauseSeconds) from each StateRetried event and scales that.
  // Map iterations run at the same time, so a pause belongs to the iteration whose Wait or
  // retry asked for it (the event's index; the top level has none): each Task attempt is
  // announced by a StateEntered or StateRetried event before the interpreter calls its
  // handler, and the handler takes the pause of the oldest attempt announced for its state.
  const pendingPauseMs = new Map(); // iteration key -> ms
  const announced = new Map(); // Task state name -> iteration keys, oldest first
  const keyOf = (ev) => (ev.index === undefined ? 'top' : `map:${ev.index}`);
  const announce = (ev) => {
    if (!announced.has(ev.state.name)) announced.set(ev.state.name, []);
    announced.get(ev.state.name).push(keyOf(ev));
  };
  const waitTimeOverrides = {};
  const retryIntervalOverrides = {};
  if (opts.waitScale !== 1) {
    for (const name of waitStates) waitTimeOverrides[name] = 0;
    for (const [name, state] of Object.entries(states)) {
      if (Array.isArray(state.Retry)) retryIntervalOverrides[name] = 0;
    }
  }
  const scaledPauses = opts.waitScale !== 0 && opts.waitScale !== 1;

  let driverError = null;
  let execution;
  const stopWithDriverError = (message) => {
    driverError ??= message;
    execution?.abort();
    return new Promise(() => {}); // never settles; the driver exits with 2
  };
  // A payload over Step Functions' quota fails the state with States.DataLimitExceeded,
  // which no Catch with States.ALL catches: the execution fails there (lib.mjs). The
  // interpreter does not know the quota, so the driver stops it and reports the failure.
  let terminal = null;
  const failTerminal = (state, cause) => {
    terminal ??= { state, error: DATA_LIMIT_EXCEEDED, cause };
    execution?.abort();
    return new Promise(() => {}); // never settles; the driver reports the failure
  };
  const overQuota = (value) => payloadBytes(value) > MAX_PAYLOAD_BYTES;

  const childTasks = taskStates.filter((name) => states[name].Resource === START_EXECUTION_SYNC);
  const putTasks = taskStates.filter((name) => states[name].Resource === PUT_EVENTS);
  const lambdaTasks = taskStates.filter((name) => !childTasks.includes(name));
  const mocks = opts.mocks ? readJSON(opts.mocks, 'mocks') : null;
  const invokeLambda = opts.mocks ? mockInvoker(mocks, lambdaTasks) : lambdaInvoker(readJSON(opts.lambdaEndpoints, 'lambda endpoints'), states, lambdaTasks);
  let invokeChild = null;
  if (childTasks.length > 0) {
    if (!opts.childMachines || !opts.simAdmin) throw new DriverError(`states ${childTasks.join(', ')} start child executions: give --child-machines and --sim-admin`);
    invokeChild = childInvoker(readJSON(opts.childMachines, 'child machines'), opts);
  }
  const id = opts.stateMachineArn ? executionArnOf(opts.stateMachineArn, opts.executionName) : executionId(substitutions, opts.executionName);
  const context = { Execution: { Name: opts.executionName, Id: id } };
  const put = eventsPutter(opts.eventsEndpoint, id);
  const invoke = (name, taskInput, index) => {
    if (childTasks.includes(name)) return invokeChild(name, taskInput, index);
    if (putTasks.includes(name) && !(mocks && Object.hasOwn(mocks, name))) return put(name, taskInput);
    return invokeLambda(name, taskInput);
  };

  const taskResourceLocalHandlers = {};
  for (const name of taskStates) {
    taskResourceLocalHandlers[name] = async (taskInput) => {
      await nextMacrotask(); // let every event so far be printed first
      const key = announced.get(name)?.shift() ?? 'top';
      const index = key.startsWith('map:') ? Number(key.slice(4)) : undefined;
      const ms = pendingPauseMs.get(key) ?? 0;
      if (ms > 0) {
        pendingPauseMs.delete(key);
        await sleep(ms);
      }
      if (terminal) return new Promise(() => {}); // an earlier state's output was over the quota
      if (overQuota(taskInput)) {
        return failTerminal(name, `The state/task '${name}' has an input (after Parameters) of ${payloadBytes(taskInput)} bytes, exceeding the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES}).`);
      }
      let result;
      try {
        result = await invoke(name, taskInput, index);
      } catch (err) {
        if (err instanceof DriverError) return stopWithDriverError(err.message);
        const tooLong = errorTooLong(err.name, err.message);
        if (tooLong) return stopWithDriverError(`${name} failed with ${tooLong}: what AWS does with it is not documented, so the local run stops`);
        throw err;
      }
      if (overQuota(result)) {
        // Wording as Step Functions reports it for a Lambda task's result.
        return failTerminal(name, `The state/task '${states[name].Resource}' returned a result with a size exceeding the maximum number of bytes service limit.`);
      }
      return result;
    };
  }

  execution = stateMachine.run(input, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    noThrowOnAbort: true,
    context,
  });

  let outcome = null;
  const printing = (async () => {
    for await (const ev of execution.eventLogs) {
      if (terminal) continue; // the execution ended at the state over the quota
      if (ev.type === 'StateExited' && overQuota(ev.state.output)) {
        failTerminal(ev.state.name, `The state '${ev.state.name}' has an output of ${payloadBytes(ev.state.output)} bytes, exceeding the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES}).`);
        continue;
      }
      if (ev.type === 'ExecutionFailed' || ev.type === 'StateFailed') {
        const tooLong = errorTooLong(ev.Error, causeText(ev.Cause));
        if (tooLong) {
          stopWithDriverError(`${ev.state?.name ?? 'the execution'} failed with ${tooLong}: what AWS does with it is not documented, so the local run stops`);
          continue;
        }
      }
      const line = translate(ev);
      if (line) emit(line);
      if (ev.type === 'StateEntered' && ev.state.type === 'Task') announce(ev);
      if (ev.type === 'StateEntered' && ev.state.type === 'Wait') {
        let seconds;
        try {
          seconds = waitSeconds(states[ev.state.name], ev.state.input);
        } catch (err) {
          seconds = null;
        }
        emit(withIndex({ event: 'Wait', state: ev.state.name, seconds }, ev));
        if (scaledPauses && seconds > 0) pendingPauseMs.set(keyOf(ev), seconds * 1000 * opts.waitScale);
      }
      if (ev.type === 'StateRetried') {
        announce(ev);
        if (scaledPauses) pendingPauseMs.set(keyOf(ev), retryPauseSeconds(ev.retry.retrier, ev.retry.attempt) * 1000 * opts.waitScale);
      }
      if (ev.type === 'ExecutionSucceeded') outcome = 0;
      if (ev.type === 'ExecutionFailed' || ev.type === 'ExecutionTimeout') outcome = 1;
    }
  })();

  try {
    await execution.result;
  } catch {
    // the failure was printed from the event log
  }
  if (driverError) {
    await fail(driverError);
    return;
  }
  await printing;
  if (driverError) {
    await fail(driverError);
    return;
  }
  if (terminal) {
    const type = states[terminal.state]?.Type;
    emit({ event: type === 'Task' ? 'TaskFailed' : 'StateFailed', state: terminal.state, error: terminal.error, cause: terminal.cause });
    emit({ event: 'ExecutionFailed', error: terminal.error, cause: terminal.cause });
    await exit(1);
    return;
  }
  await exit(outcome ?? 2);
}

// withIndex adds the Map iteration index of a nested state's event to its line.
function withIndex(line, ev) {
  if (line && ev.index !== undefined) line.index = ev.index;
  return line;
}

// translate turns an interpreter event into a line of the driver protocol (or null). The
// events of a Map iteration's states carry the iteration's index.
function translate(ev) {
  return withIndex(translateEvent(ev), ev);
}

function translateEvent(ev) {
  switch (ev.type) {
    case 'MapIterationStarted':
      return { event: 'MapIterationStarted', state: ev.parentState.name, index: ev.index };
    case 'MapIterationSucceeded':
      return { event: 'MapIterationSucceeded', state: ev.parentState.name, index: ev.index };
    case 'MapIterationFailed':
      return { event: 'MapIterationFailed', state: ev.parentState.name, index: ev.index, error: ev.Error, cause: causeText(ev.Cause) };
    case 'StateEntered':
      return { event: 'StateEntered', state: ev.state.name, type: ev.state.type, input: ev.state.input };
    case 'StateExited':
      return { event: 'StateExited', state: ev.state.name, type: ev.state.type, output: ev.state.output };
    case 'StateFailed':
      if (ev.state.type === 'Fail') return null; // reported as ExecutionFailed
      return {
        event: ev.state.type === 'Task' ? 'TaskFailed' : 'StateFailed',
        state: ev.state.name,
        error: ev.Error,
        cause: causeText(ev.Cause),
      };
    case 'StateRetried':
      return { event: 'TaskRetried', state: ev.state.name, attempt: ev.retry.attempt };
    case 'StateCaught':
      return { event: 'TaskCaught', state: ev.state.name, next: ev.catch.catcher.Next };
    case 'ExecutionSucceeded':
      return { event: 'ExecutionSucceeded', output: ev.output };
    case 'ExecutionFailed':
      return { event: 'ExecutionFailed', error: ev.Error, cause: causeText(ev.Cause) };
    case 'ExecutionTimeout':
      return { event: 'ExecutionFailed', error: 'States.Timeout', cause: 'the execution timed out' };
    default:
      return null;
  }
}

function causeText(cause) {
  if (cause === undefined || cause === null) return '';
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}

// mockInvoker answers each Task from a list of scripted responses per state name.
function mockInvoker(mocks, taskStates) {
  if (mocks === null || typeof mocks !== 'object' || Array.isArray(mocks)) {
    throw new DriverError('mocks: want an object of state name -> list of responses');
  }
  for (const name of Object.keys(mocks)) {
    if (!taskStates.includes(name)) throw new DriverError(`mocks: ${name} is not a Task state of the definition`);
    if (!Array.isArray(mocks[name])) throw new DriverError(`mocks: ${name}: want a list of responses`);
  }
  const next = Object.fromEntries(taskStates.map((name) => [name, 0]));
  return async (name, taskInput) => {
    const list = mocks[name] ?? [];
    const i = next[name]++;
    if (i >= list.length) {
      throw new DriverError(`mocks: no response left for ${name} (call ${i + 1}, ${list.length} scripted)`);
    }
    const response = list[i];
    if (response && typeof response.error === 'string') {
      const err = new TaskError(response.error, response.cause ?? '');
      // "cause": null scripts an error without a cause (the Catch output has no Cause).
      if (response.cause === null) Object.defineProperty(err, 'message', { value: undefined });
      throw err;
    }
    if (response && typeof response.input === 'string') {
      // {"input": "$.path"} answers with a part of the Task's own input.
      try {
        return evaluatePath(response.input, taskInput);
      } catch (err) {
        throw new DriverError(`mocks: ${name}[${i}]: ${err.message}`);
      }
    }
    if (!response || !('result' in response)) {
      throw new DriverError(`mocks: ${name}[${i}]: want {"result": ...}, {"input": "$.path"} or {"error": "Name", "cause": "..."}`);
    }
    return response.result;
  };
}

// lambdaInvoker posts each Task input to the RIE endpoint of the state's function ARN.
function lambdaInvoker(endpoints, states, taskStates) {
  for (const name of taskStates) {
    const arn = states[name].Resource;
    if (arn === PUT_EVENTS) continue; // put by eventsPutter
    if (!endpoints[arn]) throw new DriverError(`lambda endpoints: no endpoint for ${arn} (state ${name})`);
  }
  return async (name, payload) => {
    const url = endpoints[states[name].Resource];
    let res;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    } catch (err) {
      throw new TaskError('Lambda.SdkClientException', `invoking ${url}: ${err.cause?.message ?? err.message}`);
    }
    const text = await res.text();
    const unhandled = rieUnhandledError(res.status, text);
    if (unhandled) throw new TaskError(LAMBDA_UNKNOWN, unknownCause(unhandled));
    if (res.status !== 200) {
      throw new TaskError('Lambda.ServiceException', `invoking ${url}: HTTP ${res.status}: ${text}`);
    }
    if (text.trim() === '') return null;
    let body;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new TaskError('Lambda.ServiceException', `invoking ${url}: the response is not JSON: ${text.slice(0, 200)}`);
    }
    if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.errorType === 'string') {
      throw new TaskError(body.errorType, body.errorMessage ?? '');
    }
    return body;
  };
}

const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function executionArnOf(stateMachineArn, name) {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

// childInvoker runs startExecution.sync:2: the child execution runs as another process of
// this driver on the child's own definition, substitutions and Lambda endpoints. As the
// service integration does, it returns the child's DescribeExecution with Input and Output
// as JSON (".sync:2"), and a failed, timed-out or aborted child fails the Task with
// States.TaskFailed and that description as JSON for Cause. The simulator keeps the
// execution (StartExecution's rules: a name already used by a closed execution, or by an
// open one with another input, is ExecutionAlreadyExists; an open one with the same input
// is the same execution, which is then waited for).
function childInvoker(machines, opts) {
  const admin = opts.simAdmin.replace(/\/$/, '');
  const post = async (body) => {
    const res = await fetch(`${admin}/_sim/states/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    let parsed = null;
    try { parsed = JSON.parse(text); } catch { /* reported below */ }
    return { status: res.status, body: parsed, text };
  };
  const describe = (e) => ({
    ExecutionArn: e.executionArn, StateMachineArn: e.stateMachineArn, Name: e.name, Status: e.status,
    StartDate: Date.parse(e.startDate), StopDate: e.stopDate ? Date.parse(e.stopDate) : undefined,
    Input: e.input ?? {}, InputDetails: { Included: true },
    ...(e.status === 'SUCCEEDED' ? { Output: e.output ?? null, OutputDetails: { Included: true } } : {}),
    ...(e.error !== undefined && e.error !== '' ? { Error: e.error } : {}),
    ...(e.cause !== undefined && e.cause !== '' ? { Cause: e.cause } : {}),
  });
  const finish = (e) => {
    if (e.status === 'SUCCEEDED') return describe(e);
    throw new TaskError('States.TaskFailed', JSON.stringify(describe(e)));
  };
  return async (state, taskInput, index) => {
    const { StateMachineArn: arn, Name: name, Input: input } = taskInput ?? {};
    const machine = machines[arn];
    if (!machine) throw new TaskError('StepFunctions.StateMachineDoesNotExistException', `State Machine Does Not Exist: '${arn}'`);
    if (typeof name !== 'string' || name === '') throw new DriverError(`${state}: the driver needs a Name for each child execution`);
    const start = await post({ stateMachineArn: arn, name, status: 'RUNNING', input, start: true });
    if (start.status === 409) throw new TaskError('StepFunctions.ExecutionAlreadyExistsException', start.body?.error ?? start.text);
    if (start.status !== 200) throw new DriverError(`registering child execution ${name}: HTTP ${start.status}: ${start.text}`);
    if (start.body.existing) {
      // The same name and input while open: the running execution is the child; wait for it.
      for (;;) {
        const st = await fetch(`${admin}/_sim/state`).then((r) => r.json());
        const e = st.stepFunctions?.executions?.find((x) => x.stateMachineArn === arn && x.name === name);
        if (e && e.status !== 'RUNNING') return finish(e);
        await sleep(200);
      }
    }
    emit({ event: 'ChildExecutionStarted', state, name, stateMachineArn: arn, ...(index !== undefined ? { index } : {}) });
    const dir = mkdtempSync(join(tmpdir(), 'dsmigrate-child-'));
    let last = null;
    let code;
    let stderr = '';
    try {
      const inputFile = join(dir, 'input.json');
      writeFileSync(inputFile, JSON.stringify(input ?? {}));
      const args = [process.argv[1], '--definition', machine.definition, '--input', inputFile, '--substitutions', machine.substitutions,
        '--lambda-endpoints', machine.lambdaEndpoints, '--wait-scale', String(opts.waitScale), '--execution-name', name,
        '--state-machine-arn', arn, '--no-validate', ...(opts.eventsEndpoint ? ['--events-endpoint', opts.eventsEndpoint] : [])];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stderr.on('data', (b) => { stderr += b; });
      const lines = createInterface({ input: child.stdout });
      const done = new Promise((resolve) => child.on('close', resolve));
      for await (const line of lines) {
        let ev;
        try { ev = JSON.parse(line); } catch { continue; }
        if (ev.event === 'ExecutionSucceeded' || ev.event === 'ExecutionFailed') last = ev;
      }
      code = await done;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (code === 2 || last === null) {
      await post({ stateMachineArn: arn, name, status: 'ABORTED' });
      throw new DriverError(`child execution ${name} could not run: ${stderr.trim().slice(0, 2000)}`);
    }
    const end = last.event === 'ExecutionSucceeded'
      ? { stateMachineArn: arn, name, status: 'SUCCEEDED', output: last.output ?? null }
      : { stateMachineArn: arn, name, status: 'FAILED', error: last.error ?? '', cause: last.cause ?? '' };
    const res = await post(end);
    if (res.status !== 200) throw new DriverError(`recording child execution ${name}: HTTP ${res.status}: ${res.text}`);
    emit({ event: last.event === 'ExecutionSucceeded' ? 'ChildExecutionSucceeded' : 'ChildExecutionFailed', state, name,
      ...(last.error ? { error: last.error } : {}), ...(index !== undefined ? { index } : {}) });
    return finish(res.body);
  };
}

// eventsPutter answers the Tasks of the optimized EventBridge integration as Step Functions
// does (https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html): each
// entry's Detail object is sent as a JSON string, the execution and state machine ARNs are
// appended to its Resources, and a response with a FailedEntryCount above 0 fails the Task
// with EventBridge.FailedEntry. An error response of the service fails it with
// EventBridge.<error code>. Without an endpoint the driver accepts the entries itself.
function eventsPutter(endpoint, executionArn) {
  const arns = executionArn ? [executionArn, executionArn.replace(/:execution:([^:]+):[^:]+$/, ':stateMachine:$1')] : [];
  let signer = null;
  if (endpoint) {
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken, AWS_REGION: region } = process.env;
    if (!accessKeyId || !secretAccessKey || !region) {
      throw new DriverError('--events-endpoint needs AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION in the environment');
    }
    signer = new SignatureV4({ service: 'events', region, sha256: Sha256, credentials: { accessKeyId, secretAccessKey, sessionToken } });
  }
  return async (name, taskInput) => {
    const entries = (taskInput?.Entries ?? []).map((e) => ({
      ...e,
      Detail: typeof e.Detail === 'string' ? e.Detail : JSON.stringify(e.Detail ?? {}),
      Resources: [...(e.Resources ?? []), ...arns],
    }));
    emit({ event: 'EventsPut', state: name, entries: entries.map((e) => ({ ...e, Detail: JSON.parse(e.Detail) })) });
    if (!signer) return { Entries: entries.map(() => ({ EventId: randomUUID() })), FailedEntryCount: 0 };
    const url = new URL(endpoint);
    const body = JSON.stringify({ Entries: entries });
    const request = await signer.sign({
      method: 'POST', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: '/',
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body,
    });
    let res;
    try {
      res = await fetch(new URL('/', url), { method: 'POST', headers: request.headers, body });
    } catch (err) {
      throw new TaskError('EventBridge.SdkClientException', `putting events on ${endpoint}: ${err.cause?.message ?? err.message}`);
    }
    const text = await res.text();
    let out;
    try {
      out = JSON.parse(text);
    } catch {
      throw new TaskError('EventBridge.EventBridgeException', `HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    if (res.status !== 200) {
      const code = String(out.__type ?? 'EventBridgeException').split('#').pop();
      throw new TaskError(`EventBridge.${code}`, out.message ?? out.Message ?? text);
    }
    if (out.FailedEntryCount > 0) throw new TaskError('EventBridge.FailedEntry', JSON.stringify(out.Entries));
    return out;
  };
}

// Sha256 is the hash SignatureV4 wants, from node:crypto.
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

function executionId(substitutions, name) {
  for (const value of Object.values(substitutions)) {
    const m = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/.exec(String(value));
    if (m) return `arn:${m[1]}:states:${m[2]}:${m[3]}:execution:dsmigrate:${name}`;
  }
  return undefined;
}

main().catch((err) => fail(err instanceof DriverError ? err.message : err.stack ?? String(err)));

