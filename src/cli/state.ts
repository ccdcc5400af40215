/** `nicup state [IFACE]`: the interfaces nicup sees on the chosen platform. Opens nothing. */
import { InterfaceNotFoundError } from '../index.js';
import { EXIT_OK } from './cli-errors.js';
import { openNetwork, type Context } from './context.js';
import { printLinks, type LinkRow } from './format.js';

export async function runState(ctx: Context, ifname: string | undefined): Promise<number> {
  const opened = await openNetwork(ctx);
  try {
    const { network, platform } = opened;
    let links = network.interfaces;
    if (ifname !== undefined) {
      const link = network.resolve(ifname);
      if (!link) throw new InterfaceNotFoundError(`interface: "${ifname}" is not available on this ${platform.name} host`);
      links = [link];
    }
    const rows: LinkRow[] = [];
    for (const l of links) {
      const addresses = await platform.getAddresses(l.name).catch(() => []);
      rows.push({ ...l, addresses: addresses.map((a) => `${a.address}/${a.prefixLength}`) });
    }
    printLinks(ctx.out, rows);
    return EXIT_OK;
  } finally {
    await opened.dispose();
  }
}
