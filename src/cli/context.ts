/**
 * The options every command takes (--platform, --scenario, --json, --verbose) and the
 * Network they lead to. The platform default follows choosePlatform (NICUP_PLATFORM, else
 * linux with the right to configure links, else the simulator).
 */
import { choosePlatform, createNetwork, createPlatform, type Logger, type Network, type Platform, type PlatformName } from '../index.js';
import type { SimWorld } from '../platform/sim/index.js';
import { CliFailure, UsageError } from './cli-errors.js';
import type { CliIo, Output } from './output.js';

export interface GlobalOptions {
  platform?: PlatformName;
  scenario?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface Context {
  io: CliIo;
  out: Output;
  global: GlobalOptions;
  /** NICUP_DEBUG=1: stacks on errors, library debug lines. */
  debug: boolean;
}

export interface OpenedNetwork {
  network: Network;
  platform: Platform;
  /** The simulated world, on the simulator. */
  world: SimWorld | undefined;
  /** Closes every interface, then the platform. Never rejects. */
  dispose(): Promise<void>;
}

/** The platform this command runs on, and why (for --verbose). */
export function resolvePlatform(ctx: Context): { name: PlatformName; why: string } {
  if (ctx.global.platform === undefined && ctx.io.simWorld !== undefined) return { name: 'sim', why: 'a simulated world was provided' };
  const choice = choosePlatform(ctx.global.platform, ctx.io.env);
  return choice.name === ctx.global.platform ? { name: choice.name, why: 'chosen with --platform' } : choice;
}

/** The scenario name (checked), for the simulator. */
export async function resolveScenario(ctx: Context, platform: PlatformName): Promise<string> {
  const requested = ctx.global.scenario;
  if (platform !== 'sim') {
    if (requested !== undefined) throw new UsageError('--scenario: applies to the simulator only (--platform sim)');
    return 'default';
  }
  // The simulator loads for simulator runs only.
  const { scenarios } = await import('../platform/sim/index.js');
  const name = requested ?? (ctx.io.env.NICUP_SIM_SCENARIO || 'default');
  if (!Object.hasOwn(scenarios, name)) {
    const from = requested !== undefined ? '--scenario' : 'NICUP_SIM_SCENARIO';
    throw new UsageError(`${from}: unknown scenario "${name}" (known: ${Object.keys(scenarios).join(', ')}; see "nicup scenarios")`);
  }
  return name;
}

export function makeLogger(ctx: Context): Logger {
  const on = ctx.global.verbose === true || ctx.debug;
  return {
    debug: (m) => {
      if (on) ctx.out.debug(`nicup: debug: ${m}`);
    },
    error: (m) => {
      if (on) ctx.out.debug(`nicup: debug: ERROR ${m}`);
    },
  };
}

/**
 * Creates the Network a command runs on. On the simulator: `time` real (watching states
 * feels live) unless a world was provided.
 */
export async function openNetwork(ctx: Context): Promise<OpenedNetwork> {
  const choice = resolvePlatform(ctx);
  const scenario = await resolveScenario(ctx, choice.name);
  const logger = makeLogger(ctx);
  if (ctx.global.verbose) {
    const where = choice.name === 'sim' ? (ctx.io.simWorld ? ', a provided world' : `, scenario "${scenario}", real time`) : '';
    ctx.out.debug(`nicup: platform ${choice.name}${where} (${choice.why})`);
  }
  let platform: Platform;
  let world: SimWorld | undefined;
  if (choice.name === 'sim') {
    const { createSimPlatform } = await import('../platform/sim/index.js');
    const sim = ctx.io.simWorld ? createSimPlatform({ world: ctx.io.simWorld }) : createSimPlatform({ scenario, time: 'real' });
    world = sim.world;
    platform = sim;
  } else {
    platform = await createLinuxPlatform(logger);
  }
  let network: Network;
  try {
    network = await createNetwork({ platform, logger });
  } catch (err) {
    await platform.dispose().catch(() => {});
    throw err;
  }
  let disposed: Promise<void> | undefined;
  return {
    network,
    platform,
    world,
    dispose: () =>
      (disposed ??= (async () => {
        await network.close().catch(() => {});
        await platform.dispose().catch(() => {});
      })()),
  };
}

async function createLinuxPlatform(logger: Logger): Promise<Platform> {
  try {
    return await createPlatform({ platform: 'linux', logger });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e?.code === 'ERR_MODULE_NOT_FOUND') {
      if (String(e.message).includes('platform/linux/index')) throw new CliFailure('the Linux platform is not part of this build yet; use --platform sim');
      throw new CliFailure(`the Linux platform could not be loaded: ${String(e.message)}`);
    }
    throw err;
  }
}
