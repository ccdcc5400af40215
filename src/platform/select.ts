/**
 * Choosing the platform: programmatically, or with NICUP_PLATFORM=sim|linux for programs
 * that use the impOS facade unchanged (NICUP_SIM_SCENARIO picks the simulator's world).
 * Default: linux when running on Linux with the right to configure links (root, or
 * CAP_NET_ADMIN), else the simulator — and debug output says which and why.
 */
import { readFileSync } from 'node:fs';
import type { Platform } from './contract.js';
import { ArgumentError } from '../errors.js';
import type { Logger } from '../core/log.js';

export type PlatformName = 'sim' | 'linux';

export interface PlatformChoice {
  name: PlatformName;
  why: string;
}

const CAP_NET_ADMIN = 12;

/** True when this process may configure links (effective uid 0 or CAP_NET_ADMIN). */
export function canConfigureLinks(): boolean {
  if (process.platform !== 'linux') return false;
  if (process.geteuid?.() === 0) return true;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m ? (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_NET_ADMIN))) !== 0n : false;
  } catch {
    return false;
  }
}

export function choosePlatform(requested?: string, env: NodeJS.ProcessEnv = process.env): PlatformChoice {
  const want = requested ?? env.NICUP_PLATFORM;
  if (want !== undefined && want !== '') {
    if (want !== 'sim' && want !== 'linux') throw new ArgumentError(`platform: must be "sim" or "linux"`, { field: 'platform' });
    return { name: want, why: requested ? 'chosen by the program' : 'chosen by NICUP_PLATFORM' };
  }
  if (process.platform !== 'linux') return { name: 'sim', why: `not running on Linux (${process.platform})` };
  if (!canConfigureLinks()) return { name: 'sim', why: 'no right to configure links (not root, no CAP_NET_ADMIN)' };
  return { name: 'linux', why: 'Linux with the right to configure links' };
}

export interface CreatePlatformOptions {
  platform?: PlatformName | Platform;
  /** Simulator world by name (default NICUP_SIM_SCENARIO, else "default"). */
  scenario?: string;
  /** Simulator time: 'real' (default for programs) or 'virtual' (tests). */
  time?: 'real' | 'virtual';
  /** Linux: run in this named network namespace (/run/netns/NAME). */
  netns?: string;
  logger?: Logger;
}

export async function createPlatform(options: CreatePlatformOptions = {}): Promise<Platform> {
  if (typeof options.platform === 'object') return options.platform;
  const choice = choosePlatform(options.platform);
  options.logger?.debug(`platform: ${choice.name} (${choice.why})`);
  if (choice.name === 'sim') {
    const { createSimPlatform } = await import('./sim/index.js');
    return createSimPlatform({ scenario: options.scenario ?? process.env.NICUP_SIM_SCENARIO ?? 'default', time: options.time ?? 'real' });
  }
  const { LinuxPlatform } = await import('./linux/index.js');
  return new LinuxPlatform(options.netns ? { netns: options.netns } : {});
}
