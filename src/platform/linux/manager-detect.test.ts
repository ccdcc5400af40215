import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyProcess, daemonLeavesLink, detectManager } from './manager-detect.js';

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

describe('detectManager over a /proc tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'nicup-fakeproc-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  // Network namespaces are told apart by inode: two files stand for two namespaces.
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

  test('a client in another namespace does not count', () => {
    assert.equal(detect('eth0', 7), undefined, 'udhcpc runs elsewhere; NetworkManager leaves index 7 alone');
  });
  test('NetworkManager is reported for a link it manages, or has no state for', () => {
    assert.equal(detect('eth1', 8), 'NetworkManager');
    assert.equal(detect('eth5', 9), 'NetworkManager');
  });
  test('a per-interface client in our namespace is found by name', () => {
    assert.equal(detect('eth2', 7), 'dhclient');
  });
});
