// MAAS's machine statuses: the integers are part of the wire contract, the labels are MAAS's
// `status_name`s. The transitions between them, and the operations that drive them, are in
// lifecycle.ts.

export const MachineStatus = {
  NEW: 0,
  COMMISSIONING: 1,
  FAILED_COMMISSIONING: 2,
  MISSING: 3,
  READY: 4,
  RESERVED: 5,
  DEPLOYED: 6,
  RETIRED: 7,
  BROKEN: 8,
  DEPLOYING: 9,
  ALLOCATED: 10,
  FAILED_DEPLOYMENT: 11,
  RELEASING: 12,
  FAILED_RELEASING: 13,
  DISK_ERASING: 14,
  FAILED_DISK_ERASING: 15,
  RESCUE_MODE: 16,
  ENTERING_RESCUE_MODE: 17,
  FAILED_ENTERING_RESCUE_MODE: 18,
  EXITING_RESCUE_MODE: 19,
  FAILED_EXITING_RESCUE_MODE: 20,
  TESTING: 21,
  FAILED_TESTING: 22,
} as const;

export type MachineStatus = (typeof MachineStatus)[keyof typeof MachineStatus];
export type MachineStatusName = keyof typeof MachineStatus;

const S = MachineStatus;

/** MAAS's human labels, as in `status_name` and in transition errors. */
export const STATUS_LABELS: Readonly<Record<MachineStatus, string>> = {
  [S.NEW]: 'New',
  [S.COMMISSIONING]: 'Commissioning',
  [S.FAILED_COMMISSIONING]: 'Failed commissioning',
  [S.MISSING]: 'Missing',
  [S.READY]: 'Ready',
  [S.RESERVED]: 'Reserved',
  [S.DEPLOYED]: 'Deployed',
  [S.RETIRED]: 'Retired',
  [S.BROKEN]: 'Broken',
  [S.DEPLOYING]: 'Deploying',
  [S.ALLOCATED]: 'Allocated',
  [S.FAILED_DEPLOYMENT]: 'Failed deployment',
  [S.RELEASING]: 'Releasing',
  [S.FAILED_RELEASING]: 'Releasing failed',
  [S.DISK_ERASING]: 'Disk erasing',
  [S.FAILED_DISK_ERASING]: 'Failed disk erasing',
  [S.RESCUE_MODE]: 'Rescue mode',
  [S.ENTERING_RESCUE_MODE]: 'Entering rescue mode',
  [S.FAILED_ENTERING_RESCUE_MODE]: 'Failed to enter rescue mode',
  [S.EXITING_RESCUE_MODE]: 'Exiting rescue mode',
  [S.FAILED_EXITING_RESCUE_MODE]: 'Failed to exit rescue mode',
  [S.TESTING]: 'Testing',
  [S.FAILED_TESTING]: 'Failed testing',
};

const ALL_STATUSES = Object.values(MachineStatus) as MachineStatus[];

export function isMachineStatus(value: unknown): value is MachineStatus {
  return typeof value === 'number' && ALL_STATUSES.includes(value as MachineStatus);
}

export function labelOf(status: MachineStatus): string {
  return STATUS_LABELS[status] ?? 'Unknown';
}

/** MAAS's `status_name` is the label; `status` lookups by enum name go through here. */
export function statusFromName(name: string): MachineStatus | undefined {
  const upper = name
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (upper in MachineStatus) return MachineStatus[upper as MachineStatusName];
  const byLabel = ALL_STATUSES.find((s) => labelOf(s).toLowerCase() === name.trim().toLowerCase());
  return byLabel;
}
