// The rack's Prometheus metrics (prom-client, a registry of its own: `metalflow start` runs a
// region and a rack in one process). MAAS's name where MAAS has the metric
// (maas_tftp_file_transfer_latency); metalflow_rack_* otherwise. Labels are bounded sets: message
// types, outcomes, power types, never a MAC, an address or a file name a client chose.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Lease } from './dhcp/lease-table';

export class RackMetrics {
  readonly registry = new Registry();
  private leases: () => readonly Lease[] = () => [];

  readonly dhcpPackets = new Counter({
    name: 'metalflow_rack_dhcp_packets_total',
    help: 'DHCP packets received and sent by the rack, by direction and message type',
    labelNames: ['direction', 'type'] as const,
    registers: [this.registry],
  });

  readonly tftpLatency = new Histogram({
    name: 'maas_tftp_file_transfer_latency',
    help: 'Latency of TFTP file downloads (seconds), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly tftpBytes = new Counter({
    name: 'metalflow_rack_tftp_bytes_total',
    help: 'Bytes of files the rack sent over TFTP',
    registers: [this.registry],
  });

  readonly httpBootTransfers = new Counter({
    name: 'metalflow_rack_http_boot_transfers_total',
    help: 'HTTP boot requests answered by the rack, by what was asked (script, file, region proxy) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly httpBootBytes = new Counter({
    name: 'metalflow_rack_http_boot_bytes_total',
    help: 'Bytes the rack sent over HTTP boot, by what was asked',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly powerActions = new Counter({
    name: 'metalflow_rack_power_actions_total',
    help: "Power actions the rack's drivers ran, by power type, action and outcome",
    labelNames: ['driver', 'action', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    const leases = () => this.leases();
    new Gauge({
      name: 'metalflow_rack_dhcp_leases',
      help: "The rack's DHCP lease table by lease state, read at scrape time",
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const l of leases()) counts.set(l.state, (counts.get(l.state) ?? 0) + 1);
        for (const state of ['offered', 'bound', 'released', 'expired', 'declined'])
          this.set({ state }, counts.get(state) ?? 0);
      },
    });
  }

  /** Where the lease gauge reads from (DHCP starts after the metrics exist). */
  readLeasesFrom(leases: () => readonly Lease[]): void {
    this.leases = leases;
  }
}
