/**
 * nicup bring-up from a fresh process: node starts, loads nicup (compiled JS), creates a
 * LinuxPlatform in the client namespace and opens the interface with DHCP. The parent
 * times it from spawn() to the kernel having the address and default route, and then
 * kills this process. Prints "CONNECTED {main, imported, created, connected}" when it gets there:
 * milliseconds since the process's time origin at which main ran, nicup was loaded, the
 * Network existed, and the interface was CONNECTED.
 */
import { workerConfig } from './proto.js';

interface BringupConfig {
  netns: string;
  ifname: string;
}

async function main(): Promise<void> {
  const cfg = workerConfig<BringupConfig>();
  const main = performance.now();
  const { Network } = await import('../../src/index.js');
  const { LinuxPlatform } = await import('../../src/platform/linux/index.js');
  const imported = performance.now();
  const platform = new LinuxPlatform({ netns: cfg.netns });
  const net = await Network.create(platform, { logger: { debug: () => {}, error: (m) => process.stderr.write(`nicup: ${m}\n`) } });
  const created = performance.now();
  const iface = net.open({ interface: cfg.ifname });
  await iface.connected({ signal: AbortSignal.timeout(15_000) });
  const connected = performance.now();
  // performance.now() counts from the process's time origin (node start).
  process.stdout.write(`CONNECTED ${JSON.stringify({ main, imported, created, connected })}\n`);
  // Stay up (closing would take the address away) until the parent ends us.
  setInterval(() => {}, 1 << 30);
}

main().catch((e: unknown) => {
  process.stderr.write(`bringup-worker failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
