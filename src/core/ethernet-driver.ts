/**
 * Ethernet: STARTING (admin up) → STOPPED_NO_LINK while there is no carrier → LINK_UP on
 * carrier → DHCPING (skipped with staticconfig) → CONNECTED once the address and routes
 * are in place. Carrier loss → NO_LINK (addresses and routes removed so traffic fails
 * over; the lease is remembered for INIT-REBOOT). DHCP given up → UNHAPPY while our
 * client keeps retrying with back-off. Close → the session reports STOPPED after stop()
 * has undone everything we did, including the admin-up if the link was down before.
 */
import { NetState, Reason, type ReasonCode } from '../states.js';
import type { Driver, DriverContext } from './session.js';
import type { Disposable, LinkEvent } from '../platform/contract.js';
import { IpConfigurator, DEFAULT_ROUTE_METRIC } from './ip-configurator.js';
import { macToBytes } from './mac.js';

export function createEthernetDriver(ctx: DriverContext): Driver {
  return new EthernetDriver(ctx);
}

class EthernetDriver implements Driver {
  private watch: Disposable | undefined;
  private ip: IpConfigurator | undefined;
  private wasAdminUp: boolean | undefined;
  private carrier = false;
  private stopped = false;
  private readonly name: string;

  constructor(private readonly ctx: DriverContext) {
    this.name = ctx.link.name;
  }

  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    const { platform, sink, options } = this.ctx;
    try {
      if (!options.takeOver && platform.detectManager) {
        const manager = await platform.detectManager(this.name);
        if (manager) {
          sink.state(NetState.ETHERNET_STOPPED_UNHAPPY, Reason.MANAGED_ELSEWHERE, `${this.name} is managed by ${manager}; pass takeOver to let nicup run it`);
          return;
        }
      }
      if (this.stopped) return;
      this.watch = platform.watchLink(this.name, (e) => this.onLinkEvent(e));
      const link = await platform.getLink(this.name);
      if (!link) {
        sink.state(NetState.ETHERNET_STOPPED_NO_LINK, Reason.INTERFACE_GONE);
        return;
      }
      this.wasAdminUp = link.adminUp;
      if (!link.adminUp) await platform.setLinkUp(this.name, true);
      if (this.stopped) return;
      const now = await platform.getLink(this.name);
      this.setCarrier(now?.carrier ?? false);
    } catch (err) {
      sink.state(NetState.ETHERNET_STOPPED_UNHAPPY, Reason.CONFIG_FAILED, (err as Error).message);
    }
  }

  private onLinkEvent(e: LinkEvent): void {
    if (this.stopped) return;
    if (e.type === 'carrier') this.setCarrier(e.carrier);
    else if (e.type === 'removed') {
      this.setCarrier(false, Reason.INTERFACE_GONE);
    } else if (e.type === 'added') {
      // Re-created (a USB adapter plugged back in): bring it up again.
      this.wasAdminUp = e.link.adminUp;
      void this.ctx.platform
        .setLinkUp(this.name, true)
        .then(() => this.ctx.platform.getLink(this.name))
        .then((l) => this.setCarrier(l?.carrier ?? false))
        .catch((err: Error) => this.ctx.sink.state(NetState.ETHERNET_STOPPED_UNHAPPY, Reason.CONFIG_FAILED, err.message));
    } else if (e.type === 'admin' && !e.up) {
      // Someone set it down under us: put it back up (as networkd does for links it manages).
      void this.ctx.platform.setLinkUp(this.name, true).catch(() => {});
    }
  }

  private setCarrier(carrier: boolean, reason: ReasonCode = carrier ? Reason.CARRIER : Reason.NO_CARRIER): void {
    const { sink } = this.ctx;
    if (carrier === this.carrier && (carrier || this.ip === undefined)) {
      if (!carrier) sink.state(NetState.ETHERNET_STOPPED_NO_LINK, reason);
      return;
    }
    this.carrier = carrier;
    if (!carrier) {
      sink.state(NetState.ETHERNET_STOPPED_NO_LINK, reason);
      sink.ipv4(undefined);
      const ip = this.ip;
      if (ip) void ip.suspend().then(() => sink.log('link lost: addresses and routes removed'));
      return;
    }
    sink.state(NetState.ETHERNET_LINK_UP, Reason.CARRIER);
    this.ip ??= this.makeConfigurator();
    this.ip.start();
  }

  private makeConfigurator(): IpConfigurator {
    const { platform, nic, options, sink, link } = this.ctx;
    return new IpConfigurator(platform, this.name, macToBytes(link.mac), nic, options, options.routeMetric ?? DEFAULT_ROUTE_METRIC.ethernet, {
      acquiring: (reason, detail) => {
        if (this.carrier) sink.state(NetState.ETHERNET_DHCPING, reason, detail);
        sink.ipv4(undefined);
      },
      configured: (config, reason, detail) => {
        if (!this.carrier || this.stopped) return;
        sink.ipv4(config);
        sink.state(NetState.CONNECTED, reason, detail);
      },
      failing: (reason, detail) => {
        if (this.carrier) sink.state(NetState.ETHERNET_STOPPED_UNHAPPY, reason, detail);
      },
      log: (m) => sink.log(m),
    });
  }

  async setRouteMetric(metric: number): Promise<void> {
    await this.ip?.setMetric(metric);
  }

  retry(): void {
    if (this.stopped || !this.carrier) return;
    const ip = this.ip;
    if (!ip) return;
    void ip.suspend().then(() => {
      if (!this.stopped && this.carrier) ip.start();
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watch?.dispose();
    await this.ip?.stop();
    if (this.wasAdminUp === false) await this.ctx.platform.setLinkUp(this.name, false).catch(() => {});
  }
}
