/**
 * Puts IPv4 on a link that is up: staticconfig, or a lease from our DHCP client. Applies
 * the address, the subnet route (the kernel's, with the address) and the default route,
 * and remembers exactly what it added so that `suspend` (link lost) and `stop` (close)
 * remove exactly that — nothing more. Shared by the Ethernet and WiFi drivers, which map
 * its phases to their own states. On Linux it also keeps a ledger of what it added
 * (leftovers.ts), so that a nicup killed before it could undo is cleaned up after: the
 * first thing a configurator does is remove what a dead process recorded for the link.
 */
import type { Ipv4Address, Ipv4Route, Platform } from '../platform/contract.js';
import type { Nic } from '../nic.js';
import { Reason, type ReasonCode } from '../states.js';
import type { Ipv4Config } from './types.js';
import type { DriverOptions } from './session.js';
import { Dhcp4Driver } from './dhcp4-driver.js';
import type { Lease } from '../protocols/dhcp4/index.js';
import { broadcastOf, prefixToNetmask } from './ipv4.js';
import { isNicupError } from '../errors.js';
import { ledgerFor, type LeftoverLedger } from './leftovers.js';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../protocols/arp/index.js';

export interface IpConfiguratorEvents {
  /** DHCP has started (or restarted after a NAK or an expiry). */
  acquiring(reason: ReasonCode, detail?: string): void;
  /** Address and routes are in place. */
  configured(config: Ipv4Config, reason: ReasonCode, detail?: string): void;
  /** Configuration failed for now; the configurator keeps trying. */
  failing(reason: ReasonCode, detail?: string): void;
  log(message: string): void;
}

/** NetworkManager's defaults: wired 100, WiFi 600, mobile broadband 700. */
export const DEFAULT_ROUTE_METRIC = { ethernet: 100, wifi: 600, cell: 700, other: 1000 } as const;

export class IpConfigurator {
  private dhcp: Dhcp4Driver | undefined;
  private addresses: Ipv4Address[] = [];
  private routes: Ipv4Route[] = [];
  private lastLease: Lease | undefined;
  private active = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly ledger: LeftoverLedger | undefined;
  config: Ipv4Config | undefined;

  constructor(
    private readonly platform: Platform,
    private readonly ifname: string,
    private readonly mac: Uint8Array,
    private readonly nic: Nic,
    private readonly options: DriverOptions,
    private metric: number,
    private readonly events: IpConfiguratorEvents,
  ) {
    this.ledger = ledgerFor(platform, ifname, (m) => events.log(m));
    const ledger = this.ledger;
    if (ledger) {
      // Before anything of ours goes on the link: take off what a killed nicup left there.
      void this.serial(async () => {
        const r = await ledger.reclaim(platform);
        if (r.files > 0) events.log(`leftovers of a dead nicup removed: ${r.addresses.map((a) => `${a.address}/${a.prefixLength}`).join(', ') || 'no address'}; ${r.routes.length} route(s)`);
      });
    }
  }

  /** Runs kernel changes one at a time, in order. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  /** The link is up: configure it. */
  start(): void {
    this.active = true;
    const s = this.nic.staticconfig;
    if (s) {
      void this.serial(async () => {
        if (!this.active) return;
        try {
          const cfg: Ipv4Config = {
            address: s.ip,
            prefixLength: s.prefixLength,
            netmask: s.netmask,
            broadcast: broadcastOf(s.ip, s.prefixLength),
            dns: [...s.dns],
            ...(s.gateway ? { gateway: s.gateway } : {}),
          };
          const probe = await this.probe(s.ip);
          if (!this.active) return;
          if (probe.holder) {
            this.events.failing(Reason.ADDRESS_CONFLICT, `${s.ip} is in use by ${probe.holder}`);
            return;
          }
          await this.apply(cfg);
          if (!this.active) return;
          this.events.configured(cfg, Reason.STATIC_APPLIED);
          if (probe.probed) this.announce(s.ip);
        } catch (err) {
          // Leave nothing half-done (an address without its routes) behind a failure.
          await this.unapply();
          this.events.failing(Reason.CONFIG_FAILED, (err as Error).message);
        }
      });
      return;
    }
    this.startDhcp();
  }

  private startDhcp(): void {
    const dhcp = new Dhcp4Driver(
      this.platform,
      this.ifname,
      {
        mac: this.mac,
        ...(this.options.hostname ? { hostname: this.options.hostname } : {}),
        ...(this.lastLease ? { requestedAddress: this.lastLease.address } : {}),
        ...(this.options.dhcpInitialTimeoutMs !== undefined ? { initialRetransmitMs: this.options.dhcpInitialTimeoutMs } : {}),
        ...(this.options.dhcpGiveUpMs !== undefined ? { giveUpAfterMs: this.options.dhcpGiveUpMs } : {}),
        ...(this.options.dhcpMinRenewRetryMs !== undefined ? { minRenewRetryMs: this.options.dhcpMinRenewRetryMs } : {}),
        ...(this.options.dhcpDeclineWaitMs !== undefined ? { declineWaitMs: this.options.dhcpDeclineWaitMs } : {}),
      },
      {
        bound: (lease) => void this.serial(() => this.onLease(lease, Reason.DHCP_BOUND)),
        renewed: (lease) => void this.serial(() => this.onLease(lease, Reason.DHCP_RENEWED)),
        expired: () =>
          void this.serial(async () => {
            await this.unapply();
            this.events.acquiring(Reason.DHCP_LEASE_EXPIRED);
          }),
        nak: (_lost, message) =>
          void this.serial(async () => {
            await this.unapply();
            this.events.acquiring(Reason.DHCP_NAK, message ? `server said: ${message.slice(0, 80)}` : undefined);
          }),
        declined: (address) =>
          void this.serial(async () => {
            await this.unapply();
            this.events.acquiring(Reason.ADDRESS_CONFLICT, `${address} is in use`);
          }),
        gaveUp: (elapsedMs) => {
          if (!this.config) this.events.failing(Reason.DHCP_TIMEOUT, `no lease after ${Math.round(elapsedMs)} ms; still trying`);
        },
        log: (m) => this.events.log(`dhcp: ${m}`),
      },
    );
    this.dhcp = dhcp;
    this.events.acquiring(Reason.DHCP_STARTED);
    dhcp.start().catch((err: Error) => {
      if (this.dhcp !== dhcp) return;
      this.events.failing(Reason.CONFIG_FAILED, `DHCP socket: ${err.message}`);
    });
  }

  private async onLease(lease: Lease, reason: ReasonCode): Promise<void> {
    if (!this.active) return;
    let probed = false;
    // A new address (not a renewal of the one on the link): probe it before use (RFC 5227 §2.1).
    if (reason === Reason.DHCP_BOUND && this.config?.address !== lease.address) {
      const dhcp = this.dhcp;
      let holder: string | undefined;
      try {
        ({ probed, holder } = await this.probe(lease.address));
      } catch (err) {
        if (this.active && this.dhcp === dhcp) this.events.failing(Reason.CONFIG_FAILED, (err as Error).message);
        return;
      }
      if (!this.active || this.dhcp !== dhcp) return;
      if (holder) {
        // RFC 2131 §3.1.5: DECLINE; the machine rediscovers after declineWaitMs, and the
        // `declined` handler reports address-conflict.
        this.events.log(`dhcp: ${lease.address} is in use by ${holder}: declining it`);
        if (this.lastLease?.address === lease.address) this.lastLease = undefined;
        dhcp?.conflict();
        return;
      }
    }
    this.lastLease = lease;
    const cfg: Ipv4Config = {
      address: lease.address,
      prefixLength: lease.prefixLength,
      netmask: lease.netmask || prefixToNetmask(lease.prefixLength),
      broadcast: lease.broadcast,
      dns: lease.dns.slice(0, 2),
      dhcpServer: lease.serverId,
      leaseTimeS: lease.leaseTimeS,
      ...(lease.routers[0] ? { gateway: lease.routers[0] } : {}),
      ...(lease.mtu ? { mtu: lease.mtu } : {}),
      ...(lease.domain ? { domain: lease.domain } : {}),
    };
    try {
      await this.apply(cfg, lease);
      if (!this.active) return;
      this.events.configured(cfg, reason, `${lease.address}/${lease.prefixLength} from ${lease.serverId}`);
      if (probed) this.announce(lease.address);
    } catch (err) {
      await this.unapply();
      this.events.failing(Reason.CONFIG_FAILED, (err as Error).message);
    }
  }

  /**
   * With `arpProbe`, tests an address before it goes on the link (RFC 5227). `probed`: a
   * probe ran; `holder`: the MAC of the host that holds the address, when it is in use.
   */
  private async probe(address: string): Promise<{ probed: boolean; holder?: string }> {
    if (!this.options.arpProbe) return { probed: false };
    if (!this.platform.probeAddress) {
      this.events.log(`arpProbe: the ${this.platform.name} platform cannot probe; ${address} is used unprobed`);
      return { probed: false };
    }
    const clock = this.platform.clock;
    const startedAtMs = clock.now();
    const r = await this.platform.probeAddress(this.ifname, address, { timeoutMs: this.options.arpProbeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS });
    const holder = r.inUse ? (r.by ?? 'another host') : undefined;
    this.events.log(`arp probe ${address}: ${holder ? `in use by ${holder}` : 'free'} (${Math.round(clock.now() - startedAtMs)} ms)`);
    return holder ? { probed: true, holder } : { probed: true };
  }

  /** Cancels the announcements of the address we had: set while they run. */
  private announcing: AbortController | undefined;

  /**
   * RFC 5227 §2.3: a probed address, now on the link, is announced — in the background, so
   * that CONNECTED is not held back by the 2 s between the announcements. Cancelled when
   * the address goes (unapply) or the link does (suspend, stop).
   */
  private announce(address: string): void {
    this.stopAnnouncing();
    if (!this.platform.announceAddress) {
      this.events.log(`arpProbe: the ${this.platform.name} platform cannot announce; ${address} is not announced`);
      return;
    }
    const ac = new AbortController();
    this.announcing = ac;
    void this.platform.announceAddress(this.ifname, address, { signal: ac.signal }).then(
      (r) => this.events.log(`arp announce ${address}: ${r.sent} sent${r.cancelled ? ', the rest cancelled' : ''}`),
      (err: Error) => this.events.log(`arp announce ${address}: ${err.message}`),
    ).finally(() => {
      if (this.announcing === ac) this.announcing = undefined;
    });
  }

  private stopAnnouncing(): void {
    this.announcing?.abort();
    this.announcing = undefined;
  }

  /** Puts cfg on the link: changes only what differs from what is there. */
  private async apply(cfg: Ipv4Config, lease?: Lease): Promise<void> {
    const old = this.config;
    const infinite = !lease || lease.leaseTimeS >= 0xffffffff;
    const addr: Ipv4Address = {
      address: cfg.address,
      prefixLength: cfg.prefixLength,
      broadcast: cfg.broadcast,
      ...(infinite ? {} : { validLifetimeS: lease.leaseTimeS, preferredLifetimeS: lease.leaseTimeS }),
    };
    if (old && (old.address !== cfg.address || old.prefixLength !== cfg.prefixLength)) await this.unapply();
    const ours = this.addresses.some((a) => a.address === addr.address);
    this.ledger?.addingAddress(addr);
    try {
      await this.platform.addAddress(this.ifname, addr);
    } catch (err) {
      if (!ours) this.ledger?.removedAddress(addr);
      throw err;
    }
    if (!ours) this.addresses.push(addr);
    if (cfg.gateway && !this.routes.some((r) => r.prefixLength === 0 && r.gateway === cfg.gateway)) {
      for (const r of this.routes.filter((x) => x.prefixLength === 0)) {
        await this.platform.removeRoute(this.ifname, r);
        this.ledger?.removedRoute(r);
      }
      this.routes = this.routes.filter((x) => x.prefixLength !== 0);
      const route = await this.addDefaultRoute(cfg);
      this.routes.push(route);
    }
    this.config = cfg;
    await this.handOffDns(cfg);
  }

  private dnsHandedOff = false;

  /** Opt-in (dnsHandoff): the system resolver learns this interface's servers. A failure is logged, not fatal. */
  private async handOffDns(cfg: Ipv4Config): Promise<void> {
    const mechanism = this.options.dnsHandoff;
    if (!mechanism || !this.platform.setDns || cfg.dns.length === 0) return;
    try {
      const used = await this.platform.setDns(this.ifname, cfg.dns, { mechanism, ...(cfg.domain ? { domain: cfg.domain } : {}) });
      this.dnsHandedOff = used !== undefined;
      this.events.log(used ? `dns: servers handed to ${used}` : `dns: no ${mechanism === 'auto' ? 'systemd-resolved or resolvconf' : mechanism} here; nothing handed off`);
    } catch (err) {
      this.events.log(`dns: ${(err as Error).message}`);
    }
  }

  /** Two links can't both hold a default route of the same metric: step past a clash. */
  private async addDefaultRoute(cfg: Ipv4Config): Promise<Ipv4Route> {
    for (let bump = 0; ; bump++) {
      const route: Ipv4Route = { destination: '0.0.0.0', prefixLength: 0, gateway: cfg.gateway!, metric: this.metric + bump, source: cfg.address };
      try {
        this.ledger?.addingRoute(route);
        await this.platform.addRoute(this.ifname, route);
        return route;
      } catch (err) {
        this.ledger?.removedRoute(route);
        if (bump >= 16 || !(isNicupError(err) && /EEXIST/.test(err.message))) throw err;
      }
    }
  }

  /** Moves our default route to a new metric: add the new one first, so traffic never lacks a route. */
  setMetric(metric: number): Promise<void> {
    return this.serial(async () => {
      if (metric === this.metric) return;
      this.metric = metric;
      const cfg = this.config;
      const old = this.routes.filter((r) => r.prefixLength === 0);
      if (!cfg?.gateway || old.length === 0) return;
      const route = await this.addDefaultRoute(cfg);
      for (const r of old) await this.removeRoute(r);
      this.routes = [...this.routes.filter((r) => r.prefixLength !== 0), route];
    });
  }

  /** Removes what we added. */
  private async unapply(): Promise<void> {
    this.stopAnnouncing();
    if (this.dnsHandedOff) {
      this.dnsHandedOff = false;
      await this.platform.clearDns?.(this.ifname).catch(() => {});
    }
    const routes = this.routes;
    const addresses = this.addresses;
    this.routes = [];
    this.addresses = [];
    this.config = undefined;
    for (const r of routes) await this.removeRoute(r);
    for (const a of addresses) {
      try {
        await this.platform.removeAddress(this.ifname, a);
        this.ledger?.removedAddress(a);
      } catch (e) {
        this.events.log(`remove address: ${(e as Error).message}`);
      }
    }
  }

  /** Removes one of our routes; a failure is logged and the route stays on the ledger. */
  private async removeRoute(r: Ipv4Route): Promise<void> {
    try {
      await this.platform.removeRoute(this.ifname, r);
      this.ledger?.removedRoute(r);
    } catch (e) {
      this.events.log(`remove route: ${(e as Error).message}`);
    }
  }

  /** The link is gone: stop DHCP, remove what we added, remember the lease for INIT-REBOOT. */
  suspend(): Promise<void> {
    this.active = false;
    // Not after the queued work: an announcement must not go out once the link is given up.
    this.stopAnnouncing();
    const dhcp = this.dhcp;
    this.dhcp = undefined;
    return this.serial(async () => {
      await dhcp?.stop();
      await this.unapply();
    });
  }

  /** Final: the same as suspend. */
  stop(): Promise<void> {
    return this.suspend();
  }
}
