/**
 * The opt-in DNS hand-off (driver option dnsHandoff) on the real lab: the servers from
 * the lease go to resolvconf as the interface's own record, and the record is deleted on
 * close. resolvconf is stood in for by a script on PATH that records what it was given,
 * so the host's resolver is never touched. Without the option nothing is run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Network } from '../src/index.js';
import { LinuxPlatform } from '../src/platform/linux/index.js';
import { createLab, requireRoot } from '../src/lab/netns-lab.js';
import { silent } from './helpers/sim.js';

async function run(dnsHandoff: 'resolvconf' | undefined): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-dns-'));
  const record = join(dir, 'calls');
    // resolvconf reads the record from stdin only with -a.
  writeFileSync(join(dir, 'resolvconf'), `#!/bin/sh\nprintf '%s\\n' "ARGS $*" >> '${record}'\n[ "$1" = -a ] && cat >> '${record}'\nexit 0\n`);
  chmodSync(join(dir, 'resolvconf'), 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  const lab = await createLab();
  const platform = new LinuxPlatform({ netns: await lab.addNamespace('client') });
  try {
    const server = await lab.addNamespace('server');
    const pair = await lab.addVethPair({ clientNs: platform.netns!, serverNs: server, clientName: 'eth0', serverAddress: '192.168.76.1/24' });
    await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.76.10', '192.168.76.20'], extraArgs: ['--dhcp-option=6,192.168.76.53', '--domain=lab.example'] });
    const net = await Network.create(platform, { logger: silent });
    const eth = net.open({ interface: 'eth0' }, dnsHandoff ? { driver: { dnsHandoff } } : {});
    const table = await eth.connected({ signal: AbortSignal.timeout(10_000) });
    assert.deepEqual(table.ipv4.dnsserver, ['192.168.76.53']);
    await eth.close();
    await net.close();
    return existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : [];
  } finally {
    process.env.PATH = oldPath;
    await platform.dispose();
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('dnsHandoff: resolvconf gets the lease servers as eth0.nicup, deleted on close', { timeout: 30_000 }, async () => {
  requireRoot();
  const calls = await run('resolvconf');
  assert.deepEqual(calls, ['ARGS -a eth0.nicup', 'search lab.example', 'nameserver 192.168.76.53', 'ARGS -d eth0.nicup']);
});

test('without dnsHandoff nothing is handed to the system resolver', { timeout: 30_000 }, async () => {
  requireRoot();
  assert.deepEqual(await run(undefined), []);
});
