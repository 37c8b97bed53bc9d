// metalflow's DHCP server as a standalone process for the DHCP benchmark: a static config (one
// /16 subnet), leases durable in the given directory. Run inside the server's network namespace:
//   node --import tsx bench/dhcp/server.ts <stateDir> <cidr> <rangeStart> <rangeEnd>
// Prints "ready <port>" once it listens; SIGTERM closes the socket and flushes the journal.
import { openLeaseJournal } from '../../src/rack/dhcp/lease-store';
import { DhcpServer } from '../../src/rack/dhcp/server';

async function main(): Promise<void> {
  const [stateDir, cidr, start, end] = process.argv.slice(2);
  if (!stateDir || !cidr || !start || !end)
    throw new Error('usage: server.ts <stateDir> <cidr> <rangeStart> <rangeEnd>');
  const { journal, leases } = await openLeaseJournal(stateDir);
  const server = new DhcpServer({ port: 67, httpPort: 5248, journal, leases, log: (line) => console.error(line) });
  await server.apply({
    subnets: [
      {
        subnetId: 1,
        cidr,
        gatewayIp: null,
        dnsServers: [],
        ntpServers: [],
        domain: 'bench',
        dynamicRanges: [{ start, end }],
        reservedRanges: [],
        fixed: [],
        leaseSeconds: 3600,
      },
    ],
  });
  console.log(`ready ${server.port}`);
  const stop = async () => {
    await server.close();
    await journal.close();
    const s = server.stats();
    console.error(
      `stats received=${s.received} replies=${s.replies} malformed=${s.malformed} unjournaled=${s.unjournaled}`,
    );
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
