/**
 * Proof that the benchmark left the host alone: the root namespace's links, addresses,
 * routes and rules, /etc/resolv.conf byte for byte, the hostname, and whether /etc/netns
 * exists, before and after.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { findBinary } from '../../test/lab/netns.js';

export interface HostSnapshot {
  resolvConfSha256: string;
  resolvConfLink: string | null;
  hostname: string;
  etcNetnsExists: boolean;
  /** Normalized `ip -j` output of the root namespace, by query. */
  ip: Record<string, string>;
}

const IP_QUERIES: Record<string, string[]> = {
  links: ['-j', 'link', 'show'],
  addresses4: ['-j', '-4', 'addr', 'show'],
  addresses6: ['-j', '-6', 'addr', 'show'],
  routes4: ['-j', '-4', 'route', 'show', 'table', 'all'],
  routes6: ['-j', '-6', 'route', 'show', 'table', 'all'],
  rules4: ['-j', '-4', 'rule', 'show'],
};

/** Fields that change by themselves (counters, timers) are dropped before comparing. */
function normalize(json: string): string {
  const drop = new Set(['stats', 'stats64', 'valid_life_time', 'preferred_life_time', 'expires', 'cacheinfo']);
  return JSON.stringify(JSON.parse(json || '[]'), (k, v: unknown) => (drop.has(k) ? undefined : v));
}

export function snapshotHost(): HostSnapshot {
  const ip = findBinary('ip');
  const out: Record<string, string> = {};
  for (const [name, args] of Object.entries(IP_QUERIES)) {
    const r = spawnSync(ip, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`host guard: ip ${args.join(' ')} failed: ${r.stderr}`);
    out[name] = normalize(r.stdout);
  }
  const resolv = '/etc/resolv.conf';
  return {
    resolvConfSha256: existsSync(resolv) ? createHash('sha256').update(readFileSync(resolv)).digest('hex') : 'absent',
    resolvConfLink: lstatSync(resolv, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(resolv) : null,
    hostname: hostname(),
    etcNetnsExists: existsSync('/etc/netns'),
    ip: out,
  };
}

/** The differences, as sentences; empty when the host is as it was. */
export function compareHost(before: HostSnapshot, after: HostSnapshot): string[] {
  const diffs: string[] = [];
  if (before.resolvConfSha256 !== after.resolvConfSha256) diffs.push('/etc/resolv.conf changed');
  if (before.resolvConfLink !== after.resolvConfLink) diffs.push('/etc/resolv.conf symlink changed');
  if (before.hostname !== after.hostname) diffs.push(`hostname changed: ${before.hostname} -> ${after.hostname}`);
  if (before.etcNetnsExists !== after.etcNetnsExists) diffs.push('/etc/netns appeared or vanished');
  for (const k of Object.keys(before.ip)) if (before.ip[k] !== after.ip[k]) diffs.push(`root namespace ${k} changed`);
  return diffs;
}
