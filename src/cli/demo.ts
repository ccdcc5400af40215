/**
 * `nicup demo`: picks the demo's path by the platform choice (--platform, NICUP_PLATFORM,
 * else linux as root or with CAP_NET_ADMIN). On linux: the real lab — network namespaces
 * with a DHCP server and an echo peer (demo-lab.ts). Wherever the lab cannot run it says
 * why and runs the simulator in virtual time.
 */
import type { Context } from './context.js';
import { resolvePlatform, resolveScenario } from './context.js';

export type DemoPath = 'sim' | 'linux-lab';

export function chooseDemoPath(ctx: Context): DemoPath {
  return resolvePlatform(ctx).name === 'linux' ? 'linux-lab' : 'sim';
}

export async function runDemo(ctx: Context): Promise<number> {
  if (chooseDemoPath(ctx) === 'linux-lab') {
    const code = await runLinuxLabDemo(ctx);
    if (code !== undefined) return code;
  }
  if (ctx.global.verbose) ctx.out.debug('nicup: platform sim (the demo runs the simulator in virtual time)');
  // The fallback from the lab path still honours --scenario: it names a simulated world.
  const scenario = await resolveScenario(ctx, 'sim');
  const { runSimDemo } = await import('./demo-sim.js');
  return runSimDemo(ctx, scenario);
}

/**
 * The real-lab demo. Returns its exit code, or undefined when it cannot run here (the
 * caller falls back to the simulator).
 */
async function runLinuxLabDemo(ctx: Context): Promise<number | undefined> {
  // Loaded only here: the lab and the Linux platform load native modules.
  const { labUnavailable, runLabDemo } = await import('./demo-lab.js');
  const why = labUnavailable(ctx);
  if (why) {
    ctx.out.warn(`the real-lab demo cannot run here: ${why}; running the simulator demo instead`);
    return undefined;
  }
  return runLabDemo(ctx);
}
