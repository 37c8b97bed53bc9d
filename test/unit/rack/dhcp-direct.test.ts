// Unrelayed broadcasts: Node cannot tell which interface they arrived on, so a rack that is also on
// networks DHCP does not serve must not answer them (it would be a rogue DHCP server there).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DhcpConfig } from '../../../src/contracts/rack-api';
import { parseIp } from '../../../src/rack/dhcp/ipv4';
import { LeaseTable } from '../../../src/rack/dhcp/lease-table';
import { MSG, OPT, optU8 } from '../../../src/rack/dhcp/options';
import { clientMessage } from './relay-probe';
import { Responder } from '../../../src/rack/dhcp/responder';
import { directRefusal } from '../../../src/rack/dhcp/server';
import { compileSubnets } from '../../../src/rack/dhcp/subnets';

const CONFIG: DhcpConfig = {
  subnets: [
    {
      subnetId: 1,
      cidr: '10.77.0.0/24',
      gatewayIp: null,
      dnsServers: [],
      ntpServers: [],
      domain: 'maas',
      dynamicRanges: [{ start: '10.77.0.100', end: '10.77.0.150' }],
      reservedRanges: [],
      fixed: [],
      leaseSeconds: 600,
    },
  ],
};
const ips = (...a: string[]) => a.map((x) => parseIp(x)!);
const served = (local: number[]) => compileSubnets(CONFIG, local, new Map(), () => undefined);

describe('DHCP: unrelayed broadcasts on a host with other networks', () => {
  it('answers broadcasts only when every network of this host is served (loopback aside)', () => {
    assert.equal(directRefusal(served(ips('10.77.0.1', '127.0.0.1')), ips('10.77.0.1', '127.0.0.1')), undefined);
    const refusal = directRefusal(served(ips('10.77.0.1', '192.168.1.5')), ips('10.77.0.1', '192.168.1.5'));
    assert.match(refusal ?? '', /192\.168\.1\.5.*DHCP relay.*METALFLOW_DHCP_BROADCASTS=all/);
  });

  it('with a refusal, a broadcast DISCOVER and INIT-REBOOT get nothing; relayed requests and renewals are served', () => {
    const local = ips('10.77.0.1', '192.168.1.5');
    const subnets = served(local);
    const responder = new Responder(new LeaseTable(), { httpPort: 5248 });
    responder.setSubnets(subnets, directRefusal(subnets, local));
    const now = Date.now();
    const discover = responder.respond(
      clientMessage({ type: MSG.discover, mac: '52:54:00:00:00:01', giaddr: '0.0.0.0' }, 0),
      now,
    );
    assert.equal(discover.reply, undefined);
    assert.match(discover.note ?? '', /not answered/);
    const reboot = responder.respond(
      clientMessage({ type: MSG.request, mac: '52:54:00:00:00:01', giaddr: '0.0.0.0', requestedIp: '192.168.1.77' }, 0),
      now,
    );
    assert.equal(reboot.reply, undefined, 'no NAK for a client of a network we do not serve');
    const relayed = responder.respond(
      clientMessage({ type: MSG.discover, mac: '52:54:00:00:00:02', giaddr: '10.77.0.1' }, 0),
      now,
    );
    assert.equal(optU8(relayed.reply!.options, OPT.messageType), MSG.offer);

    responder.setSubnets(subnets, undefined);
    const allowed = responder.respond(
      clientMessage({ type: MSG.discover, mac: '52:54:00:00:00:03', giaddr: '0.0.0.0' }, 0),
      now,
    );
    assert.equal(optU8(allowed.reply!.options, OPT.messageType), MSG.offer, 'answered once the operator allows it');
  });

  it('ignores non-Ethernet hardware addresses rather than leasing to them', () => {
    const subnets = served(ips('10.77.0.1'));
    const responder = new Responder(new LeaseTable(), { httpPort: 5248 });
    responder.setSubnets(subnets);
    const odd = clientMessage({ type: MSG.discover, mac: '52:54:00:00:00:01:02:03', giaddr: '10.77.0.1' }, 0);
    const out = responder.respond(odd, Date.now());
    assert.equal(out.reply, undefined);
    assert.match(out.note ?? '', /not Ethernet/);
  });
});
