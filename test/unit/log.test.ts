// The log line format (contracts/log.ts) and the rack's log scope: one JSON object per line with
// time, level, msg and the machine and workflow fields of the activity that logged it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLog, formatLogLine, withFields, type LogFields } from '../../src/contracts/log';
import { activityLogFields } from '../../src/rack/activity-log-fields';
import { scopedLog, withLogFields } from '../../src/rack/log-scope';
import { logFormat } from '../../src/runtime/config';

const T = new Date('2026-01-02T03:04:05.678Z');

function capture() {
  const lines: string[] = [];
  const log = createLog({ format: 'json', write: (l) => lines.push(l), now: () => T });
  return { log, lines, objects: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log lines', () => {
  it('json: time, level and msg first, then the fields given; undefined fields left out', () => {
    const line = formatLogLine('json', T, 'power on abc', { system_id: 'abc', workflow_id: undefined, level: 'warn' });
    assert.equal(line, '{"time":"2026-01-02T03:04:05.678Z","level":"warn","msg":"power on abc","system_id":"abc"}');
    assert.equal(JSON.parse(formatLogLine('json', T, 'x')).level, 'info', 'info by default');
  });

  it('json: a field cannot replace the time or the message', () => {
    const o = JSON.parse(formatLogLine('json', T, 'real', { msg: 'forged', time: 'then' } as LogFields));
    assert.equal(o.msg, 'real');
    assert.equal(o.time, T.toISOString());
  });

  it('text: the human line, level when not info, fields as key=value', () => {
    assert.equal(formatLogLine('text', T, 'hello'), '[2026-01-02T03:04:05.678Z] hello');
    assert.equal(
      formatLogLine('text', T, 'failed', { level: 'error', system_id: 'abc' }),
      '[2026-01-02T03:04:05.678Z] ERROR failed system_id=abc',
    );
  });

  it('one line per call, newline-terminated; base and withFields fields carried, the call wins', () => {
    const lines: string[] = [];
    const log = withFields(createLog({ format: 'json', write: (l) => lines.push(l), base: { rack: 'r1' } }), {
      system_id: 'a',
    });
    log('one', { system_id: 'b' });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('}\n'));
    assert.deepEqual(
      { rack: JSON.parse(lines[0]!).rack, system_id: JSON.parse(lines[0]!).system_id },
      { rack: 'r1', system_id: 'b' },
    );
  });

  it('METALFLOW_LOG_FORMAT: json by default, text on request, anything else refused', () => {
    assert.equal(logFormat(undefined), 'json');
    assert.equal(logFormat('text'), 'text');
    assert.throws(() => logFormat('yaml'), /METALFLOW_LOG_FORMAT: "yaml" is not one of json, text/);
  });
});

describe('rack log scope', () => {
  it('lines logged inside withLogFields carry its fields, nested scopes add to them, outside none', async () => {
    const c = capture();
    const log = scopedLog(c.log);
    await withLogFields({ system_id: 'abc' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      withLogFields({ workflow_id: 'machine:abc' }, () => log('inner'));
      log('outer');
    });
    log('after');
    const [inner, outer, after] = c.objects();
    assert.equal(inner!.system_id, 'abc');
    assert.equal(inner!.workflow_id, 'machine:abc');
    assert.equal(outer!.workflow_id, undefined);
    assert.equal(after!.system_id, undefined);
  });

  it("the rack worker's interceptor puts the activity's machine, workflow and run on its lines", async () => {
    const c = capture();
    const log = scopedLog(c.log);
    const ctx = { info: { workflowExecution: { workflowId: 'machine:xyz', runId: 'run-1' } } };
    const interceptors = activityLogFields(ctx as never);
    await interceptors.inbound!.execute!({ args: [{ systemId: 'xyz' }], headers: {} }, async () => {
      log('power on xyz (ipmi, was off)');
      return undefined;
    });
    const [line] = c.objects();
    assert.deepEqual(
      { system_id: line!.system_id, workflow_id: line!.workflow_id, run_id: line!.run_id, msg: line!.msg },
      { system_id: 'xyz', workflow_id: 'machine:xyz', run_id: 'run-1', msg: 'power on xyz (ipmi, was off)' },
    );
  });
});
