import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's built-in (default) scripts that metalflow's ephemeral environment runs: the commissioning
 * scripts whose output is the machine's hardware record and the hardware tests. Their text ships
 * in the ephemeral image (images/ephemeral), so the stored body only says so; like MAAS's they
 * cannot be edited (tags and timeout aside), reverted or deleted. The values are MAAS's.
 */
const STORAGE_PARAM = { storage: { type: 'storage' } };
const BUILTINS: Array<{
  name: string;
  title: string;
  description: string;
  tags: string[];
  type: number;
  hardware: number;
  parallel: number;
  timeout: number;
  destructive?: boolean;
  parameters?: object;
}> = [
  {
    name: '00-maas-01-lshw',
    title: 'lshw',
    description: "The machine's hardware as lshw's XML, which XPath tag definitions are evaluated against.",
    tags: ['node'],
    type: 0,
    hardware: 0,
    parallel: 2,
    timeout: 30,
  },
  {
    name: '00-maas-02-virtuality',
    title: 'Virtuality',
    description: 'Whether the machine is a virtual machine (systemd-detect-virt).',
    tags: ['node'],
    type: 0,
    hardware: 0,
    parallel: 2,
    timeout: 10,
  },
  {
    name: '00-maas-05-dhcp-unconfigured-ifaces',
    title: 'DHCP unconfigured interfaces',
    description: 'Bring up and DHCP the interfaces the ephemeral environment left unconfigured.',
    tags: ['node'],
    type: 0,
    hardware: 0,
    parallel: 0,
    timeout: 600,
  },
  {
    name: '50-maas-01-commissioning',
    title: 'Machine resources',
    description: "The machine's resources (CPU, memory, storage, network) as the JSON document MAAS parses.",
    tags: ['node'],
    type: 0,
    hardware: 0,
    parallel: 2,
    timeout: 60,
  },
  {
    name: 'smartctl-validate',
    title: 'Storage self-test validation',
    description: 'Validate SMART health for all drives in parallel.',
    tags: ['storage'],
    type: 2,
    hardware: 3,
    parallel: 2,
    timeout: 300,
    parameters: STORAGE_PARAM,
  },
  {
    name: 'badblocks',
    title: 'Storage integrity',
    description: 'Run badblocks on a disk in readonly mode.',
    tags: ['storage'],
    type: 2,
    hardware: 3,
    parallel: 2,
    timeout: 0,
    parameters: STORAGE_PARAM,
  },
  {
    name: 'memtester',
    title: 'Memory integrity',
    description: 'Run memtester against all available RAM.',
    tags: ['memory'],
    type: 2,
    hardware: 2,
    parallel: 0,
    timeout: 0,
  },
  {
    name: 'stress-ng-cpu-short',
    title: 'CPU validation',
    description: 'Run the stress-ng CPU tests over 5 minutes.',
    tags: ['cpu'],
    type: 2,
    hardware: 1,
    parallel: 0,
    timeout: 300,
  },
  {
    name: 'fio',
    title: 'Storage benchmark',
    description: 'Run Fio benchmarking against selected storage devices.',
    tags: ['storage', 'destructive'],
    type: 2,
    hardware: 3,
    parallel: 0,
    timeout: 0,
    destructive: true,
    parameters: STORAGE_PARAM,
  },
  {
    name: 'internet-connectivity',
    title: 'Network validation',
    description: 'Check if the system has access to the internet.',
    tags: ['network', 'internet', 'node'],
    type: 2,
    hardware: 4,
    parallel: 2,
    timeout: 300,
  },
];

const body = (name: string) =>
  `#!/bin/sh\n# ${name}: a MAAS built-in script. Its text ships in metalflow's ephemeral image\n` +
  `# (images/ephemeral), which runs that copy; this stored body is a placeholder.\nexit 0\n`;

export class BuiltinScripts1765080000000 implements MigrationInterface {
  name = 'BuiltinScripts1765080000000';

  async up(q: QueryRunner): Promise<void> {
    for (const s of BUILTINS) {
      const [row] = (await q.query(
        `INSERT INTO scripts (name, title, description, tags, script_type, hardware_type, parallel,
           timeout_seconds, destructive, parameters, is_default)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true) RETURNING id`,
        [
          s.name,
          s.title,
          s.description,
          s.tags,
          s.type,
          s.hardware,
          s.parallel,
          s.timeout,
          s.destructive ?? false,
          JSON.stringify(s.parameters ?? {}),
        ],
      )) as Array<{ id: number }>;
      await q.query(`INSERT INTO script_versions (script_id, data, comment) VALUES ($1, $2, 'Built in.')`, [
        row!.id,
        Buffer.from(body(s.name)),
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM scripts WHERE is_default`);
  }
}
