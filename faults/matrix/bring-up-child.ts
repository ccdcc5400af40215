/**
 * nicup as its own process, for the "killed mid-bring-up" scenario: run it inside a lab
 * namespace with `ip netns exec NS node --import tsx bring-up-child.ts dhcp|static`; it
 * opens eth0 and prints one JSON line per state change ({"state":"ETHERNET_DHCPING",...})
 * until it is killed. It never closes anything: what it leaves is what a SIGKILL leaves.
 */
import { createNetwork } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';

const mode = process.argv[2];
const nic =
  mode === 'static'
    ? { interface: 'eth0', staticconfig: { ip: '192.168.77.5', netmask: '255.255.255.0', gateway: '192.168.77.1', dns: ['192.168.77.1'] } }
    : { interface: 'eth0' };

const net = await createNetwork({ platform: 'linux', logger: silentLogger });
net.open(nic, (_state, c) => {
  process.stdout.write(`${JSON.stringify({ state: c.name, reason: c.reason, atMs: performance.now() })}\n`);
});
process.stdout.write(`${JSON.stringify({ opened: true, pid: process.pid })}\n`);
