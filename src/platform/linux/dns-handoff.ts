/**
 * Handing an interface's DNS servers to the system's resolver — opt-in (driver option
 * `dnsHandoff`); by default nicup never touches name resolution. systemd-resolved gets
 * them per link (`resolvectl dns/domain`, undone with `resolvectl revert`), resolvconf as
 * the interface's own record (`resolvconf -a IFACE.nicup`, undone with `-d`). Commands run
 * with argument arrays, never through a shell.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PlatformError } from '../../errors.js';

export type DnsHandoff = 'resolved' | 'resolvconf' | 'auto';

function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const d of [...path.split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** Which mechanism serves here: resolved when resolvectl and a running resolved exist, else resolvconf. */
export function pickDnsHandoff(want: DnsHandoff, runDir = '/run/systemd/resolve'): 'resolved' | 'resolvconf' | undefined {
  const resolved = which('resolvectl') && existsSync(runDir) ? 'resolved' : undefined;
  const resolvconf = which('resolvconf') ? 'resolvconf' : undefined;
  if (want === 'resolved') return resolved;
  if (want === 'resolvconf') return resolvconf;
  return resolved ?? resolvconf;
}

function run(file: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdin closed unless there is input: a command waiting on stdin must not hang us.
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
    if (input !== undefined) child.stdin?.end(input);
  });
}

export async function setDns(mechanism: 'resolved' | 'resolvconf', ifname: string, servers: string[], domain?: string): Promise<void> {
  try {
    if (mechanism === 'resolved') {
      await run(which('resolvectl')!, ['dns', ifname, ...servers]);
      if (domain) await run(which('resolvectl')!, ['domain', ifname, domain]);
    } else {
      const text = [...(domain ? [`search ${domain}`] : []), ...servers.map((s) => `nameserver ${s}`)].join('\n') + '\n';
      await run(which('resolvconf')!, ['-a', `${ifname}.nicup`], text);
    }
  } catch (err) {
    throw new PlatformError(`${ifname}: DNS hand-off to ${mechanism} failed: ${(err as Error).message}`, { cause: err });
  }
}

export async function clearDns(mechanism: 'resolved' | 'resolvconf', ifname: string): Promise<void> {
  try {
    if (mechanism === 'resolved') await run(which('resolvectl')!, ['revert', ifname]);
    else await run(which('resolvconf')!, ['-d', `${ifname}.nicup`]);
  } catch {
    // Best effort: the link may be gone, or the resolver restarted.
  }
}
