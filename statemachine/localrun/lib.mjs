// Small pure helpers of the local driver (run.mjs): arguments, substitutions, Wait seconds.

import { parseArgs as parseNodeArgs } from 'node:util';

// DriverError is a problem of the driver's own inputs (exit code 2), not of the execution.
export class DriverError extends Error {}

const USAGE =
  'usage: run.mjs --definition FILE --input FILE --substitutions FILE (--mocks FILE | --lambda-endpoints FILE) [--wait-scale N] [--execution-name NAME] [--events-endpoint URL] [--no-validate]';

// PUT_EVENTS is the Resource of Step Functions' optimized EventBridge integration.
export const PUT_EVENTS = 'arn:aws:states:::events:putEvents';

export function parseArgs(argv) {
  let values;
  try {
    ({ values } = parseNodeArgs({
      args: argv,
      options: {
        definition: { type: 'string' },
        input: { type: 'string' },
        substitutions: { type: 'string' },
        mocks: { type: 'string' },
        'lambda-endpoints': { type: 'string' },
        'events-endpoint': { type: 'string' },
        'wait-scale': { type: 'string', default: '1' },
        'execution-name': { type: 'string' },
        'no-validate': { type: 'boolean', default: false },
        'child-machines': { type: 'string' },
        'sim-admin': { type: 'string' },
        'state-machine-arn': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DriverError(`${err.message}\n${USAGE}`);
  }
  const missing = ['definition', 'input', 'substitutions'].filter((k) => !values[k]);
  if (missing.length) throw new DriverError(`missing --${missing.join(', --')}\n${USAGE}`);
  if (!values.mocks === !values['lambda-endpoints']) {
    throw new DriverError(`give exactly one of --mocks and --lambda-endpoints\n${USAGE}`);
  }
  const waitScale = Number(values['wait-scale']);
  if (!Number.isFinite(waitScale) || waitScale < 0) throw new DriverError(`--wait-scale: want a number >= 0, got ${values['wait-scale']}`);
  return {
    definition: values.definition,
    input: values.input,
    substitutions: values.substitutions,
    mocks: values.mocks,
    lambdaEndpoints: values['lambda-endpoints'],
    eventsEndpoint: values['events-endpoint'],
    waitScale,
    validate: !values['no-validate'],
    childMachines: values['child-machines'],
    simAdmin: values['sim-admin'],
    stateMachineArn: values['state-machine-arn'],
    executionName: values['execution-name'] || `local-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`,
  };
}

// substitute replaces every ${Name} of the definition text, as CloudFormation's
// DefinitionSubstitutions does. A placeholder without a value is an error.
export function substitute(text, substitutions) {
  if (substitutions === null || typeof substitutions !== 'object' || Array.isArray(substitutions)) {
    throw new DriverError('substitutions: want a JSON object of name -> value');
  }
  const missing = new Set();
  const out = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name) => {
    if (!(name in substitutions)) {
      missing.add(name);
      return whole;
    }
    return JSON.stringify(String(substitutions[name])).slice(1, -1);
  });
  if (missing.size) throw new DriverError(`substitutions: no value for ${[...missing].map((n) => '${' + n + '}').join(', ')}`);
  return out;
}

// evaluatePath reads a simple reference path ($, $.a.b, $.a[0], $['a']) from value.
export function evaluatePath(path, value) {
  if (typeof path !== 'string' || !path.startsWith('$')) throw new Error(`unsupported path ${path}`);
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['([^']*)'\]/gy;
  re.lastIndex = 1;
  let cur = value;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) throw new Error(`unsupported path ${path}`);
    const key = m[1] ?? m[3] ?? Number(m[2]);
    if (cur === null || typeof cur !== 'object' || !(key in cur)) throw new Error(`${path}: not found`);
    cur = cur[key];
  }
  return cur;
}

// waitSeconds is how long a Wait state asks to wait for the given input (seconds).
export function waitSeconds(state, input, now = Date.now()) {
  if (state.Seconds !== undefined) return state.Seconds;
  if (state.SecondsPath !== undefined) return evaluatePath(state.SecondsPath, input);
  const ts = state.Timestamp ?? (state.TimestampPath !== undefined ? evaluatePath(state.TimestampPath, input) : undefined);
  if (ts === undefined) return null;
  return Math.max(0, Math.ceil((new Date(ts).getTime() - now) / 1000));
}

// retryPauseSeconds is how long Step Functions waits before retry number attempt (1 = the
// first retry) of a Retry rule: IntervalSeconds × BackoffRate^(attempt-1), at most
// MaxDelaySeconds, and with JitterStrategy FULL a random part of that (random() in [0, 1)).
// Defaults as in the ASL specification: IntervalSeconds 1, BackoffRate 2.
export function retryPauseSeconds(retrier, attempt, random = Math.random) {
  const interval = retrier.IntervalSeconds ?? 1;
  const backoff = retrier.BackoffRate ?? 2;
  let seconds = interval * Math.pow(backoff, Math.max(0, attempt - 1));
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds *= random();
  return seconds;
}

// LAMBDA_UNKNOWN is the error name Step Functions gives an error Lambda reports without an
// error type: a function that timed out or ran out of memory (or whose runtime crashed).
// "Handle Lambda service exceptions":
// https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
export const LAMBDA_UNKNOWN = 'Lambda.Unknown';

// rieUnhandledError recognizes the answers of the Lambda Runtime Interface Emulator that
// Lambda reports as an unhandled function error, and returns the function's error payload
// as Lambda would return it, or null:
//   - a timeout: HTTP 200 with the plain text "Task timed out after 1.00 seconds" (the RIE
//     has killed the runtime);
//   - a crashed runtime (an out-of-memory kill included): HTTP 502 with
//     {"errorType":"Runtime.ExitError","errorMessage":"... Runtime exited with error: signal: killed"}.
// Any other non-200 answer is the emulator failing, a Lambda service error.
export function rieUnhandledError(status, text) {
  const trimmed = String(text ?? '').trim();
  if (status === 200 && /^Task timed out after [0-9.]+ seconds$/.test(trimmed)) {
    return { errorMessage: trimmed };
  }
  if (status === 502) {
    let body;
    try {
      body = JSON.parse(trimmed);
    } catch {
      return null;
    }
    if (body && typeof body.errorType === 'string' && /^(Runtime|Sandbox)\./.test(body.errorType)) {
      return body;
    }
  }
  return null;
}

// unknownCause is the Cause Step Functions gives Lambda.Unknown: a sentence and the payload
// the function returned.
export function unknownCause(payload) {
  return `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify(payload)}`;
}

// allStates returns every state of a definition by name: the top level's and those of the
// Map iterations (ItemProcessor, or the older Iterator) and Parallel branches inside it, at
// any depth. The interpreter looks Task handlers and Wait overrides up by state name alone,
// so a name must be unique across them all.
export function allStates(definition) {
  const out = {};
  const visit = (machine) => {
    for (const [name, state] of Object.entries(machine?.States ?? {})) {
      if (name in out) throw new DriverError(`definition: the state name ${name} is used twice (in a Map or Parallel state and outside it)`);
      out[name] = state;
      if (state.ItemProcessor) visit(state.ItemProcessor);
      if (state.Iterator) visit(state.Iterator);
      for (const branch of state.Branches ?? []) visit(branch);
    }
  };
  visit(definition);
  return out;
}

// Step Functions limits the driver enforces, so that what fails on AWS fails locally.
// "Maximum input or output size for a task, state, or execution: 256 KiB of data as a
// UTF-8 encoded string" (Step Functions service quotas); beyond it a state fails with
// States.DataLimitExceeded, "a terminal error that can't be caught by the States.ALL
// error type", raised when a connector's output, a state's output, or a state's input
// after Parameters is larger than the quota ("Handling errors in Step Functions
// workflows", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
// An error's name and cause are at most 256 and 32,768 characters (TaskFailedEventDetails
// and ExecutionFailedEventDetails, AWS Step Functions API Reference).
export const MAX_PAYLOAD_BYTES = 262144;
export const MAX_ERROR_CHARS = 256;
export const MAX_CAUSE_CHARS = 32768;
export const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';

// payloadBytes is the size Step Functions measures: the UTF-8 bytes of the JSON text.
export function payloadBytes(value) {
  return Buffer.byteLength(value === undefined ? 'null' : JSON.stringify(value), 'utf8');
}

// errorTooLong returns why an error name or cause is longer than Step Functions keeps
// ("" when both fit). Characters are counted as UTF-16 code units, at least as many as
// the Unicode characters AWS counts, so a text within the bound here is within it on AWS.
export function errorTooLong(name, cause) {
  if (typeof name === 'string' && name.length > MAX_ERROR_CHARS) {
    return `an error name of ${name.length} characters; Step Functions keeps at most ${MAX_ERROR_CHARS}`;
  }
  if (typeof cause === 'string' && cause.length > MAX_CAUSE_CHARS) {
    return `a cause of ${cause.length} characters; Step Functions keeps at most ${MAX_CAUSE_CHARS}`;
  }
  return '';
}
