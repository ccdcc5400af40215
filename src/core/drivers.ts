/**
 * The default driver for each kind of interface. Ethernet's loads with nicup; WiFi's and
 * cellular's (with the wpa and AT machines) only where such an interface exists, so a
 * program that drives Ethernet alone does not carry them in memory. Network.create loads
 * them for the links it finds (loadDrivers), so open() starts them at once as before; a
 * link that appears later (a modem named by its port, a dongle plugged in) has its driver
 * loaded by its first open().
 */
import type { InterfaceKind } from '../nic.js';
import type { Driver, DriverContext, DriverFactory } from './session.js';
import { NetState, Reason, type NetStateValue } from '../states.js';
import { createEthernetDriver } from './ethernet-driver.js';

/** A driver module loaded on first need (exported for its tests). */
export class DriverModule {
  private factory: DriverFactory | undefined;
  private loading: Promise<DriverFactory> | undefined;

  constructor(
    private readonly label: string,
    private readonly unhappy: NetStateValue,
    private readonly importFactory: () => Promise<DriverFactory>,
  ) {}

  /** Loads the module once (again after a failure). */
  load(): Promise<DriverFactory> {
    this.loading ??= this.importFactory().then(
      (factory) => (this.factory = factory),
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  /** The real driver when the module is in; else one that makes and starts it once loaded. */
  readonly create: DriverFactory = (ctx) => (this.factory ? this.factory(ctx) : this.deferred(ctx));

  /**
   * Until the real driver exists, retry() has nothing to retry and a new route metric is
   * already in ctx.options, where the real driver reads it. A module that fails to load is
   * the kind's failure state: drivers never throw.
   */
  private deferred(ctx: DriverContext): Driver {
    let driver: Driver | undefined;
    let stopped = false;
    let starting: Promise<void> | undefined;
    const fail = (what: string, err: unknown) => {
      if (!stopped) ctx.sink.state(this.unhappy, Reason.CONFIG_FAILED, `${what}: ${err instanceof Error ? err.message : String(err)}`);
    };
    return {
      start: () => {
        starting = this.load().then(
          (factory) => {
            if (stopped) return;
            try {
              driver = factory(ctx);
              driver.start();
            } catch (err) {
              fail(`the ${this.label} driver failed to start`, err);
            }
          },
          (err: unknown) => fail(`cannot load the ${this.label} driver`, err),
        );
      },
      stop: async () => {
        stopped = true;
        await starting;
        await driver?.stop();
      },
      retry: () => driver?.retry?.(),
      setRouteMetric: async (metric) => {
        await driver?.setRouteMetric?.(metric);
      },
    };
  }
}

const wifi = new DriverModule('WiFi', NetState.WIFI_STOPPED_UNHAPPY, async () => (await import('./wifi-driver.js')).createWifiDriver);
const cell = new DriverModule('cellular', NetState.CELLULAR_STOPPED_UNHAPPY, async () => (await import('./cell-driver.js')).createCellDriver);

export const defaultDrivers: Partial<Record<InterfaceKind, DriverFactory>> = {
  ethernet: createEthernetDriver,
  wifi: wifi.create,
  cell: cell.create,
};

/**
 * Loads the default drivers of the links' kinds now, but not the ones `drivers` replaces.
 * A failure is left for open() to report as a state.
 */
export async function loadDrivers(kinds: Iterable<string>, drivers: Partial<Record<InterfaceKind, DriverFactory>> = {}): Promise<void> {
  const wanted = new Set(kinds);
  const modules = [wanted.has('wifi') && !drivers.wifi ? wifi : undefined, wanted.has('cell') && !drivers.cell ? cell : undefined];
  await Promise.all(modules.map((m) => m?.load().catch(() => {})));
}
