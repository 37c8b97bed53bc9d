import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's two LLDP built-ins (issue 20: "LLDP where available"), with MAAS 3.7's names and metadata:
 * 20-maas-01-install-lldpd (parallel disabled, 30 s) starts the environment's receive-only LLDP
 * agent, and maas-capture-lldpd (parallel any, 60 s) prints what it heard as `lldpctl -f xml`,
 * which the region keeps as the machine's lldp details. Both are node (hardware type 0)
 * commissioning scripts; their text ships in the ephemeral image, as migration 0038's do. A user's
 * script that already has one of these names keeps it (MAAS's names are unique), and the built-in
 * is then not added.
 */
const BUILTINS = [
  {
    name: '20-maas-01-install-lldpd',
    title: 'Install and configure lldpd for passive capture.',
    description:
      "Start the ephemeral environment's receive-only LLDP agent (lldp-listen), so it hears the switches while the other scripts run.",
    parallel: 0,
    timeout: 30,
  },
  {
    name: 'maas-capture-lldpd',
    title: 'Capture lldpd output',
    description:
      "The LLDP neighbours heard on the machine's interfaces, as lldpctl's XML (the machine's lldp details).",
    parallel: 2,
    timeout: 60,
  },
];

const body = (name: string) =>
  `#!/bin/sh\n# ${name}: a MAAS built-in script. Its text ships in metalflow's ephemeral image\n` +
  `# (images/ephemeral), which runs that copy; this stored body is a placeholder.\nexit 0\n`;

export class LldpScripts1765260000000 implements MigrationInterface {
  name = 'LldpScripts1765260000000';

  async up(q: QueryRunner): Promise<void> {
    for (const s of BUILTINS) {
      const rows = (await q.query(
        `INSERT INTO scripts (name, title, description, tags, script_type, hardware_type, parallel,
           timeout_seconds, destructive, parameters, is_default)
         VALUES ($1, $2, $3, '{node}', 0, 0, $4, $5, false, '{}', true)
         ON CONFLICT (name) DO NOTHING RETURNING id`,
        [s.name, s.title, s.description, s.parallel, s.timeout],
      )) as Array<{ id: number }>;
      if (rows[0] === undefined) continue;
      await q.query(`INSERT INTO script_versions (script_id, data, comment) VALUES ($1, $2, 'Built in.')`, [
        rows[0].id,
        Buffer.from(body(s.name)),
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM scripts WHERE is_default AND name = ANY($1::text[])`, [BUILTINS.map((s) => s.name)]);
  }
}
