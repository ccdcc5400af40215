/**
 * The impOS facade and the link table on the Linux platform: openudp() throws at once for
 * a port in use (a synchronous bind), and a link created after the Network was made is
 * seen without refresh() (watchLinks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network, NetState, createImp, isNicupError } from '../src/index.js';
import { LinuxPlatform } from '../src/platform/linux/index.js';
import { createLab, requireRoot } from '../src/lab/netns-lab.js';
import { silent } from './helpers/sim.js';

test('impOS openudp on Linux: a port in use throws synchronously; a free one binds', { timeout: 30_000 }, async () => {
  requireRoot();
  const lab = await createLab();
  const platform = new LinuxPlatform({ netns: await lab.addNamespace('client') });
  try {
    const client = platform.netns!;
    const server = await lab.addNamespace('server');
    const pair = await lab.addVethPair({ clientNs: client, serverNs: server, clientName: 'eth0', serverAddress: '192.168.79.1/24' });
    await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.79.10', '192.168.79.20'] });
    const net = await Network.create(platform, { logger: silent });
    const imp = createImp(net);
    const eth = imp.net.open({ interface: 'eth0' });
    const deadline = Date.now() + 10_000;
    while (eth.getstate() !== NetState.CONNECTED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(eth.getstate(), NetState.CONNECTED);
    const a = eth.openudp(() => {}, 4321);
    assert.equal(a.localport, 4321);
    assert.throws(() => eth.openudp(() => {}, 4321), (e: unknown) => isNicupError(e, 'NICUP_PORT_IN_USE'));
    a.close();
    const b = eth.openudp(() => {}, 4321);
    b.close();
    eth.close();
    await net.close();
  } finally {
    await platform.dispose();
    await lab.dispose();
  }
});

test('a link created after the Network was made is seen without refresh() (watchLinks)', { timeout: 30_000 }, async () => {
  requireRoot();
  const lab = await createLab();
  const client = await lab.addNamespace('client');
  const platform = new LinuxPlatform({ netns: client });
  try {
    const net = await Network.create(platform, { logger: silent });
    assert.equal(net.resolve('eth7'), undefined);
    const server = await lab.addNamespace('server');
    await lab.addVethPair({ clientNs: client, serverNs: server, clientName: 'eth7' });
    const deadline = Date.now() + 5_000;
    while (!net.resolve('eth7') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(net.resolve('eth7')?.kind, 'ethernet');
    await net.close();
  } finally {
    await platform.dispose();
    await lab.dispose();
  }
});
