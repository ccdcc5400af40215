/**
 * What nicup has put on a link, kept on disk while it is there, so that the next nicup to
 * configure that link removes what a killed process left behind (SIGKILL, OOM killer, a
 * crash: no chance to undo). Linux only: the simulator's world dies with its process.
 *
 * One file per process and link, in /run/nicup/leftovers (tmpfs: a reboot clears it, as it
 * clears the kernel's addresses and routes), NICUP_LEFTOVERS_DIR to put it elsewhere:
 *   <netns inode>-<ifname>-<pid>.json  { version, pid, startTime, netns, ifname, addresses, routes }
 * An entry is written BEFORE the kernel call that adds the thing and dropped AFTER the call
 * that removes it, so the file always covers what may be on the link. A crash between the
 * two leaves an entry for something absent; removing it again is harmless (the platform's
 * removals are idempotent). The file goes when the last entry does.
 *
 * reclaim(): a file whose process is gone — no such pid, or the pid now belongs to another
 * process (its start time differs) — is undone: its routes, then its addresses, then the
 * file. Files of live processes (another nicup on the same link, or this one) are left alone.
 * The ledger never stops networking: if the directory cannot be written it logs once and
 * stays off.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Ipv4Address, Ipv4Route, Platform } from '../platform/contract.js';

export const DEFAULT_LEFTOVERS_DIR = '/run/nicup/leftovers';

export interface LeftoverRecord {
  version: 1;
  pid: number;
  /** Field 22 of /proc/PID/stat: tells a reused pid from the process that wrote the file. */
  startTime: string;
  /** Inode of the network namespace (nsfs): the same ifname in two namespaces is two links. */
  netns: number;
  ifname: string;
  addresses: Ipv4Address[];
  routes: Ipv4Route[];
}

export interface ReclaimResult {
  /** Files of dead processes found for this link. */
  files: number;
  addresses: Ipv4Address[];
  routes: Ipv4Route[];
}

export interface LedgerOptions {
  dir?: string;
  log?: (message: string) => void;
  /** Where the link lives: a named namespace (/run/netns/NAME), else this thread's. */
  netns?: string;
}

/** A ledger for a link on a Linux platform; undefined on any other platform. */
export function ledgerFor(platform: Platform, ifname: string, log: (message: string) => void): LeftoverLedger | undefined {
  if (platform.name !== 'linux') return undefined;
  const netns = (platform as { netns?: unknown }).netns;
  return LeftoverLedger.open(ifname, {
    dir: process.env.NICUP_LEFTOVERS_DIR || DEFAULT_LEFTOVERS_DIR,
    log,
    ...(typeof netns === 'string' ? { netns } : {}),
  });
}

export class LeftoverLedger {
  private readonly addresses = new Map<string, Ipv4Address>();
  private readonly routes = new Map<string, Ipv4Route>();
  private broken = false;
  private written = false;
  private dirReady = false;

  private constructor(
    readonly file: string,
    private readonly dir: string,
    private readonly record: Omit<LeftoverRecord, 'addresses' | 'routes'>,
    private readonly log: (message: string) => void,
  ) {}

  /** Undefined when this process's identity cannot be read (no /proc): nothing is recorded then. */
  static open(ifname: string, options: LedgerOptions = {}): LeftoverLedger | undefined {
    const dir = options.dir ?? DEFAULT_LEFTOVERS_DIR;
    const log = options.log ?? (() => {});
    const startTime = processStartTime(process.pid);
    const netns = namespaceInode(options.netns);
    if (startTime === undefined || netns === undefined || !/^[^/\s:]{1,15}$/.test(ifname)) return undefined;
    const file = join(dir, `${netns}-${ifname}-${process.pid}.json`);
    return new LeftoverLedger(file, dir, { version: 1, pid: process.pid, startTime, netns, ifname }, log);
  }

  /** Entries now on record (for tests and diagnostics). */
  get entries(): { addresses: Ipv4Address[]; routes: Ipv4Route[] } {
    return { addresses: [...this.addresses.values()], routes: [...this.routes.values()] };
  }

  /** Call before adding `a` to the link. */
  addingAddress(a: Ipv4Address): void {
    const k = addressKey(a);
    if (this.addresses.has(k)) return;
    this.addresses.set(k, { address: a.address, prefixLength: a.prefixLength });
    this.save();
  }

  /** Call once `a` is off the link (or was never added). */
  removedAddress(a: Ipv4Address): void {
    if (this.addresses.delete(addressKey(a))) this.save();
  }

  addingRoute(r: Ipv4Route): void {
    const k = routeKey(r);
    if (this.routes.has(k)) return;
    this.routes.set(k, copyRoute(r));
    this.save();
  }

  removedRoute(r: Ipv4Route): void {
    if (this.routes.delete(routeKey(r))) this.save();
  }

  /** Undoes what dead processes recorded for this link (routes first: they hang on the addresses). */
  async reclaim(platform: Pick<Platform, 'removeAddress' | 'removeRoute'>): Promise<ReclaimResult> {
    const result: ReclaimResult = { files: 0, addresses: [], routes: [] };
    const prefix = `${this.record.netns}-${this.record.ifname}-`;
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
    } catch {
      return result; // no directory: nothing was ever recorded here
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (path === this.file) continue;
      const rec = readRecord(path);
      if (rec === 'unreadable') continue;
      if (rec === undefined || rec.netns !== this.record.netns || rec.ifname !== this.record.ifname) {
        this.log(`leftovers: ${name} is not a ledger of this link; removed`);
        removeFile(path);
        continue;
      }
      if (processStartTime(rec.pid) === rec.startTime) continue; // its writer still runs
      result.files++;
      let failed = false;
      for (const r of rec.routes) {
        try {
          await platform.removeRoute(rec.ifname, r);
          result.routes.push(r);
        } catch (e) {
          failed = true;
          this.log(`leftovers: remove route ${r.destination}/${r.prefixLength} of dead pid ${rec.pid}: ${(e as Error).message}`);
        }
      }
      for (const a of rec.addresses) {
        try {
          await platform.removeAddress(rec.ifname, a);
          result.addresses.push(a);
        } catch (e) {
          failed = true;
          this.log(`leftovers: remove address ${a.address}/${a.prefixLength} of dead pid ${rec.pid}: ${(e as Error).message}`);
        }
      }
      // Kept when something could not be removed: the next open tries again.
      if (!failed) removeFile(path);
    }
    return result;
  }

  private save(): void {
    if (this.broken) return;
    try {
      if (this.addresses.size === 0 && this.routes.size === 0) {
        if (this.written) removeFile(this.file);
        this.written = false;
        return;
      }
      if (!this.dirReady) makePrivateDir(this.dir);
      this.dirReady = true;
      const body: LeftoverRecord = { ...this.record, addresses: [...this.addresses.values()], routes: [...this.routes.values()] };
      // Write then rename: a reader (or a crash) never sees half a file.
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(body)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
      this.written = true;
    } catch (e) {
      this.broken = true;
      this.log(`leftovers: cannot keep ${this.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); a killed nicup's addresses on ${this.record.ifname} would not be cleaned up`);
    }
  }
}

function addressKey(a: Ipv4Address): string {
  return `${a.address}/${a.prefixLength}`;
}

function routeKey(r: Ipv4Route): string {
  return `${r.destination}/${r.prefixLength} ${r.metric ?? 0}`;
}

function copyRoute(r: Ipv4Route): Ipv4Route {
  const out: Ipv4Route = { destination: r.destination, prefixLength: r.prefixLength };
  if (r.gateway !== undefined) out.gateway = r.gateway;
  if (r.metric !== undefined) out.metric = r.metric;
  if (r.source !== undefined) out.source = r.source;
  return out;
}

const QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const isQuad = (v: unknown): v is string => typeof v === 'string' && QUAD.test(v);
const isPrefix = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 32;

/** A record as written by save(), checked field by field (a file we did not write is not acted on). */
function readRecord(path: string): LeftoverRecord | undefined | 'unreadable' {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === undefined ? undefined : 'unreadable';
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.version !== 1 || !Number.isInteger(r.pid) || typeof r.startTime !== 'string' || !Number.isInteger(r.netns) || typeof r.ifname !== 'string') return undefined;
  if (!Array.isArray(r.addresses) || !Array.isArray(r.routes)) return undefined;
  const addresses: Ipv4Address[] = [];
  for (const a of r.addresses as unknown[]) {
    const x = a as Record<string, unknown> | null;
    if (!x || !isQuad(x.address) || !isPrefix(x.prefixLength)) return undefined;
    addresses.push({ address: x.address, prefixLength: x.prefixLength });
  }
  const routes: Ipv4Route[] = [];
  for (const a of r.routes as unknown[]) {
    const x = a as Record<string, unknown> | null;
    if (!x || !isQuad(x.destination) || !isPrefix(x.prefixLength)) return undefined;
    if ((x.gateway !== undefined && !isQuad(x.gateway)) || (x.source !== undefined && !isQuad(x.source))) return undefined;
    if (x.metric !== undefined && !(Number.isInteger(x.metric) && (x.metric as number) >= 0)) return undefined;
    routes.push(copyRoute(x as unknown as Ipv4Route));
  }
  return { version: 1, pid: r.pid as number, startTime: r.startTime, netns: r.netns as number, ifname: r.ifname, addresses, routes };
}

/** Field 22 of /proc/PID/stat (clock ticks since boot); undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Inode of a named network namespace (/run/netns/NAME), else of this thread's. */
export function namespaceInode(netns: string | undefined): number | undefined {
  try {
    return statSync(netns === undefined ? '/proc/thread-self/ns/net' : `/run/netns/${netns}`).ino;
  } catch {
    return undefined;
  }
}

function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
