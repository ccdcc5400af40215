/**
 * The daemons nicup starts (pppd on a modem port, wpa_supplicant on a WiFi interface),
 * kept on disk while they run, so that the next nicup can stop the ones a killed nicup
 * left behind. A daemon outlives a SIGKILLed parent: an orphaned pppd keeps the modem in
 * data mode (every AT command the next start sends goes into the PPP stream, so the modem
 * seems silent for ever), an orphaned wpa_supplicant keeps the old network and key.
 *
 * One file per daemon, in /run/nicup/children (tmpfs: a reboot clears it and the daemons),
 * NICUP_CHILDREN_DIR to put it elsewhere:
 *   <kind>-<owner pid>-<pid>.json  { version, kind, key, ownerPid, ownerStart, pid, start }
 * `key` names what the daemon holds: the modem port's real path for pppd, the namespace
 * inode and interface name for wpa_supplicant. Written right after the spawn, removed
 * when the daemon exits.
 *
 * reapOrphans(kind, key): for each file of that kind and key whose owner is gone (no such
 * pid, or the pid is another process now: its start time differs) and whose daemon still
 * runs (same pid and start time, so a reused pid is never signalled), SIGTERM — pppd then
 * ends the call with an LCP Terminate and its last close of the tty drops DTR — then
 * SIGKILL if it lingers. Files of live owners are left alone; files whose daemon is gone
 * are removed. Like the address ledger it never stops networking: errors are logged.
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../../core/leftovers.js';

export const DEFAULT_CHILDREN_DIR = '/run/nicup/children';

export type ChildKind = 'pppd' | 'wpa_supplicant';

export interface ChildRecord {
  version: 1;
  kind: ChildKind;
  key: string;
  ownerPid: number;
  ownerStart: string;
  pid: number;
  start: string;
}

export interface ChildLedgerOptions {
  /** Default NICUP_CHILDREN_DIR, else /run/nicup/children. */
  dir?: string;
  log?: (message: string) => void;
}

export interface ReapOptions extends ChildLedgerOptions {
  /** How long an orphan gets to end after SIGTERM before SIGKILL (pppd waits for the peer's Terminate-Ack). */
  termWaitMs?: number;
}

/** A reaped daemon: its pid and how it ended. */
export interface Reaped {
  pid: number;
  signal: 'SIGTERM' | 'SIGKILL';
}

const DEFAULT_TERM_WAIT_MS = 5000;
const KILL_WAIT_MS = 2000;
const POLL_MS = 25;

function ledgerDir(options: ChildLedgerOptions): string {
  return options.dir ?? (process.env['NICUP_CHILDREN_DIR'] || DEFAULT_CHILDREN_DIR);
}

/**
 * Records a daemon this process started; returns the function that forgets it (call it
 * when the daemon has exited). Without /proc or a writable directory nothing is recorded.
 */
export function recordChild(kind: ChildKind, key: string, pid: number | undefined, options: ChildLedgerOptions = {}): () => void {
  const log = options.log ?? (() => {});
  if (pid === undefined) return () => {};
  const ownerStart = processStartTime(process.pid);
  const start = processStartTime(pid);
  if (ownerStart === undefined || start === undefined) return () => {};
  const dir = ledgerDir(options);
  const file = join(dir, `${kind}-${process.pid}-${pid}.json`);
  const record: ChildRecord = { version: 1, kind, key, ownerPid: process.pid, ownerStart, pid, start };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    // Write then rename: a reader (or a crash) never sees half a file.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    log(`children: cannot keep ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); if this process is killed, ${kind} ${pid} will not be stopped by the next start`);
    return () => {};
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    removeFile(file);
  };
}

/** Stops the daemons of `kind` holding `key` whose nicup is gone; resolves with what it stopped. */
export async function reapOrphans(kind: ChildKind, key: string, options: ReapOptions = {}): Promise<Reaped[]> {
  const dir = ledgerDir(options);
  const log = options.log ?? (() => {});
  const reaped: Reaped[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(`${kind}-`) && n.endsWith('.json'));
  } catch {
    return reaped; // no directory: nothing was ever recorded
  }
  for (const name of names) {
    const path = join(dir, name);
    const rec = readRecord(path);
    if (rec === undefined) {
      log(`children: ${name} is not a record of ours; removed`);
      removeFile(path);
      continue;
    }
    if (rec.kind !== kind || rec.key !== key) continue;
    if (processStartTime(rec.ownerPid) === rec.ownerStart) continue; // its nicup still runs
    if (isRunning(rec.pid, rec.start)) {
      log(`children: ${kind} ${rec.pid} on ${key} was left by nicup ${rec.ownerPid}, which is gone; stopping it`);
      const signal = await stop(rec.pid, rec.start, options.termWaitMs ?? DEFAULT_TERM_WAIT_MS);
      if (signal === undefined) {
        log(`children: ${kind} ${rec.pid} did not end after SIGKILL; kept on record`);
        continue;
      }
      reaped.push({ pid: rec.pid, signal });
    }
    removeFile(path);
  }
  return reaped;
}

/** The live daemon `pid` started at `start` (a zombie has ended: only its parent's wait is missing). */
function isRunning(pid: number, start: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[0] !== 'X' && fields[19] === start;
  } catch {
    return false;
  }
}

async function stop(pid: number, start: string, termWaitMs: number): Promise<Reaped['signal'] | undefined> {
  for (const [signal, waitMs] of [['SIGTERM', termWaitMs], ['SIGKILL', KILL_WAIT_MS]] as const) {
    if (!isRunning(pid, start)) return signal;
    try {
      process.kill(pid, signal);
    } catch {
      // ESRCH: it ended between the check and the signal.
    }
    const deadline = performance.now() + waitMs;
    while (isRunning(pid, start) && performance.now() < deadline) await sleep(POLL_MS);
    if (!isRunning(pid, start)) return signal;
  }
  return undefined;
}

function readRecord(path: string): ChildRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.version !== 1 || (r.kind !== 'pppd' && r.kind !== 'wpa_supplicant') || typeof r.key !== 'string') return undefined;
  if (!isPid(r.ownerPid) || !isPid(r.pid) || typeof r.ownerStart !== 'string' || typeof r.start !== 'string') return undefined;
  return { version: 1, kind: r.kind, key: r.key, ownerPid: r.ownerPid, ownerStart: r.ownerStart, pid: r.pid, start: r.start };
}

function isPid(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) > 1;
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
