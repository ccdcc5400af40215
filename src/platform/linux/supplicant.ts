/**
 * wpa_supplicant's control interface on Linux (hostap 2.x, wpa_supplicant/ctrl_iface_unix.c).
 *
 * openSupplicant() attaches to a daemon that already serves the interface (its control
 * socket answers PING with PONG) and leaves its lifetime alone; otherwise it starts one of
 * its own: a private 0700 directory, a config without network blocks (networks and keys
 * arrive over the socket, so no key lands in a file), `wpa_supplicant -i IF -c CONF -D
 * nl80211,wext` from an argument array, inside the platform's namespace when it has one.
 *
 * Like wpa_cli, two Unix datagram sockets talk to the daemon's socket: one for
 * request/reply (one request at a time; a timeout rejects and re-syncs by moving to a fresh
 * socket, so a late reply can never be taken for the next one), one for ATTACH and the
 * "<N>..." event lines that follow it. Request text is never logged here: it can carry a
 * key (the caller logs its redacted form). The daemon's output reaches the debug log only
 * through redactEventLine (WPS-CRED-RECEIVED carries the network key).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ArgumentError, ClosedError, NotSupportedError, PlatformError, TimeoutError } from '../../errors.js';
import { defaultLogger } from '../../core/log.js';
import { redactEventLine } from '../../protocols/wpa/event-decoder.js';
import { renderSupplicantConf } from '../../protocols/wpa/command-encoder.js';
import type { SupplicantControl, SupplicantOptions } from '../contract.js';
import { UnixDgramSocket } from './unix-dgram.js';
import { reapOrphans, recordChild } from './child-ledger.js';
import { namespaceInode } from '../../core/leftovers.js';

/** Where system wpa_supplicant daemons keep their control sockets (Debian's default and the old path). */
export const SYSTEM_CONTROL_DIRS: readonly string[] = ['/run/wpa_supplicant', '/var/run/wpa_supplicant'];
/** Parent of nicup's private directories. */
export const DEFAULT_RUN_DIR = '/run/nicup';

const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** Under QEMU/TCG the daemon can take a few seconds to create its socket. */
const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_LIVENESS_INTERVAL_MS = 5000;
const PROBE_TIMEOUT_MS = 1000;
const ENOENT = 2;
const ECONNREFUSED = 111;
const START_POLL_MS = 50;
/** Consecutive request timeouts after which the daemon counts as gone. */
const TIMEOUTS_BEFORE_GONE = 3;
/** close(): how long TERMINATE and then SIGTERM get before the next step. */
const TERMINATE_WAIT_MS = 2000;
const SIGTERM_WAIT_MS = 1000;
/** Daemon output kept for the error message when it fails to start. */
const KEPT_OUTPUT_LINES = 8;

export interface LinuxSupplicantOptions extends SupplicantOptions {
  /** Named network namespace to start wpa_supplicant in (`ip netns exec NAME`). */
  netns?: string;
  /**
   * The interface's MAC: a running daemon is attached only if its STATUS `address=`
   * matches, so a daemon serving a same-named interface in another namespace is left alone.
   */
  mac?: string;
  /** Parent of the private directories (default /run/nicup). */
  runDir?: string;
  /** The child ledger's directory (child-ledger.ts; default NICUP_CHILDREN_DIR or /run/nicup/children). */
  childrenDir?: string;
  /** Control directories of system daemons to look in (default /run and /var/run wpa_supplicant). */
  searchDirs?: readonly string[];
  /** Debug log for lifecycle lines and the daemon's (redacted) output; default nicup's debug log. */
  log?: (message: string) => void;
  /** The program to run instead of wpa_supplicant, with leading arguments (tests use a fake daemon). */
  command?: readonly string[];
  /** Driver list given with -D (default "nl80211,wext"). */
  drivers?: string;
  requestTimeoutMs?: number;
  startTimeoutMs?: number;
  /** PING the daemon when nothing was exchanged for this long (detects a vanished socket). */
  livenessIntervalMs?: number;
  /** Called once when the connection is released (close(), or the daemon went away). */
  onReleased?: () => void;
}

/** Starts (or attaches to) wpa_supplicant for `ifname`. Rejects with a NicupError. */
export async function openSupplicant(ifname: string, options: LinuxSupplicantOptions = {}): Promise<LinuxSupplicantControl> {
  checkIfname(ifname);
  const runDir = options.runDir ?? DEFAULT_RUN_DIR;
  const log = options.log ?? debugLog();
  const ownDir = options.controlDir ?? join(runDir, `wpa-${safeName(ifname)}`);
  makePrivateDir(runDir);
  removeStaleClientDirs(runDir, log);
  // A daemon a killed nicup started here still has the old network (and key): stop it, start afresh.
  await reapOrphans('wpa_supplicant', daemonKey(ifname, options.netns), { log, termWaitMs: TERMINATE_WAIT_MS, ...(options.childrenDir !== undefined ? { dir: options.childrenDir } : {}) });
  const clientDir = mkdtempSync(join(runDir, `wpa-${safeName(ifname)}-client-${process.pid}-`));
  clientDirs.add(clientDir);
  try {
    const found = await findRunningDaemon(ifname, clientDir, options, ownDir);
    if (found) {
      log(`wpa_supplicant[${ifname}]: attached to the daemon at ${found}`);
      return await LinuxSupplicantControl.connect({ ifname, serverPath: found, clientDir, log, options });
    }
    return await startDaemon(ifname, ownDir, clientDir, log, options);
  } catch (e) {
    removeClientDir(clientDir);
    throw e;
  }
}

/**
 * A line of wpa_supplicant's stdout/stderr, safe for logs. Event lines there read
 * "wlan0: WPS-CRED-RECEIVED ..." (no "<N>"), so the part after the interface prefix is
 * redacted as an event line would be.
 */
export function redactDaemonLine(line: string): string {
  const m = /^([^\s:/]{1,15}): (.*)$/s.exec(line);
  if (m) return `${m[1]}: ${redactEventLine(`<3>${m[2] ?? ''}`).slice(3)}`;
  return redactEventLine(line);
}

interface ConnectParams {
  ifname: string;
  serverPath: string;
  clientDir: string;
  log: (message: string) => void;
  options: LinuxSupplicantOptions;
  /** Timeout of the first PING (short while waiting for a starting daemon). */
  pingTimeoutMs?: number;
  daemon?: OwnedDaemon;
}

interface OwnedDaemon {
  child: ChildProcess;
  /** The private directory (config, the daemon's socket); removed on close when we made it. */
  dir: string;
  removeDir: boolean;
  files: string[];
  exited: Promise<void>;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/** A control connection. `owned` when this process started the daemon (close() stops it). */
export class LinuxSupplicantControl implements SupplicantControl {
  readonly ifname: string;
  /** The daemon's control socket. */
  readonly controlPath: string;
  private readonly requests: ControlChannel;
  private readonly events: ControlChannel;
  private readonly eventListeners = new Set<(line: string) => void>();
  private readonly closeListeners = new Set<(err?: Error) => void>();
  private readonly log: (message: string) => void;
  private readonly requestTimeoutMs: number;
  private readonly daemon: OwnedDaemon | undefined;
  private readonly clientDir: string;
  private onReleased: (() => void) | undefined;
  private liveness: NodeJS.Timeout | undefined;
  private lastHeardMs = performance.now();
  private consecutiveTimeouts = 0;
  private attached = false;
  /** Set once the first PING was answered: failures before that only fail connect(). */
  private ready = false;
  private gone = false;
  private closing: Promise<void> | undefined;

  private constructor(params: ConnectParams) {
    this.ifname = params.ifname;
    this.controlPath = params.serverPath;
    this.log = params.log;
    this.daemon = params.daemon;
    this.clientDir = params.clientDir;
    this.onReleased = params.options.onReleased;
    this.requestTimeoutMs = params.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const hooks = (): ChannelHooks => ({
      event: (line) => this.deliver(line),
      heard: () => {
        this.lastHeardMs = performance.now();
        this.consecutiveTimeouts = 0;
      },
      timedOut: () => {
        if (++this.consecutiveTimeouts >= TIMEOUTS_BEFORE_GONE) this.lost(new PlatformError(`wpa_supplicant on ${this.ifname} stopped answering`));
      },
      unreachable: (err) => this.lost(err),
      resynced: (channel) => {
        // The daemon still sends events to the old socket's address (and drops it after
        // failures): attach the new one.
        if (channel === this.events && this.attached) void channel.request('ATTACH', this.requestTimeoutMs).catch(() => {});
      },
    });
    this.requests = new ControlChannel(params.clientDir, 'req', params.serverPath, hooks());
    this.events = new ControlChannel(params.clientDir, 'ev', params.serverPath, hooks());
  }

  /** Connects to a daemon whose socket answers PING; rejects (closing its own sockets) otherwise. */
  static async connect(params: ConnectParams): Promise<LinuxSupplicantControl> {
    const control = new LinuxSupplicantControl(params);
    try {
      const pong = await control.requests.request('PING', params.pingTimeoutMs ?? control.requestTimeoutMs);
      if (!pong.startsWith('PONG')) throw new PlatformError(`wpa_supplicant on ${params.ifname}: PING was not answered with PONG`);
    } catch (e) {
      control.requests.close();
      control.events.close();
      throw e;
    }
    control.ready = true;
    control.startLiveness(params.options.livenessIntervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS);
    return control;
  }

  /** True when this process started the daemon; close() then stops it. */
  get owned(): boolean {
    return this.daemon !== undefined;
  }

  /** The daemon's process id when we started it. */
  get pid(): number | undefined {
    return this.daemon?.child.pid;
  }

  /**
   * One command; resolves with the reply text. ATTACH, DETACH and LEVEL go over the event
   * socket (they are about the socket that sends them); everything else over the request
   * socket. The text may carry a key: it is never logged or put into an error.
   */
  request(command: string, timeoutMs: number = this.requestTimeoutMs): Promise<string> {
    if (this.gone || this.closing) return Promise.reject(new ClosedError(`wpa_supplicant on ${this.ifname}: control connection closed`));
    const verb = firstWord(command);
    if (verb === 'ATTACH' || verb === 'DETACH' || verb === 'LEVEL') {
      return this.events.request(command, timeoutMs).then((reply) => {
        if (reply.startsWith('OK') && verb !== 'LEVEL') this.attached = verb === 'ATTACH';
        return reply;
      });
    }
    return this.requests.request(command, timeoutMs);
  }

  onEvent(listener: (line: string) => void): void {
    this.eventListeners.add(listener);
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.add(listener);
  }

  /**
   * Our own daemon: TERMINATE, then SIGTERM, then SIGKILL, and its private directory
   * removed. An attached daemon: DETACH only. Either way our sockets and their directory
   * are removed. onClose does not fire for this.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopLiveness();
    const daemon = this.daemon;
    const wasGone = this.gone;
    if (!wasGone) {
      if (daemon) {
        if (daemon.exitInfo === undefined) {
          await this.requests.request('TERMINATE', PROBE_TIMEOUT_MS).catch(() => {});
          await stopProcess(daemon);
        }
      } else if (this.attached) {
        await this.events.request('DETACH', PROBE_TIMEOUT_MS).catch(() => {});
      }
    }
    this.release();
    if (daemon && !wasGone) this.log(`wpa_supplicant[${this.ifname}]: stopped`);
  }

  /** Closes the sockets and removes everything we created (idempotent). */
  private release(): void {
    this.stopLiveness();
    this.requests.close();
    this.events.close();
    removeClientDir(this.clientDir);
    const daemon = this.daemon;
    if (daemon) {
      if (daemon.exitInfo === undefined) daemon.child.kill('SIGKILL');
      removeDaemonFiles(daemon);
      ownedDaemons.delete(daemon);
    }
    const released = this.onReleased;
    this.onReleased = undefined;
    released?.();
  }

  /** The daemon went away: release, then tell the listeners once. */
  private lost(err: Error): void {
    if (!this.ready || this.gone || this.closing) return;
    this.gone = true;
    this.log(`wpa_supplicant[${this.ifname}]: gone: ${err.message}`);
    this.release();
    for (const l of this.closeListeners) setImmediate(() => l(err));
  }

  private deliver(line: string): void {
    if (this.gone || this.closing) return;
    for (const l of this.eventListeners) l(line);
    // An attached daemon that terminates says so; ours is also seen exiting.
    if (/^(?:IFNAME=\S+ )?<\d>CTRL-EVENT-TERMINATING\b/.test(line)) {
      setImmediate(() => this.lost(new PlatformError(`wpa_supplicant on ${this.ifname} terminated`)));
    }
  }

  private startLiveness(intervalMs: number): void {
    if (!(intervalMs > 0)) return;
    this.liveness = setInterval(() => {
      if (this.gone || this.closing || performance.now() - this.lastHeardMs < intervalMs || this.requests.busy) return;
      this.requests.request('PING', Math.min(this.requestTimeoutMs, intervalMs)).catch(() => {});
    }, intervalMs);
    this.liveness.unref();
  }

  private stopLiveness(): void {
    if (this.liveness !== undefined) clearInterval(this.liveness);
    this.liveness = undefined;
  }

  /** @internal startDaemon hands over the process it started. */
  static async connectOwned(params: ConnectParams & { daemon: OwnedDaemon }): Promise<LinuxSupplicantControl> {
    const control = await LinuxSupplicantControl.connect(params);
    const daemon = params.daemon;
    const onExit = (): void => {
      const info = daemon.exitInfo;
      control.lost(new PlatformError(`wpa_supplicant on ${control.ifname} exited (${info?.signal ? `signal ${info.signal}` : `code ${info?.code}`})`));
    };
    if (daemon.exitInfo !== undefined) onExit();
    else daemon.child.once('exit', onExit);
    return control;
  }
}

interface ChannelHooks {
  event(line: string): void;
  /** Any datagram arrived. */
  heard(): void;
  timedOut(): void;
  /** The daemon's socket is gone (ENOENT) or nobody reads it (ECONNREFUSED). */
  unreachable(err: Error): void;
  resynced(channel: ControlChannel): void;
}

interface PendingRequest {
  text: string;
  timeoutMs: number;
  resolve(reply: string): void;
  reject(err: Error): void;
}

/** One client socket: requests one at a time, replies matched in order, events passed on. */
class ControlChannel {
  private socket: UnixDgramSocket | undefined;
  private path = '';
  private generation = 0;
  private readonly queue: PendingRequest[] = [];
  private inFlight: { pending: PendingRequest; timer: NodeJS.Timeout } | undefined;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly serverPath: string,
    private readonly hooks: ChannelHooks,
  ) {
    this.bind();
  }

  get busy(): boolean {
    return this.inFlight !== undefined || this.queue.length > 0;
  }

  request(text: string, timeoutMs: number): Promise<string> {
    if (this.closed) return Promise.reject(new ClosedError('wpa_supplicant control connection closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ text, timeoutMs, resolve, reject });
      this.next();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unbind();
    const err = new ClosedError('wpa_supplicant control connection closed');
    if (this.inFlight) {
      clearTimeout(this.inFlight.timer);
      this.inFlight.pending.reject(err);
      this.inFlight = undefined;
    }
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  private bind(): void {
    this.generation += 1;
    this.path = join(this.dir, `${this.name}-${this.generation}`);
    const socket = new UnixDgramSocket(this.path);
    const generation = this.generation;
    socket.onMessage((data) => {
      if (generation === this.generation && !this.closed) this.received(data.toString('utf8'));
    });
    // Like the DHCP socket: the open interface (Network's keepAlive) holds the process, not this.
    socket.unref();
    this.socket = socket;
  }

  private unbind(): void {
    this.socket?.close();
    this.socket = undefined;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone with the directory.
    }
  }

  private received(text: string): void {
    this.hooks.heard();
    // Unsolicited lines start with "<level>" (or "IFNAME=" on the global socket); a reply never does.
    if (text.startsWith('<') || text.startsWith('IFNAME=')) {
      this.hooks.event(text);
      return;
    }
    const current = this.inFlight;
    if (!current) return; // A reply nobody waits for: dropped.
    clearTimeout(current.timer);
    this.inFlight = undefined;
    current.pending.resolve(text);
    this.next();
  }

  private next(): void {
    if (this.inFlight || this.closed) return;
    const pending = this.queue.shift();
    if (!pending) return;
    const verb = firstWord(pending.text);
    const timer = setTimeout(() => {
      if (this.inFlight?.pending !== pending) return;
      this.inFlight = undefined;
      pending.reject(new TimeoutError(`wpa_supplicant did not answer ${verb} within ${pending.timeoutMs} ms`));
      // A late reply would be taken for the next request's: move to a fresh socket.
      this.unbind();
      this.bind();
      this.hooks.resynced(this);
      this.hooks.timedOut();
      this.next();
    }, pending.timeoutMs);
    this.inFlight = { pending, timer };
    try {
      this.socket!.send(pending.text, this.serverPath);
    } catch (err) {
      clearTimeout(timer);
      this.inFlight = undefined;
      const errno = (err as { errno?: number }).errno;
      const why = errno === ENOENT ? 'no such socket' : errno === ECONNREFUSED ? 'nobody reads it' : (err as Error).message;
      const failure = new PlatformError(`wpa_supplicant control socket ${this.serverPath}: ${why} (sending ${verb})`, { cause: err });
      pending.reject(failure);
      if (errno === ENOENT || errno === ECONNREFUSED) this.hooks.unreachable(failure);
      this.next();
    }
  }
}

/** A live daemon's socket for this interface, or undefined. */
async function findRunningDaemon(ifname: string, clientDir: string, options: LinuxSupplicantOptions, ownDir: string): Promise<string | undefined> {
  const dirs = [...(options.controlDir !== undefined ? [options.controlDir] : []), ...(options.searchDirs ?? SYSTEM_CONTROL_DIRS), ownDir];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const path = join(dir, ifname);
    let real: string;
    try {
      if (!lstatSync(path).isSocket()) continue;
      real = realpathSync(path);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const probe = new ControlChannel(clientDir, `probe${seen.size}`, path, {
      event: () => {},
      heard: () => {},
      timedOut: () => {},
      unreachable: () => {},
      resynced: () => {},
    });
    try {
      if (!(await probe.request('PING', PROBE_TIMEOUT_MS)).startsWith('PONG')) continue;
      if (options.mac !== undefined) {
        const address = /^address=(\S+)$/m.exec(await probe.request('STATUS', PROBE_TIMEOUT_MS))?.[1];
        if (address !== undefined && address.toLowerCase() !== options.mac.toLowerCase()) continue;
      }
      return path;
    } catch {
      // A stale socket (ECONNREFUSED) or a daemon that does not answer: not ours to use.
    } finally {
      probe.close();
    }
  }
  return undefined;
}

async function startDaemon(
  ifname: string,
  dir: string,
  clientDir: string,
  log: (message: string) => void,
  options: LinuxSupplicantOptions,
): Promise<LinuxSupplicantControl> {
  const removeDir = options.controlDir === undefined || !existsSync(dir);
  // Nothing answered on our own socket path (findRunningDaemon): what is there is stale.
  if (options.controlDir === undefined) rmSync(dir, { recursive: true, force: true });
  else rmSync(join(dir, ifname), { force: true });
  makePrivateDir(dir);
  const conf = join(dir, 'wpa_supplicant.conf');
  writeFileSync(conf, renderSupplicantConf({ controlDir: dir }), { mode: 0o600 });

  const program = options.command ?? [findProgram('wpa_supplicant')];
  const args = [...program.slice(1), '-i', ifname, '-c', conf, '-D', options.drivers ?? 'nl80211,wext'];
  const argv = options.netns !== undefined ? [findProgram('ip'), 'netns', 'exec', options.netns, program[0]!, ...args] : [program[0]!, ...args];
  const output: string[] = [];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  // `ip netns exec` execs the program: the pid recorded is the daemon's.
  const forget = recordChild('wpa_supplicant', daemonKey(ifname, options.netns), child.pid, { log, ...(options.childrenDir !== undefined ? { dir: options.childrenDir } : {}) });
  child.once('exit', forget);
  const daemon: OwnedDaemon = {
    child,
    dir,
    removeDir,
    files: [conf, join(dir, ifname)],
    exitInfo: undefined,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        daemon.exitInfo = { code, signal };
        resolve();
      });
      child.once('error', (err) => {
        output.push(err.message);
        daemon.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    }),
  };
  ownedDaemons.add(daemon);
  // The open interface (Network's keepAlive) holds the process, not the daemon; an exit hook stops it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const raw of lines) {
        if (raw === '') continue;
        const line = redactDaemonLine(raw);
        output.push(line);
        if (output.length > KEPT_OUTPUT_LINES) output.shift();
        log(`wpa_supplicant[${ifname}]: ${line}`);
      }
    });
  }
  log(`wpa_supplicant[${ifname}]: started (pid ${child.pid ?? '?'}) with ${conf}${options.netns !== undefined ? ` in netns ${options.netns}` : ''}`);

  const fail = async (why: string): Promise<never> => {
    if (daemon.exitInfo === undefined) await stopProcess(daemon);
    removeDaemonFiles(daemon);
    ownedDaemons.delete(daemon);
    const tail = output.length > 0 ? `: ${output.join(' | ')}` : '';
    throw new PlatformError(`wpa_supplicant on ${ifname} ${why}${tail}`);
  };

  const socketPath = join(dir, ifname);
  const deadline = performance.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  while (true) {
    if (daemon.exitInfo !== undefined) {
      const info = daemon.exitInfo;
      return fail(`exited at start (${info.signal ? `signal ${info.signal}` : `code ${info.code}`})`);
    }
    if (existsSync(socketPath)) {
      try {
        return await LinuxSupplicantControl.connectOwned({ ifname, serverPath: socketPath, clientDir, log, options, pingTimeoutMs: PROBE_TIMEOUT_MS, daemon });
      } catch {
        // Not answering yet (the socket appears before the daemon reads it).
      }
    }
    if (performance.now() > deadline) return fail(`did not open its control socket within ${options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS} ms`);
    await Promise.race([daemon.exited, sleep(START_POLL_MS)]);
  }
}

async function stopProcess(daemon: OwnedDaemon): Promise<void> {
  if (daemon.exitInfo !== undefined) return;
  if (await exitsWithin(daemon, TERMINATE_WAIT_MS)) return;
  daemon.child.kill('SIGTERM');
  if (await exitsWithin(daemon, SIGTERM_WAIT_MS)) return;
  daemon.child.kill('SIGKILL');
  await daemon.exited;
}

function exitsWithin(daemon: OwnedDaemon, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    daemon.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function removeDaemonFiles(daemon: OwnedDaemon): void {
  if (daemon.removeDir) rmSync(daemon.dir, { recursive: true, force: true });
  else for (const f of daemon.files) rmSync(f, { force: true });
}

/** Daemons this process started and has not stopped yet, and our socket directories: cleaned up when the process exits. */
const ownedDaemons = new Set<OwnedDaemon>();
const clientDirs = new Set<string>();

/** The child ledger's name for a daemon serving `ifname`: the namespace matters (same name, other link). */
function daemonKey(ifname: string, netns: string | undefined): string {
  return `${namespaceInode(netns) ?? '?'}:${ifname}`;
}

/** Client socket directories (wpa-IF-client-PID-XXXXXX) whose process is gone: a killed nicup's. */
function removeStaleClientDirs(runDir: string, log: (message: string) => void): void {
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^wpa-.+-client-(\d+)-[^-]+$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    rmSync(join(runDir, name), { recursive: true, force: true });
    log(`wpa_supplicant: removed ${name}, left by nicup ${pid}, which is gone`);
  }
}

function removeClientDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  clientDirs.delete(dir);
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of ownedDaemons) {
      if (d.exitInfo === undefined) d.child.kill('SIGTERM');
      removeDaemonFiles(d);
    }
    for (const dir of clientDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  installExitHook();
}

/** A directory-name form of the interface name (renderSupplicantConf accepts [A-Za-z0-9._-]). */
function safeName(ifname: string): string {
  return /^[A-Za-z0-9._-]+$/.test(ifname) && ifname !== '.' && ifname !== '..' ? ifname : `x${Buffer.from(ifname).toString('hex')}`;
}

function checkIfname(name: string): void {
  if (typeof name !== 'string' || !/^[^/\s:]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new ArgumentError('interface: must be a Linux interface name (1-15 characters, no "/", ":" or spaces)', { field: 'interface' });
  }
}

function findProgram(name: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new NotSupportedError(`${name} not found on PATH or in /usr/sbin, /sbin (Debian: apt-get install ${name === 'ip' ? 'iproute2' : 'wpasupplicant'})`);
}

function firstWord(text: string): string {
  const word = /^\S{1,32}/.exec(text)?.[0] ?? '';
  // Only a command name can be printed: never anything that could be a value.
  return /^[A-Z][A-Z0-9_-]*$/.test(word) ? word : 'a command';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function debugLog(): (message: string) => void {
  const logger = defaultLogger();
  return (message) => logger.debug(message);
}
