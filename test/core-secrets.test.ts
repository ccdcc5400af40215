/**
 * Secrets (WiFi key, SIM PIN, PPP and proxy passwords) never leave nicup's hands: not in
 * state changes, the diagnostics channel, debug logs, iface.nic, errors from bad NICs, nor
 * util.inspect of an interface. Each run connects for real on the simulator, so the
 * secrets were used, not just stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import diagnostics from 'node:diagnostics_channel';
import { NetState, createImp } from '../src/index.js';
import type { NetInterface, StateChange } from '../src/index.js';
import { closeAndCheck, recordingLogger, simNetwork, until, untilState } from './helpers/sim.js';

const WIFI_KEY = 'S3cret-Passphrase!';
const PIN = '86420975';
const PPP_PASSWORD = 'Ce11-Pa55word!';
const PROXY_PASSWORD = 'Pr0xy-Pa55word!';
const SECRETS = [WIFI_KEY, PIN, PPP_PASSWORD, PROXY_PASSWORD];

/** Fails naming the secret and where it was found (never printing the whole haystack). */
function assertNoSecret(where: string, text: string): void {
  for (const s of SECRETS) {
    const at = text.indexOf(s);
    assert.equal(at, -1, `${where} contains a secret (…${text.slice(Math.max(0, at - 60), at)}<secret>)`);
  }
}

const WIFI_NIC = { interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY } };
const CELL_NIC = { interface: 'cell0', cellconfig: { apn: 'internet', pin: PIN, username: 'mobile', password: PPP_PASSWORD } };
const ETH_NIC = {
  interface: 'eth0',
  staticconfig: { ip: '192.168.1.60', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1'] },
  proxyconfig: { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'user', password: PROXY_PASSWORD },
};

test('state changes, the diagnostics channel, debug logs, iface.nic and util.inspect carry no secret', async () => {
  const logger = recordingLogger();
  const published: unknown[] = [];
  const onPublish = (m: unknown) => void published.push(m);
  diagnostics.subscribe('nicup:state', onPublish);
  try {
    const { world, net } = await simNetwork('pin-required', { logger }, (w) => {
      w.accessPoint('Network')!.options.key = WIFI_KEY;
      w.modem('cell0').options.pin = PIN;
    });
    const changes: StateChange[] = [];
    const ifaces: NetInterface[] = [WIFI_NIC, CELL_NIC, ETH_NIC].map((nic) => {
      const iface = net.open(nic, (_s, c) => changes.push(c));
      iface.on('state', (c) => changes.push(c));
      return iface;
    });
    const iterated: StateChange[] = [];
    const loops = ifaces.map(async (i) => {
      for await (const c of i.changes()) iterated.push(c);
    });
    for (const i of ifaces) await untilState(world, i, NetState.CONNECTED, 60_000);

    // The secrets were really used: the AP took the key, the SIM the PIN.
    assert.equal(world.modem('cell0').unlocked, true);
    assert.equal(ifaces[0]!.ipTable()?.ipv4.address, '192.168.2.100');

    // A wrong-key episode and a re-open add their own lines and errors.
    world.accessPoint('Network')!.setUp(false);
    await world.run(3000);
    world.accessPoint('Network')!.setUp(true);
    await untilState(world, ifaces[0]!, NetState.CONNECTED, 60_000);
    const again = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY } });
    assert.equal(again.state, NetState.CONNECTED);

    for (const i of [...ifaces, again]) {
      assertNoSecret(`iface.nic of ${i.name}`, JSON.stringify(i.nic));
      assertNoSecret(`util.inspect of ${i.name}`, inspect(i));
      assertNoSecret(`util.inspect of ${i.name} (all depths, hidden too)`, inspect(i, { depth: Infinity, showHidden: true, getters: true }));
    }
    assert.deepEqual((ifaces[0]!.nic as { wificonfig: { key: unknown } }).wificonfig.key, { kind: 'passphrase', passphrase: '<redacted>' });
    assertNoSecret('getiptable', JSON.stringify(ifaces.map((i) => i.ipTable())));

    for (const i of [...ifaces, again]) await i.close();
    await Promise.all(loops);
    assert.ok(changes.length > 20 && iterated.length > 10, 'changes were collected');
    assertNoSecret('state changes', JSON.stringify(changes));
    assertNoSecret('iterated changes', JSON.stringify(iterated));
    assertNoSecret('the nicup:state channel', JSON.stringify(published));
    assert.ok(logger.lines.length > 50, 'the debug log was collected');
    assertNoSecret('the debug log', logger.lines.join('\n'));
    assert.ok(logger.lines.some((l) => l.includes('AT+CPIN=')), 'the PIN command was logged (redacted)');
    assert.ok(logger.lines.some((l) => /SET_NETWORK \d+ psk/.test(l)), 'the key command was logged (redacted)');
    assertNoSecret('the modem command record', world.modem('cell0').commands.join('\n'));
    await closeAndCheck(world, ...ifaces, again);
  } finally {
    diagnostics.unsubscribe('nicup:state', onPublish);
  }
});

test('the impOS facade: getiptable shows the proxy user, never its password; inspect of the wrapper carries no secret', async () => {
  const { world, net } = await simNetwork('no-dhcp');
  const imp = createImp(net);
  const eth = imp.net.open(ETH_NIC);
  await until(world, () => eth.getstate() === NetState.CONNECTED, 'connected');
  const table = eth.getiptable() as { ipv4: { proxy?: { user?: string } } };
  assert.equal(table.ipv4.proxy?.user, 'user');
  assertNoSecret('getiptable', JSON.stringify(table));
  assertNoSecret('util.inspect of the imp interface', inspect(eth, { depth: Infinity, showHidden: true }));
  eth.close();
  await closeAndCheck(world, eth.modern);
});

test('errors from bad NICs never carry the secret they refused', async () => {
  const { world, net } = await simNetwork('default', {}, (w) => (w.accessPoint('Network')!.options.key = WIFI_KEY));
  const live = net.open(WIFI_NIC);
  await untilState(world, live, NetState.CONNECTED, 60_000);

  const bad: [string, unknown][] = [
    ['a key with a control character', { interface: 'wl0', wificonfig: { ssid: 'Network', key: `${WIFI_KEY}\u0007` } }],
    ['a key too long', { interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY.repeat(4) } }],
    ['a key beside wps', { interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY, wps: true } }],
    ['a key with an unknown wificonfig field', { interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY, channel: 6 } }],
    ['a key on an Ethernet interface', { interface: 'eth0', wificonfig: { ssid: 'Network', key: WIFI_KEY } }],
    ['a key with no ssid', { interface: 'wl0', wificonfig: { key: WIFI_KEY } }],
    ['a different key on the live interface', { interface: 'wl0', wificonfig: { ssid: 'Network', key: `${WIFI_KEY}x` } }],
    ['a PIN that is not digits', { interface: 'cell0', cellconfig: { apn: 'internet', pin: `${PIN}x` } }],
    ['a PIN too long', { interface: 'cell0', cellconfig: { apn: 'internet', pin: `${PIN}0` } }],
    ['a PIN as a number', { interface: 'cell0', cellconfig: { apn: 'internet', pin: Number(PIN) } }],
    ['a PIN on WiFi', { interface: 'wl0', cellconfig: { apn: 'internet', pin: PIN } }],
    ['a PPP password with a control character', { interface: 'cell0', cellconfig: { apn: 'internet', username: 'u', password: `${PPP_PASSWORD}\n` } }],
    ['a proxy password too long', { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p.example', port: 1, username: 'u', password: PROXY_PASSWORD.repeat(3) } }],
    ['a proxy password without a username', { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p.example', port: 1, password: PROXY_PASSWORD } }],
    ['a proxy on cellular', { interface: 'cell0', proxyconfig: { type: 'HTTP', address: 'p.example', port: 1, username: 'u', password: PROXY_PASSWORD } }],
    ['a proxy on a busy interface', { interface: 'wl0', proxyconfig: { type: 'HTTP', address: 'p.example', port: 1, username: 'u', password: PROXY_PASSWORD } }],
  ];
  for (const [what, nic] of bad) {
    let caught: unknown;
    try {
      net.open(nic);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Error, `${what}: refused`);
    const e = caught as Error & { field?: string; code?: string };
    assert.ok(e.code?.startsWith('NICUP_'), `${what}: a nicup error (${e.code})`);
    assertNoSecret(`${what}: message`, e.message);
    assertNoSecret(`${what}: stack`, e.stack ?? '');
    assertNoSecret(`${what}: inspect`, inspect(e, { depth: Infinity, showHidden: true }));
    assertNoSecret(`${what}: JSON`, JSON.stringify({ ...e, message: e.message }));
  }
  assert.equal(live.state, NetState.CONNECTED, 'the refused opens left the live interface alone');
  await closeAndCheck(world, live);
});
