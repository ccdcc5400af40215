/**
 * WiFi through wpa_supplicant's control interface: the station machine
 * (protocols/wpa) decides states; this driver owns the control connection, sends the
 * commands it asks for, feeds events and STATUS polls back, and runs IPv4 (DHCP or
 * static) once the link is up. SCANNING → JOINING → LINK_UP → DHCPING → CONNECTED;
 * WPSING for push-button; UNHAPPY with a reason; the supplicant's death is recovered
 * with back-off. Keys go to the supplicant over its socket, never into a file or a log.
 */
import { NetState, Reason } from '../states.js';
import type { Driver, DriverContext } from './session.js';
import type { SupplicantControl } from '../platform/contract.js';
import type { TimerHandle } from './clock.js';
import { IpConfigurator, DEFAULT_ROUTE_METRIC } from './ip-configurator.js';
import { macToBytes } from './mac.js';
import { Backoff } from './backoff.js';
import { createStation, step, type StationAction, type StationInput, type StationState } from '../protocols/wpa/station-machine.js';
import { addNetwork, attach, networkSetupCommands, removeNetwork, setGlobalFreqList, status, type ControlCommand } from '../protocols/wpa/command-encoder.js';
import { decodeNetworkIdReply, decodeStatus } from '../protocols/wpa/status-decoder.js';
import { openSealed } from './sealed-hook.js';
import type { WifiKey } from '../nic.js';

/** STATUS poll period while joining (some builds send no state-change events), and once up. */
const POLL_JOINING_MS = 500;
const POLL_UP_MS = 5000;

export function createWifiDriver(ctx: DriverContext): Driver {
  return new WifiDriver(ctx);
}

class WifiDriver implements Driver {
  private control: SupplicantControl | undefined;
  private station: StationState;
  /** The network we added (the only one we remove from a shared supplicant). */
  private networkId: number | undefined;
  private managerChecked = false;
  private ip: IpConfigurator | undefined;
  private linkUp = false;
  private stopped = false;
  private poll: TimerHandle | undefined;
  private restart: TimerHandle | undefined;
  private wasAdminUp: boolean | undefined;
  private readonly backoff: Backoff;
  private readonly name: string;
  /** The key, opened once when sealed: it lives only in this driver's memory. */
  private key: WifiKey | undefined;

  constructor(private readonly ctx: DriverContext) {
    this.name = ctx.link.name;
    this.station = this.newStation();
    this.backoff = new Backoff(ctx.options.retryInitialMs ?? 1000, ctx.options.retryMaxMs ?? 60_000);
  }

  /**
   * One WRONG_KEY temp-disable is enough to report wrong-key by default (NetworkManager
   * asks for new secrets after the first failed handshake too); wpa_supplicant would
   * otherwise wait 10 s and try again before we could say so.
   */
  private newStation(): StationState {
    return createStation({ wrongKeyLimit: this.ctx.options.wifiWrongKeyLimit ?? 1 });
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    const { platform, sink, nic } = this.ctx;
    const wifi = nic.wificonfig;
    if (!platform.openSupplicant) {
      sink.state(NetState.WIFI_STOPPED_UNHAPPY, Reason.SUPPLICANT_UNREACHABLE, `the ${platform.name} platform has no wpa_supplicant`);
      return;
    }
    if (wifi && !wifi.wps && this.key === undefined) {
      try {
        this.key = wifi.key.kind === 'sealed' ? await openSealed(wifi.key) : wifi.key;
      } catch (err) {
        // A blob sealed on another device, or changed, stays refused: say so once, no retries.
        sink.state(NetState.WIFI_STOPPED_UNHAPPY, Reason.CONFIG_FAILED, (err as Error).message);
        return;
      }
    }
    if (!this.ctx.options.takeOver && platform.detectManager && this.managerChecked === false) {
      this.managerChecked = true;
      const manager = await platform.detectManager(this.name).catch(() => undefined);
      if (manager) {
        sink.state(NetState.WIFI_STOPPED_UNHAPPY, Reason.MANAGED_ELSEWHERE, `${this.name} is managed by ${manager}; pass takeOver to let nicup run it`);
        return;
      }
    }
    try {
      if (this.wasAdminUp === undefined) this.wasAdminUp = (await platform.getLink(this.name))?.adminUp ?? false;
      if (!this.wasAdminUp) await platform.setLinkUp(this.name, true);
      const control = await platform.openSupplicant(this.name, { log: (m) => sink.log(m) });
      if (this.stopped) {
        await control.close();
        return;
      }
      this.control = control;
      control.onEvent((line) => this.input({ type: 'line', line }));
      control.onClose((err) => {
        if (this.control !== control) return;
        this.control = undefined;
        sink.log(`wpa_supplicant went away${err ? `: ${err.message}` : ''}`);
        this.input({ type: 'supplicant-gone' });
        this.scheduleRestart();
      });
      await this.send(attach());
      // Our own daemon starts clean; a shared one keeps its networks (we remove only ours).
      if (control.owned !== false) await this.send(removeNetwork('all'));
      else if (this.networkId !== undefined) await this.send(removeNetwork(this.networkId)).catch(() => {});
      this.networkId = undefined;
      this.station = this.newStation();
      if (!wifi || wifi.wps) {
        // WPS_PBC takes no channel: the global freq_list is what pins its scans (a full
        // scan takes seconds, ~9 s on mac80211_hwsim).
        const freqs = this.ctx.options.wifiFrequenciesMhz;
        if (freqs) await this.send(setGlobalFreqList(freqs));
        this.input({ type: 'start-wps' });
      } else {
        const key = this.key ?? wifi.key;
        const id = decodeNetworkIdReply(await this.send(addNetwork()));
        if (id === undefined) throw new Error('ADD_NETWORK failed');
        // Validated before any is sent: a bad key never leaves a half-made network.
        const commands = networkSetupCommands(id, { ssid: wifi.ssid, key, hidden: wifi.hidden }, this.ctx.options.wifiFrequenciesMhz ? { frequenciesMhz: this.ctx.options.wifiFrequenciesMhz } : {});
        for (const c of commands) {
          const reply = await this.send(c);
          if (!reply.startsWith('OK')) throw new Error(`${c.redacted.split(' ').slice(0, 3).join(' ')} failed`);
        }
        this.networkId = id;
        this.input({ type: 'start', networkId: id });
      }
      this.backoff.reset();
      this.schedulePoll();
    } catch (err) {
      if (this.stopped) return;
      sink.state(NetState.WIFI_STOPPED_UNHAPPY, Reason.SUPPLICANT_UNREACHABLE, (err as Error).message);
      const c = this.control;
      this.control = undefined;
      await c?.close().catch(() => {});
      this.scheduleRestart();
    }
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    const clock = this.ctx.platform.clock;
    clock.clearTimeout(this.restart);
    this.restart = clock.setTimeout(() => {
      this.restart = undefined;
      if (!this.stopped && !this.control) void this.connect();
    }, this.backoff.next());
  }

  private schedulePoll(): void {
    const clock = this.ctx.platform.clock;
    clock.clearTimeout(this.poll);
    if (this.stopped || !this.control) return;
    const ms = this.station.phase === 'link-up' ? POLL_UP_MS : POLL_JOINING_MS;
    this.poll = clock.setTimeout(() => {
      this.poll = undefined;
      const c = this.control;
      if (!c || this.stopped) return;
      c.request(status().text)
        .then((text) => {
          const r = decodeStatus(text);
          if (r.ok && this.control === c) this.input({ type: 'status', status: r.value });
        })
        .catch(() => {})
        .finally(() => this.schedulePoll());
    }, ms);
  }

  private async send(c: ControlCommand): Promise<string> {
    const control = this.control;
    if (!control) throw new Error('wpa_supplicant not connected');
    this.ctx.sink.log(`wpa <- ${c.redacted}`);
    return control.request(c.text);
  }

  private input(i: StationInput): void {
    if (this.stopped && i.type !== 'stop') return;
    const r = step(this.station, i, this.ctx.platform.clock.now());
    this.station = r.state;
    for (const a of r.actions) this.act(a);
  }

  private act(a: StationAction): void {
    const { sink } = this.ctx;
    switch (a.type) {
      case 'state':
        // LINK_UP is followed at once by DHCPING/CONNECTED from the configurator.
        sink.state(a.value, a.reason);
        return;
      case 'command':
        void this.send(a.command).catch((e: Error) => sink.log(`wpa command failed: ${e.message}`));
        return;
      case 'link-up':
        this.linkUp = true;
        this.ip ??= this.makeConfigurator();
        this.ip.start();
        return;
      case 'link-down':
        this.linkUp = false;
        sink.ipv4(undefined);
        void this.ip?.suspend();
        return;
      case 'log':
        if (a.level === 'error') sink.log(`wpa: ${a.message}`);
        else sink.log(`wpa: ${a.message}`);
        return;
    }
  }

  private makeConfigurator(): IpConfigurator {
    const { platform, nic, options, sink, link } = this.ctx;
    return new IpConfigurator(platform, this.name, macToBytes(link.mac), nic, options, options.routeMetric ?? DEFAULT_ROUTE_METRIC.wifi, {
      acquiring: (reason, detail) => {
        if (this.linkUp) sink.state(NetState.WIFI_DHCPING, reason, detail);
        sink.ipv4(undefined);
      },
      configured: (config, reason, detail) => {
        if (!this.linkUp || this.stopped) return;
        sink.ipv4(config);
        sink.state(NetState.CONNECTED, reason, detail);
      },
      failing: (reason, detail) => {
        if (this.linkUp) sink.state(NetState.WIFI_STOPPED_UNHAPPY, reason, detail);
      },
      log: (m) => sink.log(m),
    });
  }

  async setRouteMetric(metric: number): Promise<void> {
    await this.ip?.setMetric(metric);
  }

  retry(): void {
    if (this.stopped) return;
    if (!this.control) {
      this.backoff.reset();
      this.ctx.platform.clock.clearTimeout(this.restart);
      void this.connect();
      return;
    }
    this.input({ type: 'retry' });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    const clock = this.ctx.platform.clock;
    clock.clearTimeout(this.poll);
    clock.clearTimeout(this.restart);
    // Let the machine say its goodbyes (DISCONNECT, REMOVE_NETWORK) before we go.
    const r = step(this.station, { type: 'stop' }, clock.now());
    this.station = r.state;
    this.stopped = true;
    for (const a of r.actions) {
      if (a.type === 'command') await this.send(a.command).catch(() => {});
    }
    if (this.control?.owned !== false) await this.send(removeNetwork('all')).catch(() => {});
    else if (this.networkId !== undefined) await this.send(removeNetwork(this.networkId)).catch(() => {});
    await this.ip?.stop();
    const c = this.control;
    this.control = undefined;
    await c?.close().catch(() => {});
    if (this.wasAdminUp === false) await this.ctx.platform.setLinkUp(this.name, false).catch(() => {});
  }
}
