/**
 * 'nicup/imp': the impOS facade with a ready-made `imp` on the default platform
 * (NICUP_PLATFORM=sim|linux, NICUP_SIM_SCENARIO; see choosePlatform). Importing this
 * module creates that platform; import createImp from 'nicup' to build your own.
 */
import { createImp, type Imp } from './imp-core.js';
import { createNetwork, type CreateNetworkOptions } from './index.js';

export * from './imp-core.js';

/** Creates an `imp` on the default platform (or the options' one). */
export async function createDefaultImp(options: CreateNetworkOptions = {}): Promise<Imp> {
  return createImp(await createNetwork(options));
}

/** The default `imp`. */
export const imp: Imp = await createDefaultImp();
