// The rack's DHCP server as a child process for tests that need it in its own network namespace
// (port 67, broadcasts): it applies the DHCP config found in a JSON file, the region's own output
// written there by the test, and re-applies it live whenever the file changes, as the rack does on
// each poll of the region. Prints "applied <n>" after each apply.
//   ip netns exec <ns> node --import tsx test/helpers/dhcp-config-file-server.ts <stateDir> <configFile>
import fs from 'node:fs';
import type { DhcpConfig } from '../../src/contracts/rack-api';
import { openLeaseJournal } from '../../src/rack/dhcp/lease-store';
import { DhcpServer } from '../../src/rack/dhcp/server';

async function main(): Promise<void> {
  const [stateDir, configFile] = process.argv.slice(2);
  if (!stateDir || !configFile) throw new Error('usage: dhcp-config-file-server.ts <stateDir> <configFile>');
  const { journal, leases } = await openLeaseJournal(stateDir);
  const server = new DhcpServer({ port: 67, httpPort: 5248, journal, leases, log: (line) => console.error(line) });
  let applied = '';
  let count = 0;
  const poll = async () => {
    const text = fs.existsSync(configFile) ? fs.readFileSync(configFile, 'utf8') : '';
    if (!text || text === applied) return;
    await server.apply(JSON.parse(text) as DhcpConfig);
    applied = text;
    console.log(`applied ${++count}`);
  };
  const timer = setInterval(() => void poll().catch((err: unknown) => console.error(err)), 100);
  const stop = async () => {
    clearInterval(timer);
    await server.close();
    await journal.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
