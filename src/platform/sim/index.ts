/**
 * The simulator: a Platform over a scriptable world, for app developers' tests and demos.
 * `import { createSimPlatform, SimWorld } from 'nicup/platform/sim'`.
 */
import { SimPlatform } from './platform.js';
import { SimWorld, type SimWorldOptions } from './world.js';
import { defaultWorld } from './scenarios.js';

export { SimPlatform } from './platform.js';
export { SimWorld, SimSegment, SimHost, SimAccessPoint, SimModem } from './world.js';
export type { SegmentOptions, AccessPointOptions, ModemOptions, SimWorldOptions, RegistrationMode, SimState } from './world.js';
export { SimDhcpServer, type SimDhcpServerOptions } from './dhcp-server.js';
export { scenarios, defaultWorld, type Scenario } from './scenarios.js';

export interface SimPlatformOptions extends SimWorldOptions {
  /** A world you built; default: the default world (with `scenario` applied). */
  world?: SimWorld;
  /** A named scenario (see scenarios.ts); default "default". */
  scenario?: string;
}

export function createSimPlatform(options: SimPlatformOptions = {}): SimPlatform {
  const world = options.world ?? defaultWorld(options.scenario ?? 'default', options);
  return new SimPlatform(world);
}
