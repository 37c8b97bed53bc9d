// MAAS's machine `details` reply: BSON of {lshw, lldp}, each the XML bytes or null (lldp: what
// maas-capture-lldpd printed in the machine's latest commissioning).
import type { HardwareReport } from '../../contracts/hardware';
import { Reply } from '../http';
import { encodeBson } from './bson';
import { lshwXml } from './lshw';

export function machineDetails(d: { hostname: string; report: HardwareReport | null; lldp: Buffer | null }): Reply {
  const lshw = d.report ? Buffer.from(lshwXml(d.hostname, d.report), 'utf8') : null;
  return Reply.bytes(encodeBson({ lshw, lldp: d.lldp }), 'application/bson');
}
