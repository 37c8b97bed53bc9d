// metalflow's DHCP server as a standalone process for the DHCP benchmark: a static config (one
// /16 subnet), leases durable in the given directory. Run inside the server's network namespace:
//   node --import tsx bench/dhcp/server.ts <stateDir> <cidr> <rangeStart> <rangeEnd>
// Prints "ready <port>" once it listens; SIGTERM closes the socket and flushes the journal.
// METALFLOW_BENCH_DHCP_SNIPPETS=N puts N DHCP snippets in force (issue 22: one global, half of the
// rest on the subnet, the others on machines' MACs), to compare DORA/s with and without.
import { mergeDhcpSnippetLayers, parseDhcpSnippet, type DhcpSnippetLayer } from '../../src/contracts/dhcp-snippets';
import type { DhcpConfig } from '../../src/contracts/rack-api';
import { openLeaseJournal } from '../../src/rack/dhcp/lease-store';
import { DhcpServer } from '../../src/rack/dhcp/server';

async function main(): Promise<void> {
  const [stateDir, cidr, start, end] = process.argv.slice(2);
  if (!stateDir || !cidr || !start || !end)
    throw new Error('usage: server.ts <stateDir> <cidr> <rangeStart> <rangeEnd>');
  const { journal, leases } = await openLeaseJournal(stateDir);
  const server = new DhcpServer({ port: 67, httpPort: 5248, journal, leases, log: (line) => console.error(line) });
  const snippets = benchSnippets(Number(process.env.METALFLOW_BENCH_DHCP_SNIPPETS ?? 0));
  await server.apply({
    globalSnippets: snippets.globalSnippets,
    hostSnippets: snippets.hostSnippets,
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
        snippets: snippets.subnet,
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

/** What n snippets of each scope add, merged as the region merges them (distinct custom codes). */
function benchSnippets(n: number): Pick<DhcpConfig, 'globalSnippets' | 'hostSnippets'> & { subnet?: DhcpSnippetLayer } {
  if (n <= 0) return {};
  const subnetCount = Math.floor((n - 1) / 2);
  const hosts = n - 1 - subnetCount;
  const custom = (k: number) =>
    `option bench-${k} code ${224 + (k % 31)} = unsigned integer 32; option bench-${k} ${k};`;
  const subnetLayers = Array.from({ length: subnetCount }, (_, k) => parseDhcpSnippet(custom(k)));
  return {
    globalSnippets: parseDhcpSnippet('option ntp-servers 10.78.0.1; option domain-search "bench";'),
    subnet: mergeDhcpSnippetLayers(subnetLayers),
    hostSnippets: Array.from({ length: hosts }, (_, k) => ({
      mac: `02:be:00:00:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`,
      snippets: parseDhcpSnippet('option interface-mtu 1400;'),
    })),
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
