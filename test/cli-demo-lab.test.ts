/**
 * `nicup demo` on the real lab (root on Linux): namespaces, veth, dnsmasq, a socat echo.
 * Runs main() in-process and checks the show and that the lab leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { main } from '../src/cli/main.js';
import { requireRoot } from '../src/lab/netns-lab.js';

function labNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`nicup-${process.pid}-`));
  } catch {
    return [];
  }
}

test('nicup demo runs the real lab as root: DHCP, echoes, cable pull, teardown', { timeout: 60_000 }, async () => {
  requireRoot();
  let out = '';
  let err = '';
  const code = await main(['demo', '--json'], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { NICUP_PLATFORM: 'linux', NICUP_DEMO_NO_INSTALL: '1', PATH: process.env.PATH },
  });
  assert.equal(code, 0, `demo failed: ${err}`);
  assert.doesNotMatch(err, /cannot run here/, 'the demo fell back to the simulator');
  const records = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const states = records.filter((r) => r.type === 'state').map((r) => r.name);
  assert.deepEqual(states, [
    'STARTING',
    'ETHERNET_LINK_UP',
    'ETHERNET_DHCPING',
    'CONNECTED',
    'ETHERNET_STOPPED_NO_LINK',
    'ETHERNET_LINK_UP',
    'ETHERNET_DHCPING',
    'CONNECTED',
    'ETHERNET_STOPPED',
  ]);
  const summary = records.find((r) => r.type === 'summary');
  assert.ok(summary, 'no summary');
  assert.equal(summary.echoed, 4);
  assert.equal(summary.refusedWhileDown, 1);
  const table = records.find((r) => r.type === 'iptable') as { ipv4?: { address?: string } } | undefined;
  assert.match(JSON.stringify(table), /192\.168\.77\./);
  assert.deepEqual(labNamespaces(), [], 'the demo left namespaces behind');
});
