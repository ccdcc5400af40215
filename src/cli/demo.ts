/**
 * `nicup demo`: picks the demo's path. The simulator in virtual time is the default
 * everywhere (it needs nothing and changes nothing). An explicit `--platform linux` (or
 * NICUP_PLATFORM=linux) asks for the real lab — network namespaces with a DHCP server and
 * an echo host, built as root — which arrives with the Linux Ethernet work; until then it
 * says so and runs the simulator.
 */
import type { Context } from './context.js';
import { resolveScenario } from './context.js';
import { runSimDemo } from './demo-sim.js';

export type DemoPath = 'sim' | 'linux-lab';

export function chooseDemoPath(ctx: Context): DemoPath {
  const requested = ctx.global.platform ?? (ctx.io.env.NICUP_PLATFORM || undefined);
  return requested === 'linux' ? 'linux-lab' : 'sim';
}

export async function runDemo(ctx: Context): Promise<number> {
  if (chooseDemoPath(ctx) === 'linux-lab') {
    const code = await runLinuxLabDemo(ctx);
    if (code !== undefined) return code;
  }
  if (ctx.global.verbose) ctx.out.debug('nicup: platform sim (the demo runs the simulator in virtual time)');
  // The fallback from the lab path still honours --scenario: it names a simulated world.
  return runSimDemo(ctx, resolveScenario(ctx, 'sim'));
}

/**
 * The real-lab demo. Returns its exit code, or undefined when it cannot run here (the
 * caller falls back to the simulator).
 */
async function runLinuxLabDemo(ctx: Context): Promise<number | undefined> {
  ctx.out.warn('the real-lab demo needs the Linux platform (coming); running the simulator demo instead');
  return undefined;
}
