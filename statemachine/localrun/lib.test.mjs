// Unit tests of lib.mjs, run by `node --test` (TestDriverLib in statemachine/ runs them).
import test from 'node:test';
import assert from 'node:assert/strict';
import { DriverError, parseArgs, substitute, evaluatePath, waitSeconds, retryPauseSeconds, rieUnhandledError, unknownCause } from './lib.mjs';

const base = ['--definition', 'd.json', '--input', 'i.json', '--substitutions', 's.json'];

test('parseArgs', async (t) => {
  await t.test('mocks with defaults', () => {
    const got = parseArgs([...base, '--mocks', 'm.json']);
    assert.equal(got.mocks, 'm.json');
    assert.equal(got.waitScale, 1);
    assert.equal(got.validate, true);
    assert.match(got.executionName, /^local-\d{14}$/);
  });
  await t.test('endpoints, scale, name, no validation', () => {
    const got = parseArgs([...base, '--lambda-endpoints', 'e.json', '--wait-scale', '0.5', '--execution-name', 'x', '--no-validate']);
    assert.deepEqual([got.lambdaEndpoints, got.waitScale, got.executionName, got.validate], ['e.json', 0.5, 'x', false]);
  });
  for (const [name, argv, want] of [
    ['both task sources', [...base, '--mocks', 'm', '--lambda-endpoints', 'e'], /exactly one of/],
    ['no task source', base, /exactly one of/],
    ['missing definition', ['--input', 'i', '--substitutions', 's', '--mocks', 'm'], /missing --definition/],
    ['negative scale', [...base, '--mocks', 'm', '--wait-scale', '-1'], /--wait-scale/],
    ['unknown option', [...base, '--mocks', 'm', '--nope'], /nope/],
  ]) {
    await t.test(name, () => assert.throws(() => parseArgs(argv), (err) => err instanceof DriverError && want.test(err.message)));
  }
});

test('substitute', async (t) => {
  await t.test('replaces and JSON-escapes', () => {
    const got = substitute('{"R":"${A}","S":"${B}"}', { A: 'arn:x', B: 'a"b' });
    assert.deepEqual(JSON.parse(got), { R: 'arn:x', S: 'a"b' });
  });
  await t.test('names every missing value', () => {
    assert.throws(() => substitute('"${A}${B}${A}"', {}), /no value for \$\{A\}, \$\{B\}/);
  });
});

test('evaluatePath', () => {
  const v = { a: { b: [1, { c: 7 }] }, 'x-y': 2 };
  assert.deepEqual(evaluatePath('$', v), v);
  assert.equal(evaluatePath('$.a.b[1].c', v), 7);
  assert.equal(evaluatePath("$['x-y']", v), 2);
  assert.throws(() => evaluatePath('$.a.z', v), /not found/);
  assert.throws(() => evaluatePath('$..c', v), /unsupported/);
});

test('waitSeconds', () => {
  const now = Date.parse('2026-11-27T00:00:00Z');
  assert.equal(waitSeconds({ Seconds: 5 }, {}), 5);
  assert.equal(waitSeconds({ SecondsPath: '$.p.n' }, { p: { n: 30 } }), 30);
  assert.equal(waitSeconds({ Timestamp: '2026-11-27T00:01:00Z' }, {}, now), 60);
  assert.equal(waitSeconds({ TimestampPath: '$.t' }, { t: '2026-11-26T00:00:00Z' }, now), 0);
});

test('retryPauseSeconds', () => {
  // dsmigrate's NotReadyError rule: 5, 10, 20, then MaxDelaySeconds 30 (185 s in 8 retries).
  const notReady = { IntervalSeconds: 5, MaxAttempts: 8, BackoffRate: 2, MaxDelaySeconds: 30 };
  const pauses = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryPauseSeconds(notReady, n));
  assert.deepEqual(pauses, [5, 10, 20, 30, 30, 30, 30, 30]);
  // Defaults: IntervalSeconds 1, BackoffRate 2, no cap.
  assert.equal(retryPauseSeconds({}, 3), 4);
  // FULL jitter takes a random part of the capped pause.
  const transient = { IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' };
  assert.equal(retryPauseSeconds(transient, 10, () => 0.5), 30);
  assert.equal(retryPauseSeconds(transient, 1, () => 0), 0);
});

test('rieUnhandledError', async (t) => {
  // Answers of aws-lambda-rie as seen from a Go bootstrap: a function timeout, a runtime
  // that exited (os.Exit, or killed for memory), a handled error, a result.
  for (const [name, status, text, want] of [
    ['timeout', 200, 'Task timed out after 1.00 seconds', { errorMessage: 'Task timed out after 1.00 seconds' }],
    ['runtime exited', 502, '{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r Error: Runtime exited with error: signal: killed"}',
      { errorType: 'Runtime.ExitError', errorMessage: 'RequestId: r Error: Runtime exited with error: signal: killed' }],
    ['function error', 200, '{"errorType":"TransientError","errorMessage":"slow down"}', null],
    ['result', 200, '{"ok":true}', null],
    ['emulator failure', 502, 'bad gateway', null],
    ['other 502 error', 502, '{"errorType":"TransientError","errorMessage":"x"}', null],
    ['timeout text in a 500', 500, 'Task timed out after 1.00 seconds', null],
  ]) {
    await t.test(name, () => assert.deepEqual(rieUnhandledError(status, text), want));
  }
  await t.test('cause carries the payload', () => {
    assert.match(unknownCause({ errorMessage: 'Task timed out after 1.00 seconds' }), /did not return an error type.*Task timed out after 1\.00 seconds/);
  });
});
