/**
 * pppd on a modem port the cell driver has dialled (CONNECT seen).
 *
 * Taking over the port without a hang-up: the platform's open AT port (serial.ts) hands
 * pppd a second descriptor on the tty as its stdin before closing its own, so the tty
 * never sees a last close (which would drop DTR and make the modem hang up). pppd is given
 * the device path too; since its stdin is that very tty, opened read-write, pppd treats it
 * as its "default device": it does not lock it, does not toggle DTR before starting, and
 * does not drop DTR when it ends (pppd(8), tty.c). When pppd exits the tty is free, and
 * the AT port reopens itself for the driver's next commands. Without an open AT port for
 * the device, pppd opens the device by path itself.
 *
 * Options: `nodetach` (we supervise the process), `noauth` (we do not authenticate the
 * network), `local` (ignore DCD: USB modems' ACM ports rarely report it, the tty is not
 * pppd's controlling terminal so no SIGHUP would come, and a pty has no modem lines; a dead
 * link is found by LCP echoes instead), `noipdefault ipcp-accept-local ipcp-accept-remote`
 * (the network assigns both addresses), `nodefaultroute` (the driver adds the route, with
 * its metric; this also overrides a `defaultroute` in /etc/ppp/options), `usepeerdns` when
 * asked, `lcp-restart 1 ipcp-restart 1` (the first Configure-Request is often lost while
 * the network side is not listening yet; the default 3 s costs seconds), `novj noccp`
 * (operators do not do header or data compression; refusing it saves round trips).
 * `ip-up-script`/`ip-down-script` point at a path that does not exist, so /etc/ppp/ip-up
 * (and Debian's ip-up.d hooks, which rewrite /etc/resolv.conf for usepeerdns) do not run:
 * nicup reports DNS servers itself and never rewrites the host's DNS. (pppd still writes
 * its own /etc/ppp/resolv.conf for usepeerdns; that file is pppd's, not the resolver's.)
 *
 * Secrets: the PPP user name and password go into an options file (mode 0600, in a fresh
 * 0700 directory under /run, or the temp dir) passed as `file PATH`, so the password is in
 * no command line (ps shows argv to every user). The directory is removed as soon as pppd
 * has read its options (it names its interface after that), and in any case when it ends.
 *
 * What pppd learnt: its log (stdout, with nodetach) names the interface ("Using interface
 * ppp0") and, from IPCP, "local  IP address", "remote IP address", "primary   DNS address",
 * "secondary DNS address" — printed by ipcp_up() one after the other once the kernel link
 * is configured. `up` resolves when the kernel shows the local address on the link
 * (rtnetlink, through the platform) and the DNS lines have come (or the log went quiet).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ByteStream, PppLink, PppOptions, SerialOpenOptions } from '../contract.js';
import { ArgumentError, ClosedError, NicupError, PlatformError } from '../../errors.js';
import { inNetns } from './netns.js';
import { checkDevicePath, openSerial, type LinuxSerialPort } from './serial.js';
import { reapOrphans, recordChild } from './child-ledger.js';

export interface PppTuning {
  /** The pppd binary; default: found on PATH, /usr/sbin or /sbin. */
  pppdPath?: string;
  /** LCP echo-request every so many seconds (default 10)… */
  lcpEchoIntervalS?: number;
  /** …and the link is dead after this many unanswered in a row (default 3). */
  lcpEchoFailure?: number;
  /** stop(): SIGTERM, then SIGKILL after this long (default 5000; pppd waits for the peer's Terminate-Ack). */
  stopTimeoutMs?: number;
  /** Where the private options directory is made; default /run when writable, else the temp dir. */
  runtimeDir?: string;
}

const DEFAULTS = { lcpEchoIntervalS: 10, lcpEchoFailure: 3, stopTimeoutMs: 5000 } as const;
/** After the last IPCP line, how long the log must stay quiet before `up` settles without both DNS lines. */
const DNS_SETTLE_MS = 150;
/** How long the kernel may take to show the address pppd says it configured. */
const ADDRESS_CHECK_TRIES = 20;
const ADDRESS_CHECK_INTERVAL_MS = 100;
const KEPT_LOG_LINES = 50;

// ---------------------------------------------------------------------------------------
// Pure parts (unit-tested)

export interface PppdArgsInput {
  device: string;
  usePeerDns: boolean;
  /** The options file holding user/password, if any. */
  optionsFile?: string;
  /** A path that does not exist: no ip-up/ip-down script runs. */
  noScriptPath: string;
  lcpEchoIntervalS: number;
  lcpEchoFailure: number;
}

/** pppd's argv (after the program name). Never holds a secret. */
export function buildPppdArgs(i: PppdArgsInput): string[] {
  const args = [
    i.device,
    'nodetach',
    'noauth',
    'local',
    'nocrtscts',
    'noipdefault',
    'ipcp-accept-local',
    'ipcp-accept-remote',
    'nodefaultroute',
    'novj',
    'noccp',
    'lcp-restart', '1',
    'ipcp-restart', '1',
    'lcp-echo-interval', String(i.lcpEchoIntervalS),
    'lcp-echo-failure', String(i.lcpEchoFailure),
    'ip-up-script', i.noScriptPath,
    'ip-down-script', i.noScriptPath,
  ];
  if (i.usePeerDns) args.push('usepeerdns');
  if (i.optionsFile !== undefined) args.push('file', i.optionsFile);
  return args;
}

/** A word in a pppd options file: double-quoted, with `\` and `"` escaped (pppd options.c getword). */
export function quotePppdWord(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The options file for the credentials; undefined when there are none. */
export function formatPppdOptionsFile(credentials: { username?: string; password?: string }): string | undefined {
  const lines: string[] = [];
  if (credentials.username !== undefined) lines.push(`user ${quotePppdWord(credentials.username)}`);
  if (credentials.password !== undefined) lines.push(`password ${quotePppdWord(credentials.password)}`);
  if (lines.length === 0) return undefined;
  return `# nicup: credentials for one pppd run; removed once pppd has read them\n${lines.join('\n')}\n`;
}

/** One line of pppd's log, as far as we care. */
export type PppdLogEvent =
  | { type: 'interface'; ifname: string }
  | { type: 'local'; address: string }
  | { type: 'remote'; address: string }
  | { type: 'dns'; address: string };

const IPV4 = String.raw`(\d{1,3}(?:\.\d{1,3}){3})`;
const LOG_PATTERNS: readonly [RegExp, (m: RegExpExecArray) => PppdLogEvent][] = [
  [/^Using interface (\S+)$/, (m) => ({ type: 'interface', ifname: m[1]! })],
  // With `ifname NAME` pppd renames the unit it got.
  [/^Renamed interface \S+ to (\S+)$/, (m) => ({ type: 'interface', ifname: m[1]! })],
  [new RegExp(`^local\\s+IP address\\s+${IPV4}$`), (m) => ({ type: 'local', address: m[1]! })],
  [new RegExp(`^remote\\s+IP address\\s+${IPV4}$`), (m) => ({ type: 'remote', address: m[1]! })],
  [new RegExp(`^(?:primary|secondary)\\s+DNS address\\s+${IPV4}$`), (m) => ({ type: 'dns', address: m[1]! })],
];

export function parsePppdLine(line: string): PppdLogEvent | undefined {
  const text = line.trim();
  for (const [re, make] of LOG_PATTERNS) {
    const m = re.exec(text);
    if (m) return make(m);
  }
  return undefined;
}

/** pppd's exit status in words (pppd(8), EXIT STATUS). */
export function pppdExitReason(code: number | null, signal: NodeJS.Signals | null = null): string {
  if (code === null) return `pppd was killed by ${signal ?? 'a signal'}`;
  switch (code) {
    case 0: return 'the link was terminated at the peer\'s request';
    case 1: return 'pppd hit a fatal error';
    case 2: return 'pppd refused its options';
    case 3: return 'pppd needs root';
    case 4: return 'the kernel has no PPP support (modprobe ppp_generic ppp_async)';
    case 5: return 'pppd was stopped by a signal';
    case 6: return 'the serial port could not be locked';
    case 7: return 'the serial port could not be opened';
    case 8: return 'the connect script failed';
    case 9: return 'the pty command failed';
    case 10: return 'PPP negotiation failed (no network protocol came up)';
    case 11: return 'the peer failed to authenticate itself';
    case 12: return 'the link was idle';
    case 13: return 'the connect time limit was reached';
    case 14: return 'callback negotiated';
    case 15: return 'the peer stopped answering LCP echo requests';
    case 16: return 'the modem hung up';
    case 17: return 'serial loopback detected';
    case 18: return 'the init script failed';
    case 19: return 'authentication to the peer failed (user name or password)';
    default: return `pppd exited with status ${code}`;
  }
}

/**
 * pppd's own account of why a link ended, from its log. The exit status alone misleads: after
 * "No response to 2 echo-requests" pppd tears the link down, and its read of the then detached
 * channel reports "Modem hangup", which overwrites the status with 16.
 */
const CAUSES: readonly [RegExp, string][] = [
  [/^No response to \d+ echo-requests/, 'the peer stopped answering LCP echo requests'],
  [/^LCP terminated by peer/, 'the peer ended the link (LCP Terminate-Request)'],
  [/^Modem hangup/, 'the modem hung up'],
  [/^Terminating on signal/, 'pppd was stopped by a signal'],
  [/^(LCP|IPCP): timeout sending Config-Requests/, 'PPP negotiation failed: the peer did not answer'],
  [/authentication failed|failed to authenticate/i, 'authentication to the peer failed (user name or password)'],
];
const CAUSE_LINE = /timeout|terminated|failed|refused|hangup|no response|not responding|error|cannot|can't|couldn't|unrecognized|authentication/i;

function isKnownCause(line: string): boolean {
  return CAUSES.some(([re]) => re.test(line));
}

/** A log line that says why pppd is ending (or could not start); undefined for ordinary lines. */
export function pppdCause(line: string): string | undefined {
  const text = line.trim();
  if (!CAUSE_LINE.test(text) || /^Connection terminated\.?$/.test(text)) return undefined;
  return text;
}

/** The reason text for onExit: the first cause pppd logged, else its exit status. */
export function pppdEndReason(code: number | null, signal: NodeJS.Signals | null, cause: string | undefined): string {
  if (cause === undefined) return pppdExitReason(code, signal);
  const known = CAUSES.find(([re]) => re.test(cause))?.[1];
  return `${known ?? pppdExitReason(code, signal)} (pppd: ${cause})`;
}

// ---------------------------------------------------------------------------------------
// The process

export interface PppEnvironment {
  /** Named network namespace pppd runs in (its ppp interface is made there). */
  netns?: string;
  /** The open AT port of options.device, handed to pppd; absent: pppd opens the device itself. */
  port?: LinuxSerialPort;
  /** Whether the kernel shows `address` on `ifname` (rtnetlink, in the platform's namespace). */
  hasAddress(ifname: string, address: string): Promise<boolean>;
  tuning?: PppTuning;
}

/** Starts pppd; resolves once it runs (not once the link is up: see `ifname` and `up`). */
export async function startPpp(options: PppOptions, env: PppEnvironment): Promise<LinuxPppLink> {
  checkPppOptions(options);
  const tuning = { ...DEFAULTS, ...definedOnly(env.tuning ?? {}) };
  const pppd = findPppd(env.tuning?.pppdPath);
  const content = formatPppdOptionsFile(options);
  const dir = makePrivateDir(env.tuning?.runtimeDir);
  let stdinFd: number | undefined;
  try {
    let optionsFile: string | undefined;
    if (content !== undefined) {
      optionsFile = join(dir, 'options');
      writeFileSync(optionsFile, content, { mode: 0o600, flag: 'wx' });
    }
    const args = buildPppdArgs({
      device: options.device,
      usePeerDns: options.usePeerDns,
      noScriptPath: join(dir, 'no-such-script'),
      lcpEchoIntervalS: tuning.lcpEchoIntervalS,
      lcpEchoFailure: tuning.lcpEchoFailure,
      ...(optionsFile !== undefined ? { optionsFile } : {}),
    });
    if (env.port && !env.port.closed) stdinFd = await env.port.handOver();
    const stdin = stdinFd ?? 'ignore';
    const child = inNetns(env.netns, () => spawn(pppd, args, { stdio: [stdin, 'pipe', 'pipe'] }));
    if (stdinFd !== undefined) closeSync(stdinFd);
    stdinFd = undefined;
    const forget = recordChild('pppd', portKey(options.device), child.pid);
    // A spawn that failed has no pid, so nothing was recorded.
    child.once('close', forget);
    return new LinuxPppLink(child, { options, dir, port: env.port, hasAddress: env.hasAddress, stopTimeoutMs: tuning.stopTimeoutMs });
  } catch (err) {
    if (stdinFd !== undefined) closeSync(stdinFd);
    rmSync(dir, { recursive: true, force: true });
    if (env.port?.handedOver) void env.port.reclaim();
    throw err instanceof NicupError ? err : new PlatformError(`start pppd on ${options.device}: ${(err as Error).message}`, { cause: err });
  }
}

export interface PppUp {
  local: string;
  remote: string;
  dns: string[];
}

interface LinkContext {
  options: PppOptions;
  dir: string;
  port: LinuxSerialPort | undefined;
  hasAddress: (ifname: string, address: string) => Promise<boolean>;
  stopTimeoutMs: number;
}

export class LinuxPppLink implements PppLink {
  readonly ifname: Promise<string>;
  readonly up: Promise<PppUp>;
  /** pppd's recent log lines (passwords masked), for diagnostics. */
  readonly log: string[] = [];
  readonly pid: number | undefined;

  private resolveIfname!: (name: string) => void;
  private rejectIfname!: (err: Error) => void;
  private resolveUp!: (up: PppUp) => void;
  private rejectUp!: (err: Error) => void;
  private readonly exitListeners = new Set<(code: number | null, reason: string) => void>();
  private exitResult: { code: number | null; reason: string } | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;
  private name: string | undefined;
  private local: string | undefined;
  private remote: string | undefined;
  private readonly dns: string[] = [];
  private checking = false;
  private settled = false;
  private settleTimer: NodeJS.Timeout | undefined;
  /** The first line that says why the link is ending (after `up`, or at all if it never came up). */
  private cause: string | undefined;
  private isUp = false;
  private causeAfterUp = false;
  private causeKnown = false;

  /** @internal use startPpp() */
  constructor(
    private readonly child: ChildProcess,
    private readonly ctx: LinkContext,
  ) {
    this.pid = child.pid;
    this.ifname = new Promise<string>((resolve, reject) => {
      this.resolveIfname = resolve;
      this.rejectIfname = reject;
    });
    this.up = new Promise<PppUp>((resolve, reject) => {
      this.resolveUp = resolve;
      this.rejectUp = reject;
    });
    // The owner may stop before awaiting these; a rejection nobody awaits must not crash the process.
    this.ifname.catch(() => {});
    this.up.catch(() => {});
    this.readLines(child.stdout);
    this.readLines(child.stderr);
    this.exited = new Promise<void>((resolve) => {
      let spawnError: Error | undefined;
      child.once('error', (err) => {
        spawnError = err;
        // 'close' may not follow a failed spawn.
        if (child.pid === undefined) this.finish(null, null, err).then(resolve, resolve);
      });
      child.once('close', (code, signal) => {
        if (this.exitResult) return resolve();
        this.finish(code, signal, spawnError).then(resolve, resolve);
      });
    });
  }

  onExit(listener: (code: number | null, reason: string) => void): void {
    const result = this.exitResult;
    if (result) {
      setImmediate(() => listener(result.code, result.reason));
      return;
    }
    this.exitListeners.add(listener);
  }

  /** SIGTERM (pppd closes LCP politely), SIGKILL if it has not ended in time; resolves once it has. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exitResult) return;
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), this.ctx.stopTimeoutMs);
      try {
        await this.exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.stopping;
  }

  private readLines(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return;
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        this.onLine(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
      if (pending.length > 4096) pending = '';
    });
    stream.on('end', () => {
      if (pending !== '') this.onLine(pending);
      pending = '';
    });
  }

  private onLine(raw: string): void {
    const line = this.mask(raw.replace(/\r$/, ''));
    if (line.trim() === '') return;
    this.log.push(line);
    if (this.log.length > KEPT_LOG_LINES) this.log.shift();
    const cause = pppdCause(line);
    if (cause !== undefined) {
      // The first cause since the link came up; a known one over a vague one.
      const known = isKnownCause(cause);
      if (this.cause === undefined || (this.isUp && !this.causeAfterUp) || (known && !this.causeKnown)) {
        this.cause = cause;
        this.causeAfterUp = this.isUp;
        this.causeKnown = known;
      }
    }
    const event = parsePppdLine(line);
    if (!event) {
      // Any other line after the IPCP block means the block is complete.
      if (this.local !== undefined) this.bumpSettle(0);
      return;
    }
    switch (event.type) {
      case 'interface':
        this.name = event.ifname;
        // pppd has parsed all its options by now: the credentials need not stay on disk.
        this.removeDir();
        this.resolveIfname(event.ifname);
        if (this.local !== undefined) void this.confirmUp();
        return;
      case 'local':
        this.local = event.address;
        void this.confirmUp();
        this.bumpSettle(DNS_SETTLE_MS);
        return;
      case 'remote':
        this.remote = event.address;
        this.bumpSettle(DNS_SETTLE_MS);
        return;
      case 'dns':
        if (!this.dns.includes(event.address)) this.dns.push(event.address);
        this.bumpSettle(this.dns.length >= 2 ? 0 : DNS_SETTLE_MS);
        return;
    }
  }

  /** The IPCP block is complete when both DNS lines came, or nothing more came for a moment. */
  private bumpSettle(delayMs: number): void {
    if (this.settled) return;
    clearTimeout(this.settleTimer);
    const wantsMore = this.remote === undefined || (this.ctx.options.usePeerDns && this.dns.length < 2);
    const wait = wantsMore ? delayMs : 0;
    this.settleTimer = setTimeout(() => {
      this.settled = true;
      this.maybeUp();
    }, wait);
  }

  private kernelConfirmed = false;

  private async confirmUp(): Promise<void> {
    if (this.checking || this.name === undefined || this.local === undefined) return;
    this.checking = true;
    const ifname = this.name;
    const local = this.local;
    for (let i = 0; i < ADDRESS_CHECK_TRIES && !this.exitResult; i++) {
      try {
        if (await this.ctx.hasAddress(ifname, local)) {
          this.kernelConfirmed = true;
          this.maybeUp();
          return;
        }
      } catch {
        // The link may not be visible yet; try again.
      }
      await new Promise((r) => setTimeout(r, ADDRESS_CHECK_INTERVAL_MS));
    }
    if (!this.exitResult) this.rejectUp(new PlatformError(`pppd: ${ifname} never showed address ${local}`));
  }

  private maybeUp(): void {
    if (!this.kernelConfirmed || !this.settled || this.local === undefined || this.exitResult) return;
    const dns = this.ctx.options.usePeerDns ? this.dns.slice(0, 2) : [];
    this.isUp = true;
    this.resolveUp({ local: this.local, remote: this.remote ?? this.local, dns });
  }

  private async finish(code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): Promise<void> {
    if (this.exitResult) return;
    clearTimeout(this.settleTimer);
    const reason = spawnError && code === null ? `pppd could not be started: ${spawnError.message}` : pppdEndReason(code, signal, this.cause);
    this.exitResult = { code, reason };
    this.removeDir();
    const err = new ClosedError(`pppd exited: ${reason}`);
    this.rejectIfname(err);
    this.rejectUp(err);
    // The tty is free now: the AT port takes it back for the driver's next commands.
    void this.ctx.port?.reclaim();
    for (const l of [...this.exitListeners]) l(code, reason);
    this.exitListeners.clear();
  }

  private removeDir(): void {
    rmSync(this.ctx.dir, { recursive: true, force: true });
  }

  private mask(line: string): string {
    const secret = this.ctx.options.password;
    return secret ? line.split(secret).join('****') : line;
  }
}

// ---------------------------------------------------------------------------------------
// Platform glue: the Linux platform's AT ports and pppd sessions, so dispose() ends all.

export interface LinuxModemsOptions {
  netns?: string;
  tuning?: PppTuning;
  hasAddress(ifname: string, address: string): Promise<boolean>;
}

export class LinuxModems {
  private readonly ports = new Set<LinuxSerialPort>();
  private readonly links = new Set<LinuxPppLink>();

  constructor(private readonly options: LinuxModemsOptions) {}

  async openSerial(device: string, options: SerialOpenOptions = {}): Promise<ByteStream> {
    for (const p of this.ports) if (p.closed) this.ports.delete(p);
    checkDevicePath(device);
    // A pppd that a killed nicup left on this port holds the modem in data mode: AT would go into its PPP stream.
    await reapOrphans('pppd', portKey(device), { ...(options.log ? { log: options.log } : {}) });
    const port = await openSerial(device);
    this.ports.add(port);
    return port;
  }

  async startPpp(options: PppOptions): Promise<PppLink> {
    const port = [...this.ports].find((p) => p.device === options.device && !p.closed && !p.handedOver);
    if (!port) {
      checkPppOptions(options);
      await reapOrphans('pppd', portKey(options.device));
    }
    const link = await startPpp(options, {
      hasAddress: this.options.hasAddress,
      ...(this.options.netns !== undefined ? { netns: this.options.netns } : {}),
      ...(this.options.tuning !== undefined ? { tuning: this.options.tuning } : {}),
      ...(port ? { port } : {}),
    });
    this.links.add(link);
    link.onExit(() => this.links.delete(link));
    return link;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.links].map((l) => l.stop()));
    await Promise.all([...this.ports].map((p) => p.close()));
    this.ports.clear();
  }
}

// ---------------------------------------------------------------------------------------

/** What the child ledger calls a modem port: its real path, so that a by-id link and its ttyUSB name are one port. */
export function portKey(device: string): string {
  try {
    return realpathSync(device);
  } catch {
    return device;
  }
}

function checkPppOptions(o: PppOptions): void {
  if (typeof o !== 'object' || o === null) throw new ArgumentError('ppp options: must be an object', { field: 'ppp' });
  if (typeof o.device !== 'string' || !o.device.startsWith('/') || /[\s\0]/.test(o.device)) {
    throw new ArgumentError('device: must be an absolute path to the modem port, without spaces', { field: 'device' });
  }
  // Control characters would break the options file's one-word-per-value syntax.
  if (o.username !== undefined && (typeof o.username !== 'string' || hasControl(o.username) || o.username.length > 255)) {
    throw new ArgumentError('username: must be at most 255 characters without control characters', { field: 'username' });
  }
  if (o.password !== undefined && (typeof o.password !== 'string' || hasControl(o.password) || o.password.length > 255)) {
    throw new ArgumentError('password: must be at most 255 characters without control characters', { field: 'password' });
  }
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** pppd is often in sbin, which a non-root PATH lacks. */
export function findPppd(explicit?: string, pathEnv: string = process.env['PATH'] ?? ''): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new PlatformError(`pppd: ${explicit} does not exist`);
    return explicit;
  }
  const dirs = [...pathEnv.split(delimiter).filter((d) => d !== ''), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'pppd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new PlatformError('pppd not found on PATH, /usr/sbin or /sbin (Debian package ppp)');
}

/** A fresh directory only root (our user) can enter: mkdtemp makes it 0700. */
export function makePrivateDir(base?: string): string {
  const root = base ?? (isWritableDir('/run') ? '/run' : tmpdir());
  const dir = mkdtempSync(join(root, 'nicup-ppp-'));
  const mode = statSync(dir).mode & 0o777;
  if (mode !== 0o700) {
    rmSync(dir, { recursive: true, force: true });
    throw new PlatformError(`pppd: private directory under ${root} has mode ${mode.toString(8)}, want 700`);
  }
  return dir;
}

function isWritableDir(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
