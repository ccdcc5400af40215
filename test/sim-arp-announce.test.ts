/**
 * ARP announcements after a clean probe (RFC 5227 §2.3, `driver: { arpProbe: true }`) on
 * the simulator, in virtual time: two, the first as the address is configured and the
 * second 2 s later, without holding CONNECTED back; cancelled when the interface closes or
 * loses its address; none without arpProbe, none on a renewal (nothing was probed).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState } from '../src/index.js';
import { closeAndCheck, recorder, recordingLogger, simNetwork, untilState } from './helpers/sim.js';

const ADDRESS = '192.168.1.100';

describe('ARP announcements on the simulator', () => {
  test('DHCP: the first as CONNECTED is reported, the second 2 s later, then no more', async () => {
    const log = recordingLogger();
    const { world, net } = await simNetwork('default', { logger: log, driver: { arpProbe: true } });
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.CONNECTED);
    const connectedAtMs = rec.last()!.atMs;
    assert.equal(world.arpProbesSent, 3);
    assert.equal(world.arpAnnouncementsSent, 1, 'the first goes out with the address');
    await world.run(connectedAtMs + 1999 - world.clock.now());
    assert.equal(world.arpAnnouncementsSent, 1, 'the second not before ANNOUNCE_INTERVAL');
    await world.run(1);
    assert.equal(world.arpAnnouncementsSent, 2);
    assert.ok(log.lines.some((l) => l.includes(`arp announce ${ADDRESS}: 2 sent`)), log.lines.join('\n'));
    await world.run(60_000);
    assert.equal(world.arpAnnouncementsSent, 2);
    assert.equal(eth.state, NetState.CONNECTED);
    await closeAndCheck(world, eth);
  });

  test('closed between the two: the second is never sent, no timer is left', async () => {
    const log = recordingLogger();
    const { world, net } = await simNetwork('default', { logger: log, driver: { arpProbe: true } });
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    await world.run(500);
    await closeAndCheck(world, eth);
    assert.equal(world.arpAnnouncementsSent, 1);
    assert.ok(log.lines.some((l) => l.includes(`arp announce ${ADDRESS}: 1 sent, the rest cancelled`)), log.lines.join('\n'));
  });

  test('the address lost between the two (cable out): the second is never sent; the re-probed address is announced again', async () => {
    const { world, net } = await simNetwork('default', { driver: { arpProbe: true } });
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    assert.deepEqual(world.addresses('eth0'), []);
    await world.run(10_000);
    assert.equal(world.arpAnnouncementsSent, 1);
    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    await world.run(2000);
    assert.equal(world.arpProbesSent, 6, 'INIT-REBOOT: the remembered address is probed again');
    assert.equal(world.arpAnnouncementsSent, 3);
    await closeAndCheck(world, eth);
  });

  test('a static address is announced the same way', async () => {
    const { world, net } = await simNetwork('default', { driver: { arpProbe: true } });
    const eth = net.open({ interface: 'eth0', staticconfig: { ip: '192.168.1.50', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1'] } });
    await untilState(world, eth, NetState.CONNECTED);
    assert.equal(world.arpAnnouncementsSent, 1);
    await world.run(2000);
    assert.equal(world.arpAnnouncementsSent, 2);
    await closeAndCheck(world, eth);
  });

  test('without arpProbe nothing is announced; renewals (not probed) are not announced', async () => {
    const off = await simNetwork();
    const a = off.net.open({ interface: 'eth0' });
    await untilState(off.world, a, NetState.CONNECTED);
    await off.world.run(5000);
    assert.equal(off.world.arpAnnouncementsSent, 0);
    await closeAndCheck(off.world, a);

    const { world, net } = await simNetwork('short-lease', { driver: { arpProbe: true } });
    const requests = () => world.segment('eth0').dhcp!.received.filter((m) => m === 'REQUEST').length;
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    const before = requests();
    await world.run(60_000);
    assert.ok(requests() > before + 1, 'the lease was renewed');
    assert.equal(world.arpAnnouncementsSent, 2);
    await closeAndCheck(world, eth);
  });
});
