// A real MAAS client, unchanged: python-libmaas 0.6.8 (installed into .venv from
// test/compat/requirements.txt) runs an operator's flow against metalflow started as real
// processes, with the fake rack's machines talking to the real metadata server. The flow is
// test/compat/libmaas_flow.py; it prints one JSON line per step.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const FLOW = path.join(ROOT, 'test', 'compat', 'libmaas_flow.py');
const FLOW_TIMEOUT_MS = 300_000;

interface Step {
  step: string;
  ok: boolean;
  error?: string;
  traceback?: string | null;
  [field: string]: unknown;
}

function runFlow(
  url: string,
  key: string,
): Promise<{ code: number | null; steps: Step[]; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [FLOW, url, key],
      { cwd: ROOT, timeout: FLOW_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        const steps = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Step);
        resolve({ code, steps, stdout, stderr });
      },
    );
  });
}

describe('python-libmaas 0.6.8 against metalflow (separate processes)', () => {
  let stack: Stack;
  let result: Awaited<ReturnType<typeof runFlow>>;
  const step = (name: string): Step => {
    const s = result.steps.find((x) => x.step === name);
    assert.ok(s, `the flow printed no "${name}" step:\n${result.stdout}\n${result.stderr}`);
    return s;
  };
  /** The step, which must have passed. */
  const passed = (name: string): Step => {
    const s = step(name);
    assert.equal(s.ok, true, `${name}: ${s.error}${s.traceback ? `\n${s.traceback}` : ''}`);
    return s;
  };

  before(async () => {
    assert.ok(
      fs.existsSync(PYTHON),
      `${PYTHON} is missing: install python-libmaas with .venv/bin/pip install -r test/compat/requirements.txt`,
    );
    stack = await startStack({});
    result = await runFlow(stack.apiUrl.replace(/api\/2\.0$/, ''), stack.adminKey);
  });
  after(async () => stack?.stop());

  it('runs the whole flow without a failed step', () => {
    const failed = result.steps
      .filter((s) => !s.ok && s.step !== 'summary')
      .map((s) => `${s.step}: ${s.error}${s.traceback ? `\n${s.traceback}` : ''}`);
    assert.deepEqual(failed, [], `failed steps:\n${failed.join('\n\n')}\n--- stderr\n${result.stderr}`);
    assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
    assert.deepEqual(
      result.steps.map((s) => s.step),
      [
        'describe',
        'connect',
        'whoami',
        'version',
        'create',
        'power_parameters',
        'commissioned',
        'inspect',
        'list',
        'allocate',
        'deploy',
        'deployed',
        'release',
        'released',
        'allocate_impossible',
        'summary',
      ],
    );
  });

  it('finds the handlers libmaas binds in describe/', () => {
    const d = passed('describe');
    for (const name of ['Machine', 'Machines', 'Users', 'Version', 'Account', 'Tags', 'Zones', 'ResourcePools']) {
      assert.ok((d.handlers as string[]).includes(name), `describe/ lacks ${name}: ${JSON.stringify(d.handlers)}`);
    }
    // MAAS serves is_registered on nodes/ anonymously too (AnonNodesHandler).
    assert.deepEqual(d.anonymous_handlers, ['Machines', 'Nodes', 'Version']);
  });

  it('knows who it is and which MAAS it talks to', () => {
    assert.deepEqual(
      { ...passed('whoami') },
      { step: 'whoami', ok: true, username: 'admin', email: 'admin@example.com', is_admin: true },
    );
    const v = passed('version');
    assert.match(String(v.version), /^\d+\.\d+/);
    assert.ok((v.capabilities as string[]).includes('authenticate-api'));
  });

  it('creates a machine that commissions to READY with the power parameters it was given', () => {
    const created = passed('create');
    assert.ok(['NEW', 'COMMISSIONING'].includes(String(created.status)));
    assert.equal((passed('power_parameters').power_parameters as Record<string, string>).fake_delay_ms, '100');
    const c = passed('commissioned');
    assert.equal(c.status, 'READY');
    assert.ok(Number(c.cpus) > 0 && Number(c.memory) > 0);
    passed('inspect');
    assert.deepEqual(passed('list').by_hostname, [created.system_id]);
  });

  it('allocates by constraints, deploys jammy, and releases back to READY', () => {
    const id = passed('create').system_id;
    assert.deepEqual(
      { ...passed('allocate') },
      { step: 'allocate', ok: true, system_id: id, status: 'ALLOCATED', owner: 'admin' },
    );
    assert.ok(['DEPLOYING', 'DEPLOYED'].includes(String(passed('deploy').status)));
    const d = passed('deployed');
    assert.equal(d.status, 'DEPLOYED');
    assert.equal(d.osystem, 'ubuntu');
    assert.equal(d.distro_series, 'jammy');
    assert.equal(passed('released').status, 'READY');
  });

  it('gets MachineNotFound from a 409 when nothing matches', () => {
    const e = passed('allocate_impossible');
    assert.equal(e.error, 'MachineNotFound');
    assert.equal(e.status, 409);
  });
});
