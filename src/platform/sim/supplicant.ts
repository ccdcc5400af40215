/**
 * A simulated wpa_supplicant that speaks the real control-interface text: commands in,
 * replies and "<N>CTRL-EVENT-..." lines out. It scans the world's access points, checks
 * the key (passphrase, or raw PSK derived as IEEE 802.11i does: PBKDF2-SHA1, 4096
 * rounds, salt = SSID), associates, and reports losses — so nicup's WiFi driver runs the
 * same code against it as against the real daemon.
 */
import { pbkdf2Sync } from 'node:crypto';
import type { SupplicantControl } from '../contract.js';
import { ClosedError } from '../../errors.js';
import type { SimAccessPoint, SimWorld } from './world.js';

type WpaState = 'DISCONNECTED' | 'INACTIVE' | 'SCANNING' | 'ASSOCIATING' | '4WAY_HANDSHAKE' | 'COMPLETED';

interface NetworkBlock {
  id: number;
  ssid?: Buffer;
  psk?: { passphrase: string } | { hex: string };
  keyMgmt: string;
  scanSsid: boolean;
  enabled: boolean;
  disabledUntilMs: number;
  authFailures: number;
}

/** Scan time: real hwsim with the frequency pinned takes about 0.5 s. */
const SCAN_MS = 400;
const ASSOC_MS = 60;
const HANDSHAKE_MS = 40;
/** wpa_supplicant's temp-disable durations after auth failures: 10, 20, 60 s… */
const TEMP_DISABLE_S = [10, 20, 60, 120, 300];

export class SimSupplicant implements SupplicantControl {
  private readonly events = new Set<(line: string) => void>();
  private readonly closeListeners = new Set<(err?: Error) => void>();
  private networks = new Map<number, NetworkBlock>();
  private nextId = 0;
  private state: WpaState = 'DISCONNECTED';
  private current: { ap: SimAccessPoint; net: NetworkBlock } | undefined;
  private attached = false;
  private closed = false;
  private generation = 0;
  private wpsUntilMs: number | undefined;
  private offAp: () => void;

  constructor(
    private readonly world: SimWorld,
    private readonly ifname: string,
  ) {
    this.offAp = world.onAp((ap) => this.apChanged(ap));
    world.supplicants.set(ifname, this);
  }

  async request(command: string): Promise<string> {
    if (this.closed) throw new ClosedError(`${this.ifname}: supplicant control socket closed`);
    // Replies come back after the call, as over a socket (but need no simulated time, so
    // close() works without running the world's clock).
    await Promise.resolve();
    return this.handle(command);
  }

  onEvent(listener: (line: string) => void): void {
    this.events.add(listener);
  }
  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.add(listener);
  }

  async close(): Promise<void> {
    this.shutdown();
  }

  /** The daemon dies (tests: "supplicant killed"). */
  kill(): void {
    if (this.closed) return;
    this.shutdown();
    for (const l of this.closeListeners) this.world.later(() => l(new Error('wpa_supplicant exited')));
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.offAp();
    this.world.supplicants.delete(this.ifname);
    if (this.current) this.world.setAssociation(this.ifname, undefined);
    this.current = undefined;
  }

  private emit(level: number, text: string): void {
    if (!this.attached || this.closed) return;
    const line = `<${level}>${text}`;
    for (const l of this.events) this.world.later(() => l(line));
  }

  private handle(command: string): string {
    const [verb = '', ...rest] = command.split(' ');
    switch (verb) {
      case 'PING':
        return 'PONG\n';
      case 'ATTACH':
        this.attached = true;
        return 'OK\n';
      case 'DETACH':
        this.attached = false;
        return 'OK\n';
      case 'ADD_NETWORK': {
        const id = this.nextId++;
        this.networks.set(id, { id, keyMgmt: 'WPA-PSK', scanSsid: false, enabled: false, disabledUntilMs: 0, authFailures: 0 });
        return `${id}\n`;
      }
      case 'SET_NETWORK':
        return this.setNetwork(rest);
      case 'ENABLE_NETWORK':
      case 'SELECT_NETWORK': {
        const targets = rest[0] === 'all' ? [...this.networks.values()] : [this.networks.get(Number(rest[0]))];
        if (targets.some((n) => !n)) return 'FAIL\n';
        if (verb === 'SELECT_NETWORK') for (const n of this.networks.values()) n.enabled = false;
        for (const n of targets) {
          n!.enabled = true;
          n!.disabledUntilMs = 0;
        }
        this.startScan();
        return 'OK\n';
      }
      case 'DISABLE_NETWORK':
      case 'REMOVE_NETWORK': {
        const ids = rest[0] === 'all' ? [...this.networks.keys()] : [Number(rest[0])];
        for (const id of ids) {
          const n = this.networks.get(id);
          if (!n) return 'FAIL\n';
          n.enabled = false;
          if (verb === 'REMOVE_NETWORK') this.networks.delete(id);
          if (this.current?.net === n) this.disconnect(3, true);
        }
        if (![...this.networks.values()].some((n) => n.enabled) && this.state !== 'COMPLETED') this.setState('INACTIVE');
        return 'OK\n';
      }
      case 'DISCONNECT':
        this.disconnect(3, true);
        this.generation++;
        this.setState('DISCONNECTED');
        return 'OK\n';
      case 'RECONNECT':
      case 'REASSOCIATE':
        this.startScan();
        return 'OK\n';
      case 'SCAN':
        this.startScan();
        return 'OK\n';
      case 'STATUS':
        return this.status();
      case 'WPS_PBC':
        this.wpsUntilMs = this.world.clock.now() + 120_000;
        this.emit(3, 'WPS-PBC-ACTIVE');
        this.startScan();
        return 'OK\n';
      case 'WPS_CANCEL':
        this.wpsUntilMs = undefined;
        this.emit(3, 'WPS-CANCEL');
        return 'OK\n';
      case 'TERMINATE':
        this.emit(3, 'CTRL-EVENT-TERMINATING');
        this.world.later(() => this.kill());
        return 'OK\n';
      case 'SET':
      case 'LEVEL':
        return 'OK\n';
      default:
        return 'UNKNOWN COMMAND\n';
    }
  }

  private setNetwork(args: string[]): string {
    const [idText, field, ...valueParts] = args;
    const n = this.networks.get(Number(idText));
    const value = valueParts.join(' ');
    if (!n || !field) return 'FAIL\n';
    const quoted = /^"(.*)"$/s.exec(value);
    switch (field) {
      case 'ssid':
        if (quoted) n.ssid = Buffer.from(quoted[1]!, 'utf8');
        else if (/^([0-9a-fA-F]{2})+$/.test(value)) n.ssid = Buffer.from(value, 'hex');
        else return 'FAIL\n';
        return 'OK\n';
      case 'psk':
        if (quoted) n.psk = { passphrase: quoted[1]! };
        else if (/^[0-9a-fA-F]{64}$/.test(value)) n.psk = { hex: value.toLowerCase() };
        else return 'FAIL\n';
        return 'OK\n';
      case 'key_mgmt':
        n.keyMgmt = value;
        return 'OK\n';
      case 'scan_ssid':
        n.scanSsid = value === '1';
        return 'OK\n';
      default:
        return 'OK\n';
    }
  }

  private status(): string {
    const lines = [`wpa_state=${this.state}`];
    if (this.current && (this.state === 'COMPLETED' || this.state === 'ASSOCIATING' || this.state === '4WAY_HANDSHAKE')) {
      lines.unshift(`bssid=${this.current.ap.bssid}`, 'freq=2412', `ssid=${this.current.ap.ssid}`, `id=${this.current.net.id}`, 'mode=station', 'pairwise_cipher=CCMP', `key_mgmt=${this.current.net.keyMgmt}`);
    }
    return lines.join('\n') + '\n';
  }

  private setState(s: WpaState): void {
    this.state = s;
  }

  private startScan(): void {
    if (this.closed) return;
    const gen = ++this.generation;
    if (this.state === 'COMPLETED') return;
    this.setState('SCANNING');
    this.emit(3, 'CTRL-EVENT-SCAN-STARTED ');
    this.world.later(() => {
      if (gen !== this.generation || this.closed) return;
      this.emit(3, 'CTRL-EVENT-SCAN-RESULTS ');
      this.afterScan(gen);
    }, SCAN_MS);
  }

  private visible(ap: SimAccessPoint, net: NetworkBlock | undefined): boolean {
    return ap.up && (!ap.options.hidden || (net !== undefined && net.scanSsid));
  }

  private afterScan(gen: number): void {
    const now = this.world.clock.now();
    if (this.wpsUntilMs !== undefined) {
      if (now > this.wpsUntilMs) {
        this.wpsUntilMs = undefined;
        this.emit(3, 'WPS-TIMEOUT');
        return;
      }
      const ap = this.world.accessPoints.find((a) => a.up && a.options.wps && a.wpsButtonPressedAtMs !== undefined && now - a.wpsButtonPressedAtMs < 120_000);
      if (ap) {
        this.wpsUntilMs = undefined;
        const id = this.nextId++;
        const net: NetworkBlock = {
          id,
          ssid: Buffer.from(ap.ssid),
          keyMgmt: ap.options.key ? 'WPA-PSK' : 'NONE',
          scanSsid: !!ap.options.hidden,
          enabled: true,
          disabledUntilMs: 0,
          authFailures: 0,
          ...(ap.options.key ? { psk: { passphrase: ap.options.key } } : {}),
        };
        for (const n of this.networks.values()) n.enabled = false;
        this.networks.set(id, net);
        this.emit(3, 'WPS-CRED-RECEIVED ');
        this.emit(3, 'WPS-SUCCESS ');
        this.associate(ap, net, gen);
        return;
      }
      this.world.later(() => gen === this.generation && this.startScanKeepGen(gen), 1000);
      return;
    }
    const candidates = [...this.networks.values()].filter((n) => n.enabled && n.disabledUntilMs <= now);
    for (const net of candidates) {
      const ap = this.world.accessPoints.find((a) => net.ssid && Buffer.from(a.ssid).equals(net.ssid) && this.visible(a, net));
      if (ap) return this.associate(ap, net, gen);
    }
    const waiting = [...this.networks.values()].filter((n) => n.enabled);
    if (waiting.length === 0) {
      this.setState('INACTIVE');
      return;
    }
    if (candidates.length > 0) this.emit(3, 'CTRL-EVENT-NETWORK-NOT-FOUND');
    this.setState('DISCONNECTED');
    // wpa_supplicant rescans on its own; keep it short in the simulation.
    const nextAt = Math.max(now + 5000, Math.min(...waiting.map((n) => n.disabledUntilMs)));
    this.world.later(() => gen === this.generation && this.startScanKeepGen(gen), nextAt - now);
  }

  private startScanKeepGen(gen: number): void {
    if (this.closed || gen !== this.generation) return;
    this.setState('SCANNING');
    this.emit(3, 'CTRL-EVENT-SCAN-STARTED ');
    this.world.later(() => {
      if (gen !== this.generation || this.closed) return;
      this.emit(3, 'CTRL-EVENT-SCAN-RESULTS ');
      this.afterScan(gen);
    }, SCAN_MS);
  }

  private keyMatches(ap: SimAccessPoint, net: NetworkBlock): boolean {
    const apKey = ap.options.key ?? null;
    if (apKey === null) return net.keyMgmt === 'NONE';
    if (net.keyMgmt !== 'WPA-PSK' || !net.psk) return false;
    if ('passphrase' in net.psk) return net.psk.passphrase === apKey;
    const derived = pbkdf2Sync(apKey, Buffer.from(ap.ssid), 4096, 32, 'sha1').toString('hex');
    return derived === net.psk.hex;
  }

  private associate(ap: SimAccessPoint, net: NetworkBlock, gen: number): void {
    this.setState('ASSOCIATING');
    this.emit(3, `Trying to associate with ${ap.bssid} (SSID='${ap.ssid}' freq=2412 MHz)`);
    this.world.later(() => {
      if (gen !== this.generation || this.closed) return;
      if (!ap.up) return this.afterScan(gen);
      this.emit(3, `Associated with ${ap.bssid}`);
      this.setState('4WAY_HANDSHAKE');
      this.world.later(() => {
        if (gen !== this.generation || this.closed) return;
        if (this.keyMatches(ap, net)) {
          net.authFailures = 0;
          this.current = { ap, net };
          this.setState('COMPLETED');
          this.world.setAssociation(this.ifname, ap);
          this.emit(3, `CTRL-EVENT-CONNECTED - Connection to ${ap.bssid} completed [id=${net.id} id_str=]`);
          return;
        }
        // Wrong key: the 4-way handshake fails; wpa_supplicant temp-disables the network.
        net.authFailures++;
        const dur = TEMP_DISABLE_S[Math.min(net.authFailures - 1, TEMP_DISABLE_S.length - 1)]!;
        net.disabledUntilMs = this.world.clock.now() + dur * 1000;
        this.emit(3, `CTRL-EVENT-DISCONNECTED bssid=${ap.bssid} reason=15`);
        this.emit(3, `CTRL-EVENT-SSID-TEMP-DISABLED id=${net.id} ssid="${ap.ssid}" auth_failures=${net.authFailures} duration=${dur} reason=WRONG_KEY`);
        this.setState('DISCONNECTED');
        this.afterScanLater(gen, dur * 1000);
      }, HANDSHAKE_MS * 20);
    }, ASSOC_MS);
  }

  private afterScanLater(gen: number, ms: number): void {
    this.world.later(() => gen === this.generation && this.startScanKeepGen(gen), ms);
  }

  private disconnect(reason: number, local: boolean): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    this.world.setAssociation(this.ifname, undefined);
    this.emit(3, `CTRL-EVENT-DISCONNECTED bssid=${cur.ap.bssid} reason=${reason}${local ? ' locally_generated=1' : ''}`);
  }

  private apChanged(ap: SimAccessPoint): void {
    if (this.closed) return;
    if (this.current?.ap === ap && !ap.up) {
      this.disconnect(4, false);
      this.setState('SCANNING');
      this.startScanKeepGen(++this.generation);
    }
  }
}
