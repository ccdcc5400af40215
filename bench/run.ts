/**
 * `npm run bench`: nicup against its peers on the real lab (network namespaces, veth pairs,
 * dnsmasq), side by side in one run, reported as ratios. Writes bench/results/latest.{json,md,svg}.
 * Needs root. Settings come from the environment (lib/context.ts); NICUP_BENCH_QUICK=1 is the
 * one-minute smoke version. Timings are reported, never asserted.
 *
 * Nothing outside the lab's namespaces is changed: the peers run in a mount namespace whose
 * /etc is an overlay (lib/jail.ts), and the root namespace and /etc/resolv.conf are compared
 * before and after (lib/host-guard.ts). Ctrl-C disposes the lab, the jail and every child.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createLab, requireRoot } from '../test/lab/netns.js';
import { settingsFromEnv, type BenchContext } from './lib/context.js';
import { compareHost, snapshotHost } from './lib/host-guard.js';
import { PeerJail } from './lib/jail.js';
import { buildJs } from './lib/js-build.js';
import { renderMarkdown } from './lib/report.js';
import { renderSvg } from './lib/chart.js';
import { benchBringup, type BringupResult } from './sections/bringup.js';
import { benchLinkLoss, type LinkLossResult } from './sections/link-loss.js';
import { benchUdp, type UdpResult } from './sections/udp.js';
import { benchMemory, type MemoryResult } from './sections/memory.js';
import { benchScale, type ScaleResult } from './sections/scale.js';

export interface BenchResults {
  startedAt: string;
  durationS: number;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; node: string; versions: Record<string, string>; loadAverage: { start: number[]; end: number[] } };
  settings: { runs: number; slowRuns: number; sections: string[] };
  /** The code measured: HEAD and the files under src/ that differ from it. */
  git: { commit: string; uncommittedSrc: string[] };
  bringup?: BringupResult;
  linkLoss?: LinkLossResult;
  udp?: UdpResult;
  memory?: MemoryResult;
  scale?: ScaleResult;
  errors: Record<string, string>;
  host: { unchanged: boolean; differences: string[] };
}

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..');

function versionOf(argv: string[], re: RegExp): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const m = re.exec(`${r.stdout}\n${r.stderr}`);
  return m?.[1] ?? 'unknown';
}

function gitState(): BenchResults['git'] {
  const git = (args: string[]) => spawnSync('git', ['-C', projectRoot, ...args], { encoding: 'utf8' }).stdout ?? '';
  return {
    commit: git(['rev-parse', '--short', 'HEAD']).trim() || 'unknown',
    uncommittedSrc: git(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .map((l) => l.slice(3).trim())
      .filter(Boolean),
  };
}

async function main(): Promise<number> {
  requireRoot();
  const settings = settingsFromEnv(join(here, 'results'));
  const started = performance.now();
  const log = (m: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  const before = snapshotHost();
  const workDir = mkdtempSync(join(tmpdir(), 'nicup-bench-'));
  const js = buildJs(projectRoot);
  const lab = await createLab();
  const jail = await PeerJail.create();
  process.on('exit', () => {
    js.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });
  const ctx: BenchContext = { lab, jail, js, workDir, settings, log };
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    durationS: 0,
    quick: settings.quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      loadAverage: { start: loadavg().map((l) => Math.round(l * 100) / 100), end: [] },
      versions: {
        dnsmasq: versionOf(['dnsmasq', '--version'], /Dnsmasq version (\S+)/),
        busybox: versionOf(['busybox'], /BusyBox (v\S+)/),
        dhclient: versionOf(['dhclient', '--version'], /isc-dhclient-(\S+)/),
        dhcpcd: versionOf(['dhcpcd', '--version'], /dhcpcd (\S+)/),
      },
    },
    settings: { runs: settings.runs, slowRuns: settings.slowRuns, sections: [...settings.sections] },
    git: gitState(),
    errors: {},
    host: { unchanged: false, differences: [] },
  };
  const section = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!settings.sections.has(name)) return undefined;
    log(`${name}: start`);
    try {
      const r = await fn();
      log(`${name}: done`);
      return r;
    } catch (e) {
      results.errors[name] = (e as Error).stack ?? String(e);
      log(`${name}: FAILED: ${(e as Error).message}`);
      return undefined;
    }
  };
  try {
    results.bringup = await section('bringup', () => benchBringup(ctx));
    results.linkLoss = await section('linkloss', () => benchLinkLoss(ctx));
    results.udp = await section('udp', () => benchUdp(ctx));
    results.memory = await section('memory', () => benchMemory(ctx));
    results.scale = await section('scale', () => benchScale(ctx));
  } finally {
    await jail.dispose();
    await lab.dispose();
    js.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
  const differences = compareHost(before, snapshotHost());
  results.host = { unchanged: differences.length === 0, differences };
  results.machine.loadAverage.end = loadavg().map((l) => Math.round(l * 100) / 100);
  results.durationS = Math.round((performance.now() - started) / 100) / 10;
  mkdirSync(settings.outDir, { recursive: true });
  writeFileSync(join(settings.outDir, 'latest.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(join(settings.outDir, 'latest.md'), renderMarkdown(results));
  writeFileSync(join(settings.outDir, 'latest.svg'), renderSvg(results));
  log(`results in ${settings.outDir}/latest.{md,json,svg} (${results.durationS} s)`);
  if (!results.host.unchanged) log(`HOST CHANGED: ${differences.join('; ')}`);
  return results.host.unchanged && Object.keys(results.errors).length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
