// Smoke (e): node runs in the guest from the host's /usr, and the project's native add-ons load
// from the shared (read-only) node_modules: koffi calls libc, netlink talks rtnetlink and nl80211.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetState } from '../../../../src/states.js';

const name = 'node';
const started = performance.now();
function fail(detail: string): never {
  console.log(`LAB-FAIL: ${name}: ${detail}`);
  process.exit(1);
}

try {
  // Project sources load too, and this file still knows where it lives (run.ts bundles it).
  if (typeof NetState !== 'object') fail('src/states.ts did not load');
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('/test/lab/vm/smoke/node.ts')) fail(`import.meta.url is ${self}, want this .ts file`);

  const koffi = (await import('koffi')).default;
  const libc = koffi.load('libc.so.6');
  const getpid = libc.func('int getpid()') as () => number;
  if (getpid() !== process.pid) fail(`koffi getpid() = ${getpid()}, process.pid = ${process.pid}`);

  const netlink = await import('netlink');
  const rt = netlink.createRtNetlink();
  const links = await rt.getLinks();
  rt.socket.close();
  if (!links.some((l) => l.attrs.ifname === 'lo')) fail(`rtnetlink getLinks() has no lo: ${links.map((l) => l.attrs.ifname).join(',')}`);

  execFileSync('modprobe', ['mac80211_hwsim', 'radios=1']);
  const nl = await netlink.createNl80211();
  const wifi = await nl.getInterfaces();
  nl.socket.socket.close();
  // hwsim also makes a P2P-device wdev per radio, which has no netdev (no ifname).
  const netdevs = [...wifi.values()].filter((m) => m.ifname !== undefined).map((m) => m.ifname);
  if (netdevs.length !== 1) fail(`nl80211 getInterfaces() found netdevs [${netdevs.join(',')}], want 1 (hwsim radios=1)`);
} catch (error) {
  fail(error instanceof Error ? `${error.message}`.replace(/\n/g, ' ') : String(error));
}
console.log(`lab: node ${process.version}: koffi + netlink (rtnetlink, nl80211) in ${Math.round(performance.now() - started)} ms`);
console.log(`LAB-PASS: ${name}`);
