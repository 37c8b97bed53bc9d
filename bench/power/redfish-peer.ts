// The power bench's Redfish BMCs as a process of its own (so their CPU is not counted as the
// rack's): test/helpers/bmc/redfish-peer.ts on PORTS ports with SYSTEMS systems; prints
// {"addresses": [...]} once listening, and the sessions it saw on SIGTERM.
import { startRedfishPeer } from '../../test/helpers/bmc/redfish-peer';

async function main(): Promise<void> {
  const peer = await startRedfishPeer({
    systems: Number(process.env.SYSTEMS ?? 500),
    ports: Number(process.env.PORTS ?? 1),
  });
  process.stdout.write(`${JSON.stringify({ addresses: peer.addresses })}\n`);
  process.on('SIGTERM', () => {
    process.stderr.write(`redfish peer: ${peer.logins} sessions opened, ${peer.logouts} closed\n`);
    process.exit(0);
  });
}

void main();
