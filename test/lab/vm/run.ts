// Boots the VM lab (QEMU/TCG, PVH vmlinux + initrd.cpio from build.sh) and runs guest test
// scripts in it. See README.md beside this file.
//
//   node --import tsx test/lab/vm/run.ts [--timeout MS] SCRIPT...   run scripts, print results
//   node --import tsx test/lab/vm/run.ts                              interactive shell on the console
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const labSourceDir = dirname(fileURLToPath(import.meta.url));
/** The project root; shared into the guest read-only at the same absolute path. */
export const projectRoot = resolve(labSourceDir, '../../..');
/** Guest helper scripts (wifi-ap.sh, modem.sh, ...); the guest sees them at the same path. */
export const guestHelperDir = join(labSourceDir, 'guest');
export const labCacheDir = process.env['NICUP_LAB_CACHE'] ?? '/var/cache/nicup-lab';

/** x86 COMMAND_LINE_SIZE is 2048 including the terminating NUL. */
const kernelCmdlineMaxBytes = 2047;
const keptLogs = 20;

export interface LabBuild {
  /** Cache directory of this build (holds vmlinux, initrd.cpio, lab.json). */
  dir: string;
  vmlinux: string;
  initrd: string;
  kernelVersion: string;
  /** Wall time of build.sh (about 0.1 s when cached). */
  buildMs: number;
}

export interface VmShare {
  /** Host directory, shared read-only. */
  hostPath: string;
  /** Where the guest mounts it; default: the same absolute path as on the host. */
  guestPath?: string;
}

export interface RunVmOptions {
  /** Guest test files, absolute or relative to the project root, inside the project or a share.
   *  `*.sh` run with dash, `*.ts`/`*.js` (and .mts/.mjs/.cts/.cjs) with `node --import tsx`,
   *  anything else is executed directly. They run one after another, cwd = project root. */
  scripts: string[];
  /** QEMU is killed after this long; the results then end with a failure naming the running script. */
  timeoutMs: number;
  /** More host directories to share (read-only). */
  shares?: VmShare[];
  /** Environment for the test scripts (names: [A-Za-z_][A-Za-z0-9_]*, values without newlines). */
  env?: Record<string, string>;
  /** A build from buildLab(); default: buildLab() is called (it is cached). */
  lab?: LabBuild;
  /** Where to keep the console log; default: <cache>/logs/vm-<time>-<pid>.log. */
  logPath?: string;
  /** Called with each console line as it arrives (for live debugging). */
  onLine?: (line: string) => void;
  /** How TypeScript guest scripts run. 'host' (default): bundled on the host with esbuild
   *  (packages stay external and load from the shared node_modules; import.meta.url/dirname/
   *  filename keep each file's own path), then plain `node` in the guest: saves the ~3 s that
   *  `--import tsx` costs per script under TCG. 'tsx': `node --import tsx` in the guest. */
  typescript?: 'host' | 'tsx';
}

export interface VmTestResult {
  name: string;
  pass: boolean;
  detail: string;
}

export interface VmScriptRun {
  name: string;
  /** Exit code of the script, or null if the VM stopped while it ran. */
  exitCode: number | null;
  /** Guest-measured run time of the script. */
  seconds: number | null;
}

export interface VmRun {
  /** LAB-PASS / LAB-FAIL lines in order, plus one entry per script that exited non-zero without
   *  a LAB-FAIL (fail, "exit code N") or exited 0 without any result (pass), plus a failure if
   *  the VM did not reach LAB-DONE (timeout or crash). */
  results: VmTestResult[];
  scripts: VmScriptRun[];
  /** The whole console output (also in logPath). */
  log: string;
  logPath: string;
  /** Wall time from QEMU spawn to exit. */
  durationMs: number;
  /** Guest uptime when the first script began (kernel boot + /init setup). */
  bootSeconds: number | null;
  /** The guest printed LAB-DONE: every script ran. */
  done: boolean;
  timedOut: boolean;
}

/** Runs build.sh (cached: ~0.1 s when nothing changed) and returns the artifacts. Throws with
 *  build.sh's output when it fails (no root to install packages, no network for the kernel). */
export async function buildLab(): Promise<LabBuild> {
  const started = performance.now();
  const buildScript = join(labSourceDir, 'build.sh');
  const { code, stdout, stderr } = await collect('bash', [buildScript]);
  const dir = /^NICUP_LAB_DIR=(.+)$/m.exec(stdout)?.[1];
  if (code !== 0 || dir === undefined) {
    throw new Error(`VM lab: ${buildScript} failed (exit ${code}):\n${stderr.slice(-4000)}${stdout.slice(-1000)}`);
  }
  const kernelVersion = /"kernelVersion": "([^"]+)"/.exec(readFileSync(join(dir, 'lab.json'), 'utf8'))?.[1] ?? 'unknown';
  return { dir, vmlinux: join(dir, 'vmlinux'), initrd: join(dir, 'initrd.cpio'), kernelVersion, buildMs: performance.now() - started };
}

/** Finds qemu-system-x86_64 on PATH; throws naming what is missing. */
export function findQemu(): string {
  for (const dir of (process.env['PATH'] ?? '/usr/bin').split(':').concat(['/usr/bin'])) {
    const candidate = join(dir, 'qemu-system-x86_64');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('VM lab: qemu-system-x86_64 not found (Debian package qemu-system-x86; test/lab/vm/build.sh installs it)');
}

export async function runVm(options: RunVmOptions): Promise<VmRun> {
  if (options.scripts.length === 0) throw new Error('runVm: scripts must name at least one guest test file');
  const lab = options.lab ?? (await buildLab());
  const bundles = options.typescript === 'tsx' ? null : await bundleTypeScript(options.scripts);
  let plan: VmPlan;
  try {
    plan = planVm({ ...options, scripts: bundles?.scripts ?? options.scripts }, lab, false);
  } catch (error) {
    bundles?.cleanup();
    throw error;
  }
  const logPath = options.logPath ?? newLogPath();
  mkdirSync(dirname(logPath), { recursive: true });
  const logFile = createWriteStream(logPath);
  logFile.write(`# ${plan.qemu} ${plan.args.map(quoteForLog).join(' ')}\n`);

  const parser = new ConsoleParser();
  const chunks: string[] = [];
  const started = performance.now();
  const child = spawn(plan.qemu, plan.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);

  let pending = '';
  const onData = (data: Buffer): void => {
    const text = data.toString('utf8');
    chunks.push(text);
    logFile.write(text);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const clean = cleanConsoleLine(line);
      parser.line(clean);
      options.onLine?.(clean);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const exit = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolveExit) => {
    child.once('error', (error) => resolveExit({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolveExit({ code, signal }));
  });
  clearTimeout(timer);
  process.removeListener('exit', killOnExit);
  bundles?.cleanup();
  if (pending !== '') parser.line(cleanConsoleLine(pending));
  const durationMs = performance.now() - started;
  await new Promise<void>((done) => logFile.end(done));
  pruneLogs(dirname(logPath));

  if (exit.error) throw new Error(`VM lab: could not start ${plan.qemu}: ${exit.error.message}`);
  const why = timedOut
    ? `timed out after ${options.timeoutMs} ms`
    : `QEMU exited (code ${exit.code}, signal ${exit.signal}) before LAB-DONE`;
  parser.finish(why);
  return {
    results: parser.results,
    scripts: parser.scripts,
    log: chunks.join(''),
    logPath,
    durationMs,
    bootSeconds: parser.bootSeconds,
    done: parser.done,
    timedOut,
  };
}

const bundleRoot = join(projectRoot, 'node_modules', '.cache', 'nicup-vm-lab');
let bundleRuns = 0;

/** Bundles the .ts/.mts/.cts scripts into node_modules/.cache/nicup-vm-lab/ (inside the project,
 *  so bare imports resolve to the project's node_modules in the guest). Others pass through. */
async function bundleTypeScript(scripts: string[]): Promise<{ scripts: string[]; cleanup: () => void }> {
  const dir = join(bundleRoot, `run-${process.pid}-${bundleRuns++}`);
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const out: string[] = [];
  try {
    const esbuild = await import('esbuild');
    for (const [index, script] of scripts.entries()) {
      const entry = resolve(projectRoot, script);
      if (!/\.[cm]?ts$/.test(entry)) {
        out.push(script);
        continue;
      }
      const outfile = join(dir, String(index), `${basename(entry).replace(/\.[cm]?ts$/, '')}.mjs`);
      await esbuild.build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        sourcemap: 'inline',
        logLevel: 'silent',
        plugins: [keepImportMeta],
      });
      out.push(outfile);
    }
  } catch (error) {
    cleanup();
    throw new Error(`runVm: bundling ${scripts.join(', ')} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { scripts: out, cleanup };
}

/** In a bundle every module would see the bundle's import.meta; give each file its own. */
const keepImportMeta: import('esbuild').Plugin = {
  name: 'keep-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const contents = text
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
      const loader = /\.tsx$/.test(args.path) ? 'tsx' : /\.[cm]?ts$/.test(args.path) ? 'ts' : /\.jsx$/.test(args.path) ? 'jsx' : 'js';
      return { contents, loader };
    });
  },
};

interface VmPlan {
  qemu: string;
  args: string[];
}

/** The QEMU command line; exported for the interactive mode and for tests of the plan itself. */
export function planVm(options: Omit<RunVmOptions, 'timeoutMs'>, lab: LabBuild, interactive: boolean): VmPlan {
  const qemu = findQemu();
  const shares: { tag: string; hostPath: string; guestPath: string }[] = [];
  const addShare = (hostPath: string, guestPath: string): void => {
    for (const p of [hostPath, guestPath]) {
      if (!isAbsolute(p) || /[\s,:"]/.test(p)) {
        throw new Error(`runVm: share path "${p}" must be absolute and contain no whitespace, comma, colon or quote`);
      }
    }
    if (shares.some((s) => s.guestPath === guestPath)) return;
    shares.push({ tag: `lab${shares.length}`, hostPath, guestPath });
  };
  // The host's /usr gives the guest node and the libraries of the project's native add-ons;
  // the initramfs keeps its own tools in /bin, /sbin, /lib.
  addShare('/usr', '/usr');
  addShare(projectRoot, projectRoot);
  const nodeBinDir = dirname(realpathSync(process.execPath));
  const nodePrefix = dirname(nodeBinDir);
  if (!isInside(nodeBinDir, '/usr')) addShare(nodePrefix, nodePrefix);
  for (const share of options.shares ?? []) addShare(resolve(share.hostPath), share.guestPath ?? resolve(share.hostPath));

  const scripts = options.scripts.map((script) => {
    const hostPath = resolve(projectRoot, script);
    const share = shares.find((s) => isInside(hostPath, s.hostPath) && s.hostPath !== '/usr');
    if (share === undefined) throw new Error(`runVm: script ${hostPath} is not inside the project or a share`);
    if (!existsSync(hostPath)) throw new Error(`runVm: script ${hostPath} does not exist`);
    return join(share.guestPath, relative(share.hostPath, hostPath));
  });
  const envLines = Object.entries(options.env ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`runVm: env name "${name}" must match [A-Za-z_][A-Za-z0-9_]*`);
    if (/[\n\0]/.test(value)) throw new Error(`runVm: env ${name} must not contain a newline or NUL`);
    return `${name}=${value}`;
  });

  const cmdline = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    `lab.share=${shares.map((s) => `${s.tag}:${s.guestPath}`).join(',')}`,
    `lab.project=${projectRoot}`,
    `lab.node=${nodeBinDir}`,
  ];
  if (!interactive) cmdline.push(`lab.run=${Buffer.from(`${scripts.join('\n')}\n`).toString('base64')}`);
  if (envLines.length > 0) cmdline.push(`lab.env=${Buffer.from(`${envLines.join('\n')}\n`).toString('base64')}`);
  const append = cmdline.join(' ');
  if (Buffer.byteLength(append) > kernelCmdlineMaxBytes) {
    throw new Error(`runVm: kernel command line is ${Buffer.byteLength(append)} bytes (max ${kernelCmdlineMaxBytes}): fewer scripts or less env`);
  }

  const args = [
    '-accel', 'tcg,thread=multi', // KVM here: nested virtualization is broken (lab-notes)
    // q35, not pc: on i440fx each virtio-pci probe spends ~0.4 s routing its INTx link (ACPI
    // LNKx); q35 boots to the first script ~2 s sooner.
    '-machine', 'q35',
    '-cpu', 'max',
    '-m', '1024',
    '-smp', '2',
    '-nographic',
    '-no-reboot',
    '-nodefaults',
    '-serial', 'mon:stdio',
    '-device', 'virtio-rng-pci',
    '-kernel', lab.vmlinux,
    '-initrd', lab.initrd,
    '-append', append,
  ];
  for (const s of shares) {
    // QEMU option values escape a comma as two commas; addShare already refuses commas.
    args.push('-virtfs', `local,path=${s.hostPath},mount_tag=${s.tag},security_model=none,readonly=on,id=${s.tag}`);
  }
  return { qemu, args };
}

/** Parses the console protocol of init.sh: LAB-BEGIN/LAB-END around scripts, LAB-PASS/LAB-FAIL, LAB-DONE. */
export class ConsoleParser {
  readonly results: VmTestResult[] = [];
  readonly scripts: VmScriptRun[] = [];
  done = false;
  bootSeconds: number | null = null;
  private current: { name: string; reported: number; failed: number } | null = null;

  line(line: string): void {
    const m = /^LAB-(PASS|FAIL|BEGIN|END|DONE)\b:?\s*(.*)$/.exec(line);
    if (m === null) return;
    const [, kind, rest = ''] = m;
    switch (kind) {
      case 'PASS':
        this.results.push({ name: rest.trim(), pass: true, detail: '' });
        if (this.current) this.current.reported++;
        break;
      case 'FAIL': {
        const colon = rest.indexOf(': ');
        const name = colon === -1 ? rest.trim() : rest.slice(0, colon);
        this.results.push({ name, pass: false, detail: colon === -1 ? '' : rest.slice(colon + 2) });
        if (this.current) {
          this.current.reported++;
          this.current.failed++;
        }
        break;
      }
      case 'BEGIN': {
        this.current = { name: rest.trim(), reported: 0, failed: 0 };
        const uptime = /uptime=([\d.]+)/.exec(rest);
        if (uptime?.[1] !== undefined && this.bootSeconds === null) this.bootSeconds = Number(uptime[1]);
        this.current.name = rest.replace(/\s*uptime=.*$/, '').trim();
        this.scripts.push({ name: this.current.name, exitCode: null, seconds: null });
        break;
      }
      case 'END': {
        const end = /^(\S+) rc=(\d+)(?: seconds=([\d.]+))?/.exec(rest);
        const current = this.current;
        if (end === null || current === null) break;
        const exitCode = Number(end[2]);
        const script = this.scripts[this.scripts.length - 1];
        if (script) {
          script.exitCode = exitCode;
          script.seconds = end[3] === undefined ? null : Number(end[3]);
        }
        if (exitCode !== 0 && current.failed === 0) {
          this.results.push({ name: current.name, pass: false, detail: `exit code ${exitCode}` });
        } else if (exitCode === 0 && current.reported === 0) {
          this.results.push({ name: current.name, pass: true, detail: '' });
        }
        this.current = null;
        break;
      }
      case 'DONE':
        this.done = true;
        break;
    }
  }

  /** Adds a failure when the guest did not finish; `why` says how it stopped. */
  finish(why: string): void {
    if (this.done) return;
    const running = this.current?.name;
    this.results.push({ name: running ?? 'vm', pass: false, detail: running ? `${why} while ${running} ran` : why });
  }
}

/** Drops the carriage return, ANSI escapes (SeaBIOS) and other control characters. */
function cleanConsoleLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1bc|\r/g, '').replace(/[\x00-\x08\x0b-\x1f]/g, '');
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(sep));
}

function newLogPath(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(labCacheDir, 'logs', `vm-${stamp}-${process.pid}.log`);
}

function pruneLogs(dir: string): void {
  try {
    const logs = readdirSync(dir)
      .filter((f) => f.startsWith('vm-') && f.endsWith('.log'))
      .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const old of logs.slice(keptLogs)) unlinkSync(join(dir, old.f));
  } catch {
    // Logs are a convenience; a race with another run must not fail the test.
  }
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function collect(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

async function main(argv: string[]): Promise<number> {
  let timeoutMs = 120_000;
  const scripts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--timeout') timeoutMs = Number(argv[++i]);
    else scripts.push(arg);
  }
  const lab = await buildLab();
  if (scripts.length === 0) {
    const plan = planVm({ scripts: [], lab }, lab, true);
    const child = spawn(plan.qemu, plan.args, { stdio: 'inherit' });
    return new Promise((done) => child.once('close', (code) => done(code ?? 1)));
  }
  const run = await runVm({ scripts, timeoutMs, lab, onLine: (line) => process.stdout.write(`${line}\n`) });
  console.log(`\n${run.results.map((r) => `${r.pass ? 'pass' : 'FAIL'} ${r.name}${r.detail ? `: ${r.detail}` : ''}`).join('\n')}`);
  console.log(`boot ${run.bootSeconds ?? '?'} s (guest), ${(run.durationMs / 1000).toFixed(1)} s wall; log: ${run.logPath}`);
  const passed = run.results.filter((r) => r.pass).length;
  console.log(`${passed} passed, ${run.results.length - passed} failed`);
  return run.done && passed === run.results.length ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
