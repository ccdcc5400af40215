/**
 * Cellular: the modem machine (protocols/at) decides states and AT commands; this driver
 * owns the modem's port, the one timer and pppd. PINGING → WAITING_FOR_SIM →
 * REGISTERING → PPP_CONNECTING → CONNECTED once the PPP link has its address and our
 * default route is in place. Failures → UNHAPPY with a reason; the machine starts over
 * with back-off. Secrets (PIN, PPP password) never reach a log or a command line.
 */
import { NetState, Reason } from '../states.js';
import type { Driver, DriverContext } from './session.js';
import type { ByteStream, Ipv4Route, PppLink } from '../platform/contract.js';
import type { TimerHandle } from './clock.js';
import { createModemMachine, stepModem, type ModemAction, type ModemInput, type ModemState } from '../protocols/at/modem-machine.js';
import { DEFAULT_ROUTE_METRIC } from './ip-configurator.js';
import { Backoff } from './backoff.js';
import { openSealedText } from './sealed-hook.js';

export function createCellDriver(ctx: DriverContext): Driver {
  return new CellDriver(ctx);
}

class CellDriver implements Driver {
  private machine: ModemState | undefined;
  private port: ByteStream | undefined;
  private ppp: PppLink | undefined;
  private pppStarting: Promise<PppLink> | undefined;
  private readonly pppStops = new Set<Promise<void>>();
  private pppIfname: string | undefined;
  private route: Ipv4Route | undefined;
  private timer: TimerHandle | undefined;
  private reopen: TimerHandle | undefined;
  /** The escape sequence's next step (hangup with escapeGuardMs). */
  private escapeTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly device: string | undefined;

  constructor(private readonly ctx: DriverContext) {
    this.device = ctx.nic.cellconfig?.device ?? ctx.link.device;
    this.backoff = new Backoff(ctx.options.retryInitialMs ?? 2000, ctx.options.retryMaxMs ?? 300_000);
  }

  private pin: string | undefined;
  private password: string | undefined;

  start(): void {
    void this.begin();
  }

  private async begin(): Promise<void> {
    const { sink, nic } = this.ctx;
    const cell = nic.cellconfig;
    try {
      // Sealed secrets are opened here, once; they live only in this driver's memory.
      this.pin = cell?.pin === undefined ? undefined : typeof cell.pin === 'string' ? cell.pin : await openSealedText(cell.pin.sealed, 'cellconfig.pin');
      this.password = cell?.password === undefined ? undefined : typeof cell.password === 'string' ? cell.password : await openSealedText(cell.password.sealed, 'cellconfig.password');
      this.machine = this.newMachine();
    } catch (err) {
      sink.state(NetState.CELLULAR_STOPPED_UNHAPPY, Reason.CONFIG_FAILED, (err as Error).message);
      return;
    }
    if (!this.stopped) await this.openPort();
  }

  private newMachine(): ModemState {
    const cell = this.ctx.nic.cellconfig;
    return createModemMachine({ apn: cell?.apn ?? '', ...(this.pin !== undefined ? { pin: this.pin } : {}), ...(this.ctx.options.modemTiming ? { timing: this.ctx.options.modemTiming } : {}) });
  }

  private async openPort(): Promise<void> {
    const { platform, sink } = this.ctx;
    if (!this.device || !platform.openSerial) {
      sink.state(NetState.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_ERROR, this.device ? `the ${platform.name} platform cannot open serial ports` : 'no modem port: give cellconfig.device');
      return;
    }
    try {
      const port = await platform.openSerial(this.device, { log: (m) => sink.log(m) });
      if (this.stopped) {
        await port.close();
        return;
      }
      this.port = port;
      port.onData((bytes) => this.input({ type: 'data', bytes }));
      port.onClose((err) => {
        if (this.port !== port || this.stopped) return;
        this.port = undefined;
        sink.log(`modem port closed${err ? `: ${err.message}` : ''}`);
        this.input({ type: 'no-carrier' });
        sink.state(NetState.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_ERROR, 'modem port closed (unplugged?)');
        this.scheduleReopen();
      });
      this.backoff.reset();
      this.input({ type: 'start' });
    } catch (err) {
      if (this.stopped) return;
      sink.state(NetState.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_ERROR, (err as Error).message);
      this.scheduleReopen();
    }
  }

  private scheduleReopen(): void {
    if (this.stopped) return;
    const clock = this.ctx.platform.clock;
    clock.clearTimeout(this.reopen);
    this.reopen = clock.setTimeout(() => {
      this.reopen = undefined;
      if (!this.stopped && !this.port) {
        // A fresh machine would send the PIN again: keep the old one when the SIM refused it.
        if (this.machine && this.machine.pinState !== 'rejected' && this.machine.pinState !== 'uncertain') this.machine = this.newMachine();
        void this.openPort();
      }
    }, this.backoff.next());
  }

  private input(i: ModemInput): void {
    if (!this.machine || (this.stopped && i.type !== 'stop')) return;
    const r = stepModem(this.machine, i, this.ctx.platform.clock.now());
    this.machine = r.state;
    for (const a of r.actions) this.act(a);
  }

  private act(a: ModemAction): void {
    const { sink, platform } = this.ctx;
    const clock = platform.clock;
    switch (a.type) {
      case 'write':
        this.port?.write(a.bytes).catch((e: Error) => sink.log(`modem write failed: ${e.message}`));
        return;
      case 'setTimer':
        clock.clearTimeout(this.timer);
        this.timer = clock.setTimeout(() => {
          this.timer = undefined;
          this.input({ type: 'timer' });
        }, a.atMs - clock.now());
        return;
      case 'clearTimer':
        clock.clearTimeout(this.timer);
        this.timer = undefined;
        return;
      case 'state':
        if (a.state === NetState.CONNECTED) return; // reported once our route is in place (startPpp)
        sink.state(a.state, a.reason);
        return;
      case 'start-ppp':
        void this.startPpp();
        return;
      case 'stop-ppp':
        void this.stopPpp();
        return;
      case 'hangup':
        if (a.escapeGuardMs === undefined) void this.port?.write('ATH\r').catch(() => {});
        else this.escapeToCommandMode(a.escapeGuardMs);
        return;
      case 'urc':
        return;
      case 'log':
        sink.log(`modem: ${a.message}`);
        return;
    }
  }

  /**
   * V.250 escape: guard time of silence, "+++", guard time again (the modem answers OK in
   * command mode), then ATH to end the call. The machine sends nothing meanwhile (its
   * back-off covers the whole sequence).
   */
  private escapeToCommandMode(guardMs: number): void {
    const clock = this.ctx.platform.clock;
    const write = (text: string) => void this.port?.write(text).catch(() => {});
    clock.clearTimeout(this.escapeTimer);
    this.ctx.sink.log(`modem: silent; escaping to command mode in case a call left it in data mode (+++ with ${guardMs} ms guard time, then ATH)`);
    this.escapeTimer = clock.setTimeout(() => {
      write('+++');
      this.escapeTimer = clock.setTimeout(() => {
        this.escapeTimer = undefined;
        write('ATH\r');
      }, guardMs);
    }, guardMs);
  }

  private async startPpp(): Promise<void> {
    const { platform, sink, nic } = this.ctx;
    if (!platform.startPpp || !this.device) {
      this.input({ type: 'ppp-down', reason: 'no pppd on this platform' });
      return;
    }
    try {
      const cell = nic.cellconfig;
      const starting = platform.startPpp({
        device: this.device,
        usePeerDns: true,
        ...(cell?.username ? { username: cell.username } : {}),
        ...(this.password !== undefined ? { password: this.password } : {}),
      });
      this.pppStarting = starting;
      const ppp = await starting;
      if (this.stopped) {
        // stop() came while pppd was starting: it waits for this stop too.
        await this.trackStop(ppp.stop());
        return;
      }
      this.ppp = ppp;
      ppp.onExit((code, reason) => {
        if (this.ppp !== ppp) return;
        this.ppp = undefined;
        void this.unroute();
        sink.ipv4(undefined);
        sink.log(`pppd exited (${code}): ${reason}`);
        this.input({ type: 'ppp-down', reason });
      });
      const [ifname, up] = await Promise.all([ppp.ifname, ppp.up]);
      if (this.stopped || this.ppp !== ppp) return;
      this.pppIfname = ifname;
      const route: Ipv4Route = { destination: '0.0.0.0', prefixLength: 0, metric: this.ctx.options.routeMetric ?? DEFAULT_ROUTE_METRIC.cell, source: up.local };
      await platform.addRoute(ifname, route).catch((e: Error) => sink.log(`default route on ${ifname}: ${e.message}`));
      this.route = route;
      sink.ipv4({ address: up.local, prefixLength: 32, netmask: '255.255.255.255', broadcast: up.local, gateway: up.remote, dns: up.dns.slice(0, 2), device: ifname });
      this.input({ type: 'ppp-up' });
      sink.state(NetState.CONNECTED, Reason.PPP_UP, `${up.local} on ${ifname}`);
    } catch (err) {
      if (this.stopped) return;
      this.input({ type: 'ppp-down', reason: (err as Error).message });
    }
  }

  private async unroute(): Promise<void> {
    const r = this.route;
    const ifname = this.pppIfname;
    this.route = undefined;
    if (r && ifname) await this.ctx.platform.removeRoute(ifname, r).catch(() => {});
  }

  private stopPpp(): Promise<void> {
    const ppp = this.ppp;
    this.ppp = undefined;
    return this.trackStop((async () => {
      await this.unroute();
      await ppp?.stop();
    })());
  }

  /** stop() waits for every pppd stop in flight: once CELLULAR_STOPPED is reported, pppd is gone. */
  private trackStop(stopping: Promise<void>): Promise<void> {
    const settled = stopping.catch(() => {});
    this.pppStops.add(settled);
    void settled.then(() => this.pppStops.delete(settled));
    return settled;
  }

  async setRouteMetric(metric: number): Promise<void> {
    const old = this.route;
    const ifname = this.pppIfname;
    if (!old || !ifname || old.metric === metric) return;
    const route: Ipv4Route = { ...old, metric };
    await this.ctx.platform.addRoute(ifname, route).catch(() => {});
    await this.ctx.platform.removeRoute(ifname, old).catch(() => {});
    this.route = route;
  }

  retry(): void {
    if (this.stopped) return;
    if (!this.port) {
      this.backoff.reset();
      this.ctx.platform.clock.clearTimeout(this.reopen);
      void this.openPort();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.input({ type: 'stop' });
    this.stopped = true;
    const clock = this.ctx.platform.clock;
    clock.clearTimeout(this.timer);
    clock.clearTimeout(this.reopen);
    clock.clearTimeout(this.escapeTimer);
    // The machine's stop-ppp action has already begun stopping pppd; wait for that too, and
    // for a pppd that was still starting.
    await this.stopPpp();
    await this.pppStarting?.catch(() => {});
    await Promise.all([...this.pppStops]);
    const port = this.port;
    this.port = undefined;
    await port?.close().catch(() => {});
  }
}
