/**
 * What this process holds, to prove a scenario left nothing behind: open descriptors
 * (/proc/self/fd), libuv handles and requests (process.getActiveResourcesInfo), child
 * processes still running, the lab's network namespaces, and this process's leftovers
 * ledgers under /run/nicup.
 * `leftBehind(before)` waits a moment for things closing asynchronously, then names
 * what is still there that was not before.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface ResourceSnapshot {
  fds: Map<string, string>;
  resources: Map<string, number>;
  children: Map<number, string>;
  namespaces: Set<string>;
  files: Set<string>;
}

function fds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the fd of readdir itself, closed by now
    }
  }
  return out;
}

function resources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Live descendants of this process (pid → command line). */
export function descendants(root = process.pid): Map<number, string> {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // a zombie holds nothing; its parent reaps it
      parent.set(Number(e), Number(fields[1]));
      cmd.set(Number(e), readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 160));
    } catch {
      // exited while we looked
    }
  }
  const out = new Map<number, string>();
  const isOurs = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  for (const pid of parent.keys()) if (pid !== root && isOurs(pid)) out.set(pid, cmd.get(pid) ?? '?');
  return out;
}

function list(dir: string, filter: (name: string) => boolean = () => true): string[] {
  try {
    return readdirSync(dir).filter(filter).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/**
 * nicup's runtime files that are this process's: its leftovers ledgers (named by pid).
 * Other processes (tests running beside this one) write under /run/nicup too, so the rest
 * of it cannot be told apart here; the scenarios check their own links' ledgers by name.
 */
export function nicupFiles(): Set<string> {
  return new Set(list('/run/nicup/leftovers', (n) => n.endsWith(`-${process.pid}.json`) || n.endsWith(`-${process.pid}.json.tmp`)));
}

export function snapshot(): ResourceSnapshot {
  return {
    fds: fds(),
    resources: resources(),
    children: descendants(),
    namespaces: new Set(list('/run/netns', (n) => n.startsWith(`nicup-${process.pid}-`))),
    files: nicupFiles(),
  };
}

/** Differences that mean something was left behind (empty when clean). */
export function diff(before: ResourceSnapshot, after: ResourceSnapshot): string[] {
  const out: string[] = [];
  const extraFds = [...after.fds].filter(([fd, target]) => before.fds.get(fd) !== target);
  if (after.fds.size > before.fds.size) {
    out.push(`descriptors: ${before.fds.size} → ${after.fds.size} (${extraFds.slice(0, 6).map(([fd, t]) => `${fd}→${t}`).join(', ')})`);
  }
  for (const [kind, n] of after.resources) {
    const was = before.resources.get(kind) ?? 0;
    if (n > was) out.push(`active ${kind}: ${was} → ${n}`);
  }
  for (const [pid, cmd] of after.children) if (!before.children.has(pid)) out.push(`process ${pid} still running: ${cmd}`);
  for (const ns of after.namespaces) if (!before.namespaces.has(ns)) out.push(`namespace ${ns}`);
  for (const f of after.files) if (!before.files.has(f)) out.push(`file ${f}`);
  return out;
}

/** Waits up to `ms` for everything to be released, then returns what was not. */
export async function leftBehind(before: ResourceSnapshot, ms = 3000): Promise<string[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const d = diff(before, snapshot());
    if (d.length === 0 || performance.now() > deadline) return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}
