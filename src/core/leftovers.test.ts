import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeftoverLedger, ledgerFor, processStartTime, type LeftoverRecord } from './leftovers.js';
import type { Ipv4Address, Ipv4Route } from '../platform/contract.js';
import { Network } from './network.js';
import { NetState } from '../states.js';
import { SimPlatform, defaultWorld } from '../platform/sim/index.js';
import { silentLogger } from './log.js';

const ADDR: Ipv4Address = { address: '192.168.77.5', prefixLength: 24 };
const ROUTE: Ipv4Route = { destination: '0.0.0.0', prefixLength: 0, gateway: '192.168.77.1', metric: 100, source: '192.168.77.5' };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nicup-leftovers-'));
}

/** A pid that has certainly exited: a child we ran and waited for. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(r.pid && r.pid > 0);
  return r.pid;
}

function ownInode(): number {
  return statSync('/proc/thread-self/ns/net').ino;
}

function recordOf(pid: number, startTime: string, ifname = 'eth0', extra: Partial<LeftoverRecord> = {}): LeftoverRecord {
  return { version: 1, pid, startTime, netns: ownInode(), ifname, addresses: [ADDR], routes: [ROUTE], ...extra };
}

function fakePlatform() {
  const removed: string[] = [];
  return {
    removed,
    removeAddress: async (ifname: string, a: Ipv4Address) => void removed.push(`${ifname} addr ${a.address}/${a.prefixLength}`),
    removeRoute: async (ifname: string, r: Ipv4Route) => void removed.push(`${ifname} route ${r.destination}/${r.prefixLength} via ${r.gateway} metric ${r.metric}`),
  };
}

describe('LeftoverLedger', () => {
  test('records before adding, forgets after removing, and the file goes with the last entry', () => {
    const dir = tempDir();
    try {
      const ledger = LeftoverLedger.open('eth0', { dir });
      assert.ok(ledger);
      assert.equal(ledger.file, join(dir, `${ownInode()}-eth0-${process.pid}.json`));
      ledger.addingAddress({ ...ADDR, validLifetimeS: 60 });
      ledger.addingRoute(ROUTE);
      ledger.addingAddress(ADDR); // a renewal: same entry
      const rec = JSON.parse(readFileSync(ledger.file, 'utf8')) as LeftoverRecord;
      assert.deepEqual(rec, { version: 1, pid: process.pid, startTime: processStartTime(process.pid), netns: ownInode(), ifname: 'eth0', addresses: [ADDR], routes: [ROUTE] });
      assert.equal(statSync(ledger.file).mode & 0o777, 0o600, 'the ledger is private');
      assert.equal(statSync(dir).mode & 0o777, 0o700, 'so is its directory');
      ledger.removedRoute(ROUTE);
      assert.equal((JSON.parse(readFileSync(ledger.file, 'utf8')) as LeftoverRecord).routes.length, 0);
      ledger.removedAddress(ADDR);
      assert.equal(existsSync(ledger.file), false);
      assert.deepEqual(readdirSync(dir), [], 'no temporary file either');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reclaim removes what a dead process recorded (routes first), and its file', async () => {
    const dir = tempDir();
    try {
      const pid = deadPid();
      const file = join(dir, `${ownInode()}-eth0-${pid}.json`);
      writeFileSync(file, JSON.stringify(recordOf(pid, '12345')));
      const p = fakePlatform();
      const r = await LeftoverLedger.open('eth0', { dir })!.reclaim(p);
      assert.deepEqual(p.removed, ['eth0 route 0.0.0.0/0 via 192.168.77.1 metric 100', 'eth0 addr 192.168.77.5/24']);
      assert.equal(r.files, 1);
      assert.deepEqual(r.addresses, [ADDR]);
      assert.equal(existsSync(file), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a reused pid (same pid, another start time) counts as dead; a live writer and other links are left alone', async () => {
    const dir = tempDir();
    try {
      const me = processStartTime(process.pid)!;
      const reused = join(dir, `${ownInode()}-eth0-${process.pid}.json`);
      const live = join(dir, `${ownInode()}-eth0-${process.ppid}.json`);
      const otherLink = join(dir, `${ownInode()}-eth1-99999999.json`);
      const otherNs = join(dir, `1-eth0-99999999.json`);
      writeFileSync(reused, JSON.stringify(recordOf(process.pid, `${me}0`)));
      writeFileSync(live, JSON.stringify(recordOf(process.ppid, processStartTime(process.ppid)!)));
      writeFileSync(otherLink, JSON.stringify(recordOf(99999999, '1', 'eth1')));
      writeFileSync(otherNs, JSON.stringify({ ...recordOf(99999999, '1'), netns: 1 }));
      // The file this very process would write is never reclaimed by it, whatever it says.
      const p = fakePlatform();
      const ledger = LeftoverLedger.open('eth0', { dir })!;
      assert.equal(ledger.file, reused, 'the test file sits where this process would write');
      const r = await ledger.reclaim(p);
      // Its own file name is skipped even with a foreign start time: only a new process reclaims it.
      assert.equal(r.files, 0);
      assert.deepEqual(p.removed, []);
      assert.ok(existsSync(live) && existsSync(otherLink) && existsSync(otherNs));

      rmSync(reused);
      writeFileSync(join(dir, `${ownInode()}-eth0-4194999.json`), JSON.stringify(recordOf(4194999, `${me}0`)));
      const r2 = await ledger.reclaim(p);
      assert.equal(r2.files, 1, 'a pid that no longer runs');
      assert.ok(existsSync(live), 'the live writer keeps its file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file that is not a ledger is dropped without touching the link', async () => {
    const dir = tempDir();
    try {
      const bad = [
        'not json',
        JSON.stringify({ ...recordOf(4194999, '1'), addresses: [{ address: '192.168.77.5; reboot', prefixLength: 24 }] }),
        JSON.stringify({ ...recordOf(4194999, '1'), routes: [{ destination: '0.0.0.0', prefixLength: 99 }] }),
        JSON.stringify({ ...recordOf(4194999, '1'), version: 2 }),
      ];
      bad.forEach((text, i) => writeFileSync(join(dir, `${ownInode()}-eth0-${4194990 + i}.json`), text));
      const p = fakePlatform();
      const r = await LeftoverLedger.open('eth0', { dir })!.reclaim(p);
      assert.equal(r.files, 0);
      assert.deepEqual(p.removed, []);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a removal that fails keeps the file for the next open', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, `${ownInode()}-eth0-4194999.json`);
      writeFileSync(file, JSON.stringify(recordOf(4194999, '1')));
      const logs: string[] = [];
      const failing = { removeAddress: async () => Promise.reject(new Error('EPERM')), removeRoute: async () => {} };
      await LeftoverLedger.open('eth0', { dir, log: (m) => logs.push(m) })!.reclaim(failing);
      assert.ok(existsSync(file));
      assert.match(logs.join('\n'), /remove address 192\.168\.77\.5\/24 of dead pid 4194999: EPERM/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unwritable directory turns the ledger off with one log line, never an exception', () => {
    const dir = tempDir();
    try {
      const blocker = join(dir, 'file');
      writeFileSync(blocker, '');
      const logs: string[] = [];
      const ledger = LeftoverLedger.open('eth0', { dir: join(blocker, 'sub'), log: (m) => logs.push(m) })!;
      ledger.addingAddress(ADDR);
      ledger.addingRoute(ROUTE);
      assert.equal(logs.length, 1);
      assert.match(logs[0]!, /cannot keep .* \(ENOTDIR\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('only the Linux platform keeps a ledger', () => {
    assert.equal(ledgerFor(new SimPlatform(defaultWorld()), 'eth0', () => {}), undefined);
  });
});

describe('IpConfigurator keeps the ledger (a Linux-named simulator)', () => {
  /** The simulator under the name "linux": the configurator then keeps a ledger. */
  function linuxNamed(sim: SimPlatform): SimPlatform {
    return Object.create(sim, { name: { value: 'linux' } }) as SimPlatform;
  }

  test('what is on the link is on the ledger; close empties it; the next open removes a dead process\'s leftovers', async () => {
    const dir = tempDir();
    const saved = process.env.NICUP_LEFTOVERS_DIR;
    process.env.NICUP_LEFTOVERS_DIR = dir;
    try {
      const world = defaultWorld();
      const platform = linuxNamed(new SimPlatform(world));
      const net = await Network.create(platform, { logger: silentLogger });
      const nic = { interface: 'eth0', staticconfig: { ip: '192.168.1.5', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1'] } };
      const eth = net.open(nic);
      assert.ok(await world.runUntil(() => eth.state === NetState.CONNECTED));
      const mine = join(dir, `${ownInode()}-eth0-${process.pid}.json`);
      const rec = JSON.parse(readFileSync(mine, 'utf8')) as LeftoverRecord;
      assert.deepEqual(rec.addresses, [{ address: '192.168.1.5', prefixLength: 24 }]);
      assert.deepEqual(rec.routes, [{ destination: '0.0.0.0', prefixLength: 0, gateway: '192.168.1.1', metric: 100, source: '192.168.1.5' }]);
      await eth.close();
      assert.equal(existsSync(mine), false, 'close took everything off the ledger');

      // A "killed" nicup left 192.168.1.9 and its default route (metric 100) on eth0.
      await platform.addAddress('eth0', { address: '192.168.1.9', prefixLength: 24 });
      const leftRoute = { destination: '0.0.0.0', prefixLength: 0, gateway: '192.168.1.1', metric: 100, source: '192.168.1.9' };
      await platform.addRoute('eth0', leftRoute);
      const dead = deadPid();
      writeFileSync(join(dir, `${ownInode()}-eth0-${dead}.json`), JSON.stringify(recordOf(dead, '1', 'eth0', { addresses: [{ address: '192.168.1.9', prefixLength: 24 }], routes: [leftRoute] })));
      const again = net.open(nic);
      assert.ok(await world.runUntil(() => again.state === NetState.CONNECTED));
      assert.deepEqual(world.addresses('eth0').map((a) => a.address), ['192.168.1.5'], 'the leftover address is gone');
      const defaults = world.routes('eth0').filter((r) => r.prefixLength === 0);
      assert.deepEqual(defaults.map((r) => [r.source, r.metric]), [['192.168.1.5', 100]], 'one default route, at the usual metric');
      await again.close();
      await net.close();
      assert.deepEqual(readdirSync(dir), []);
      assert.deepEqual(world.addresses('eth0'), []);
    } finally {
      if (saved === undefined) delete process.env.NICUP_LEFTOVERS_DIR;
      else process.env.NICUP_LEFTOVERS_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
