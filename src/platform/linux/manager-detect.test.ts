import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { classifyProcess, daemonLeavesLink, detectManager, ManagerDetector, procFs, type ProcReader } from './manager-detect.js';

const proc = (...argv: string[]) => ({ pid: 1, argv, comm: argv[0]?.split('/').pop()?.slice(0, 15) ?? '' });

describe('classifyProcess', () => {
  test('udhcpc: -i IF, -iIF, --interface=IF; eth0 when no -i (busybox default)', () => {
    assert.equal(classifyProcess(proc('/usr/sbin/udhcpc', '-f', '-i', 'eth0', '-s', '/bin/true'), 'eth0'), 'udhcpc');
    assert.equal(classifyProcess(proc('udhcpc', '-ieth1'), 'eth1'), 'udhcpc');
    assert.equal(classifyProcess(proc('udhcpc', '--interface=wlan0'), 'wlan0'), 'udhcpc');
    assert.equal(classifyProcess(proc('udhcpc', '-i', 'eth1'), 'eth0'), undefined);
    assert.equal(classifyProcess(proc('udhcpc', '-f'), 'eth0'), 'udhcpc');
    assert.equal(classifyProcess(proc('busybox', 'udhcpc', '-i', 'eth0'), 'eth0'), 'udhcpc');
  });

  test('dhclient and dhcpcd: named interfaces, or all interfaces when none is named', () => {
    assert.equal(classifyProcess(proc('/sbin/dhclient', '-4', '-v', '-pf', '/run/dhclient.eth0.pid', '-lf', '/var/lib/dhcp/x.leases', 'eth0'), 'eth0'), 'dhclient');
    assert.equal(classifyProcess(proc('/sbin/dhclient', '-pf', 'eth0', 'eth1'), 'eth0'), undefined, 'eth0 was a -pf value');
    assert.equal(classifyProcess(proc('/sbin/dhclient'), 'eth3'), 'dhclient');
    assert.equal(classifyProcess(proc('dhcpcd', '-q', '-b'), 'wlan0'), 'dhcpcd', 'manager mode');
    assert.equal(classifyProcess(proc('dhcpcd', '-f', '/etc/dhcpcd.conf', 'eth1'), 'eth0'), undefined);
    assert.equal(classifyProcess(proc('dhcpcd', '-h', 'myhost', 'eth0'), 'eth0'), 'dhcpcd');
  });

  test('global daemons need their per-link state checked; connman honours its device lists', () => {
    assert.equal(classifyProcess(proc('/usr/sbin/NetworkManager', '--no-daemon'), 'eth0'), 'daemon:NetworkManager');
    assert.equal(classifyProcess({ pid: 1, argv: ['/lib/systemd/systemd-networkd'], comm: 'systemd-network' }, 'eth0'), 'daemon:systemd-networkd');
    assert.equal(classifyProcess(proc('connmand', '-n'), 'eth0'), 'connman');
    assert.equal(classifyProcess(proc('connmand', '-n', '-I', 'eth0,usb0'), 'eth0'), undefined);
    assert.equal(classifyProcess(proc('connmand', '--device=wlan0'), 'eth0'), undefined);
    assert.equal(classifyProcess(proc('connmand', '--device=wlan0,eth0'), 'eth0'), 'connman');
    assert.equal(classifyProcess(proc('/usr/bin/node', 'server.js', 'eth0'), 'eth0'), undefined);
  });

  test('daemon state files', () => {
    assert.equal(daemonLeavesLink('NetworkManager', '[device]\nmanaged=false\nperm-hw-addr-fake=\n'), true);
    assert.equal(daemonLeavesLink('NetworkManager', '[device]\nmanaged=true\n'), false);
    assert.equal(daemonLeavesLink('NetworkManager', undefined), false, 'no state: assume managed');
    assert.equal(daemonLeavesLink('systemd-networkd', '# This is private data.\nADMIN_STATE=unmanaged\nOPER_STATE=off\n'), true);
    assert.equal(daemonLeavesLink('systemd-networkd', 'ADMIN_STATE=configured\n'), false);
  });
});

/** A fake /proc in a temporary directory; network namespaces are told apart by inode: two files stand for two. */
function fakeProc() {
  const root = mkdtempSync(join(tmpdir(), 'nicup-fakeproc-'));
  writeFileSync(join(root, 'ours'), '');
  writeFileSync(join(root, 'theirs'), '');
  const ours = statSync(join(root, 'ours')).ino;
  function addProcess(pid: number, argv: string[], ns: 'ours' | 'theirs', files: Record<string, string> = {}) {
    const dir = join(root, String(pid));
    mkdirSync(join(dir, 'ns'), { recursive: true });
    writeFileSync(join(dir, 'cmdline'), `${argv.join('\0')}\0`);
    writeFileSync(join(dir, 'comm'), `${(argv[0] ?? '').split('/').pop()!.slice(0, 15)}\n`);
    linkSync(join(root, ns), join(dir, 'ns', 'net'));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, 'root', path, '..'), { recursive: true });
      writeFileSync(join(dir, 'root', path), content);
    }
  }
  const removeProcess = (pid: number) => rmSync(join(root, String(pid)), { recursive: true, force: true });
  return { root, ours, addProcess, removeProcess, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

describe('detectManager over a /proc tree', () => {
  const { root, ours, addProcess, dispose } = fakeProc();
  after(dispose);
  addProcess(100, ['udhcpc', '-i', 'eth0'], 'theirs');
  addProcess(101, ['/usr/sbin/NetworkManager'], 'ours', {
    'run/NetworkManager/devices/7': '[device]\nmanaged=false\n',
    'run/NetworkManager/devices/8': '[device]\nmanaged=true\n',
  });
  addProcess(102, ['dhclient', 'eth2'], 'ours');
  mkdirSync(join(root, '103')); // a process that vanished half-way
  addProcess(104, [''], 'ours'); // a kernel thread: empty cmdline
  writeFileSync(join(root, '104', 'cmdline'), '');

  const detect = (ifname: string, ifindex: number) => detectManager({ ifname, ifindex, netnsInode: ours, procRoot: root, selfPid: 1 });

  test('a client in another namespace does not count', async () => {
    assert.equal(await detect('eth0', 7), undefined, 'udhcpc runs elsewhere; NetworkManager leaves index 7 alone');
  });
  test('NetworkManager is reported for a link it manages, or has no state for', async () => {
    assert.equal(await detect('eth1', 8), 'NetworkManager');
    assert.equal(await detect('eth5', 9), 'NetworkManager');
  });
  test('a per-interface client in our namespace is found by name', async () => {
    assert.equal(await detect('eth2', 7), 'dhclient');
  });
});

describe('ManagerDetector: one /proc scan answers a batch of calls', () => {
  /** A detector over a fresh fake /proc whose reader counts the scans (listings of the /proc root). */
  function rig(scanMaxAgeMs?: number) {
    const proc = fakeProc();
    const clock = new VirtualClock();
    let scans = 0;
    const reader: ProcReader = {
      ...procFs,
      list: (path) => {
        if (path === proc.root) scans++;
        return procFs.list(path);
      },
    };
    const detector = new ManagerDetector({ reader, clock, ...(scanMaxAgeMs === undefined ? {} : { scanMaxAgeMs }) });
    const detect = (ifname: string, ifindex = 7) => detector.detect({ ifname, ifindex, netnsInode: proc.ours, procRoot: proc.root, selfPid: 1 });
    return { ...proc, clock, detect, scans: () => scans };
  }

  test('64 calls at once and more within the window do one scan, with the answers of fresh scans; a new scan after it', async (t) => {
    const r = rig();
    t.after(r.dispose);
    r.addProcess(200, ['udhcpc', '-i', 'eth3'], 'ours');
    r.addProcess(201, ['/usr/sbin/NetworkManager'], 'ours', { 'run/NetworkManager/devices/7': '[device]\nmanaged=false\n' });
    r.addProcess(202, ['dhclient', 'eth0'], 'theirs');
    const names = Array.from({ length: 64 }, (_, i) => `eth${i}`);
    const everyCallScans = new ManagerDetector({ scanMaxAgeMs: 0 });
    const fresh = (n: string) => everyCallScans.detect({ ifname: n, ifindex: 7, netnsInode: r.ours, procRoot: r.root, selfPid: 1 });
    assert.equal(await fresh('eth3'), 'udhcpc');
    assert.equal(await fresh('eth0'), undefined, 'dhclient runs in another namespace; NetworkManager leaves index 7 alone');

    const batch = await Promise.all(names.map((n) => r.detect(n)));
    assert.deepEqual(batch, names.map((n) => (n === 'eth3' ? 'udhcpc' : undefined)));
    assert.equal(r.scans(), 1, '64 concurrent calls share one scan');
    r.clock.advance(999);
    assert.equal(await r.detect('eth3'), 'udhcpc');
    assert.equal(await r.detect('eth8', 8), 'NetworkManager', 'the per-link state is read per call');
    assert.equal(r.scans(), 1, 'still within the 1000 ms window');

    r.addProcess(203, ['udhcpc', '-i', 'eth0'], 'ours');
    assert.equal(await r.detect('eth0'), undefined, 'a process started after the scan is not seen within the window');
    r.clock.advance(1);
    assert.equal(await r.detect('eth0'), 'udhcpc', 'after the window a new scan sees it');
    assert.equal(r.scans(), 2);
  });

  test('a process that exited (or whose pid was reused) since the scan is not reported', async (t) => {
    const r = rig();
    t.after(r.dispose);
    r.addProcess(300, ['udhcpc', '-i', 'eth0'], 'ours');
    r.addProcess(301, ['dhclient', 'eth1'], 'ours');
    assert.equal(await r.detect('eth0'), 'udhcpc');
    assert.equal(await r.detect('eth1'), 'dhclient');
    r.removeProcess(300);
    r.removeProcess(301);
    r.addProcess(301, ['sleep', '60'], 'ours');
    assert.equal(await r.detect('eth0'), undefined);
    assert.equal(await r.detect('eth1'), undefined);
    assert.equal(r.scans(), 1, 'answered from the one scan');
  });

  test('scanMaxAgeMs 0 scans on every call; a failed scan is not kept', async (t) => {
    const r = rig(0);
    t.after(r.dispose);
    await r.detect('eth0');
    await r.detect('eth0');
    assert.equal(r.scans(), 2);

    let fail = true;
    const flaky = new ManagerDetector({
      clock: r.clock,
      reader: { ...procFs, list: (path) => (fail ? Promise.reject(new Error('EACCES')) : procFs.list(path)) },
    });
    const o = { ifname: 'eth0', ifindex: 7, netnsInode: r.ours, procRoot: r.root, selfPid: 1 };
    await assert.rejects(flaky.detect(o), /EACCES/);
    fail = false;
    r.addProcess(400, ['udhcpc', '-i', 'eth0'], 'ours');
    assert.equal(await flaky.detect(o), 'udhcpc', 'the next call scans again, in the same window');
  });
});
