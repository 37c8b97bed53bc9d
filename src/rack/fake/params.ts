// The knobs of a FAKE machine, from its power parameters (power_type "fake", src/contracts/power.ts).
export type FakeBehaviour = 'normal' | 'silent' | 'fail';

export interface FakeParams {
  /** normal: reports like a healthy machine; silent: never reports (timeouts); fail: reports FAILED. */
  behaviour: FakeBehaviour;
  delayMs: number;
  cpuCount: number;
  memoryMib: number;
  diskBytes: number;
}

export const FAKE_DEFAULTS: FakeParams = {
  behaviour: 'normal',
  delayMs: 200,
  cpuCount: 4,
  memoryMib: 8192,
  diskBytes: 100_000_000_000,
};

const BEHAVIOURS: readonly FakeBehaviour[] = ['normal', 'silent', 'fail'];

function whole(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

/** Lenient on purpose: the region validated the choices; a bad number falls back to the default. */
export function parseFakeParams(parameters: Record<string, string>): FakeParams {
  const behaviour = (parameters.fake_behaviour ?? '').trim().toLowerCase();
  return {
    behaviour: BEHAVIOURS.includes(behaviour as FakeBehaviour) ? (behaviour as FakeBehaviour) : FAKE_DEFAULTS.behaviour,
    delayMs: whole(parameters.fake_delay_ms, FAKE_DEFAULTS.delayMs),
    cpuCount: whole(parameters.fake_cpu_count, FAKE_DEFAULTS.cpuCount),
    memoryMib: whole(parameters.fake_memory_mib, FAKE_DEFAULTS.memoryMib),
    diskBytes: whole(parameters.fake_disk_bytes, FAKE_DEFAULTS.diskBytes),
  };
}
