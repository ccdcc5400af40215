/**
 * Child processes the benchmark starts itself (peers, workers): each in its own process
 * group, so that stopping it also stops what it forked (dhcpcd's privilege-separated
 * helpers), and all of them are killed if the benchmark exits early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `re` (rejects if the child exits first). */
  line(re: RegExp, timeoutMs: number): Promise<string>;
  /** Kills the whole process group and waits until every member is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<number>();
let exitHook = false;

/**
 * True while a process of the group is still running. Zombies do not count: once killed,
 * the members a peer forked (dhclient's script, dhcpcd's helpers) are reparented to PID 1,
 * which may reap them late, and kill(-pgid, 0) would still find them.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') return true;
  }
  return false;
}

export function startChild(argv: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Child {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const pgid of live) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }
  const [bin, ...args] = argv;
  if (!bin) throw new Error('startChild: empty argv');
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(options.env ? { env: options.env } : {}) });
  const pid = child.pid ?? -1;
  if (pid > 0) live.add(pid);
  let out = '';
  let err = '';
  const lineWaiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of [...lineWaiters]) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of [...lineWaiters]) w();
      resolve({ code, signal });
    });
    child.once('error', (e) => {
      err += String(e);
      resolve({ code: -1, signal: null });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid,
    process: child,
    exited,
    stdout: () => out,
    stderr: () => err,
    line: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = out.split('\n').find((l) => re.test(l));
          if (hit !== undefined) {
            finish();
            resolve(hit);
          } else if (done) {
            finish();
            reject(new Error(`${bin} exited before printing ${re}: ${err.trim().slice(-500)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${bin}: no line matching ${re} within ${timeoutMs} ms: ${err.trim().slice(-500)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          lineWaiters.delete(check);
        };
        lineWaiters.add(check);
        check();
      }),
    stop: async (signal = 'SIGKILL') => {
      if (pid <= 0) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
      const deadline = performance.now() + 2000;
      while (groupAlive(pid) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      if (groupAlive(pid)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await exited;
      for (let i = 0; i < 1000 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 2));
      live.delete(pid);
    },
  };
}

/** Runs a worker to completion and returns its RESULT line, parsed. */
export async function runWorker<T>(argv: readonly string[], timeoutMs: number): Promise<T> {
  const c = startChild(argv);
  const timer = setTimeout(() => void c.stop(), timeoutMs);
  const { code, signal } = await c.exited;
  clearTimeout(timer);
  await c.stop();
  const line = c.stdout().split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) {
    throw new Error(`worker ${argv.slice(-2, -1).join(' ')} failed (exit ${code ?? signal}): ${c.stderr().trim().slice(-1500)}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as T;
}
