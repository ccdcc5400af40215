/**
 * The `nicup` command: `main(argv, io)` runs one command against an io (the process, or a
 * test's captured streams) and resolves with the exit code; `runCli()` is the process
 * wrapper bin/nicup.js calls (signals, exit code, broken pipes).
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (commander's, nicup's, a bad
 * NIC). Errors are one line on stderr, "nicup: <what>: <rule>"; a stack only with
 * NICUP_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, reportError } from './cli-errors.js';
import type { Context, GlobalOptions } from './context.js';
import { runDemo } from './demo.js';
import { runOpen, type OpenFlags } from './open.js';
import { Output, oneLine, type CliIo } from './output.js';
import { addNicOptions } from './nic-options.js';
import { runState } from './state.js';
import { runSeal, SEALED_FIELDS, type SealFlags } from './seal.js';
import { runUdpListen, runUdpSend, type ListenFlags, type SendFlags } from './udp.js';

export type { CliIo, TextSink } from './output.js';

/** Runs one nicup command; resolves with the exit code. Never rejects. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const out = new Output(io);
  const debug = io.env.NICUP_DEBUG === '1';
  let exitCode = EXIT_OK;
  const context = (cmd: Command): Context => {
    const global = cmd.optsWithGlobals<GlobalOptions>();
    out.json = global.json === true;
    return { io, out, global, debug };
  };
  const program = buildProgram(io, out, async (cmd, run) => {
    exitCode = await run(context(cmd));
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err);
    return reportError(err, out, debug);
  }
}

type Runner = (cmd: Command, run: (ctx: Context) => Promise<number>) => Promise<void>;

function buildProgram(io: CliIo, out: Output, runner: Runner): Command {
  const program = new Command('nicup');
  program
    .description('Bring network interfaces up the impOS way (imp.net.open) and watch their states; a simulator included.')
    .version(readVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(out.scrub(commanderErrorLine(s))),
    })
    .configureHelp({ showGlobalOptions: true, sortOptions: false })
    .addOption(new Option('--platform <name>', 'where to run: the simulator or this Linux host (default: linux as root or with CAP_NET_ADMIN, else sim; NICUP_PLATFORM)').choices(['sim', 'linux']))
    .option('--scenario <name>', 'simulator world (default "default"; NICUP_SIM_SCENARIO; see "nicup scenarios")')
    .option('--json', 'machine-readable output: one JSON object per line, each with a "type"')
    .option('-v, --verbose', 'say which platform runs and why; library debug lines on stderr');

  const open = addNicOptions(
    program
      .command('open')
      .description('open an interface and print every state change until Ctrl-C, then close it')
      .argument('<iface>', 'interface name or impOS alias (eth0, wl0, cell0, enp3s0…)'),
  )
    .addOption(new Option('--until <goal>', 'exit once the goal is reached (0) or settled out of reach (1)').choices(['connected']))
    .option('--timeout <ms>', 'with --until: give up after this long (default 30000); without: stop watching after this long');
  open.action(async (iface: string, flags: OpenFlags, cmd: Command) => runner(cmd, (ctx) => runOpen(ctx, iface, flags)));
  open.addHelpText(
    'after',
    `
Examples:
  nicup open eth0                                   watch eth0 until Ctrl-C
  nicup open eth0 --until connected --json          wait for CONNECTED, JSON lines
  nicup open eth0 --static 192.168.1.10/24 --gateway 192.168.1.1 --dns 192.168.1.1
  nicup open wl0 --ssid Network --key-file ~/.wifi-key --until connected
  NICUP_SIM_PIN=1234 nicup open cell0 --apn internet --platform sim --scenario pin-required`,
  );

  program
    .command('state')
    .description('list the interfaces nicup sees: name, kind, MAC, admin state, carrier, addresses')
    .argument('[iface]', 'just this interface')
    .action(async (iface: string | undefined, _flags: object, cmd: Command) => runner(cmd, (ctx) => runState(ctx, iface)));

  const udp = program.command('udp').description('UDP over an interface: listen or send');
  const listen = addNicOptions(
    udp
      .command('listen')
      .description('open the interface, wait for CONNECTED, print each datagram that arrives until Ctrl-C')
      .argument('<iface>', 'interface')
      .argument('<port>', 'local UDP port (0: any)'),
  )
    .option('--hex', 'print data as hex (default: quoted text when it is UTF-8)')
    .option('--count <n>', 'exit after n datagrams')
    .option('--timeout <ms>', 'how long to wait for CONNECTED (default 30000)');
  listen.action(async (iface: string, port: string, flags: ListenFlags, cmd: Command) => runner(cmd, (ctx) => runUdpListen(ctx, iface, port, flags)));

  const send = addNicOptions(
    udp
      .command('send')
      .description('open the interface, wait for CONNECTED, send DATA and print each send result code')
      .argument('<iface>', 'interface')
      .argument('<address>', 'destination IPv4 address')
      .argument('<port>', 'destination UDP port')
      .argument('<data>', 'the payload (text, or hex digits with --hex)'),
  )
    .option('--hex', 'DATA is hex digits; replies are printed as hex')
    .option('--count <n>', 'send n times (default 1)')
    .option('--interval <ms>', 'pause between sends (default 0)')
    .option('--wait <ms>', 'after the last send, print replies for this long (default 0)')
    .option('--timeout <ms>', 'how long to wait for CONNECTED (default 30000)');
  send.action(async (iface: string, address: string, port: string, data: string, flags: SendFlags, cmd: Command) =>
    runner(cmd, (ctx) => runUdpSend(ctx, iface, address, port, data, flags)),
  );
  send.addHelpText(
    'after',
    `
Result codes: 0 OK, 1 NOT_CONNECTED, 2 TIMEOUT, 3 DISCONNECTED, 4 WOULDBLOCK (exit 1 if any send fails).`,
  );

  const sealCommand = program
    .command('seal')
    .description('seal a secret read from stdin with the per-device key; print the blob (base64) for --key-sealed, --pin-sealed, --proxy-password-sealed')
    .addOption(new Option('--field <field>', 'the NIC field the secret belongs to (a blob opens for that field only)').choices([...SEALED_FIELDS]).makeOptionMandatory())
    .option('--key-file <path>', 'the device key file (default: NICUP_KEY_FILE, else /var/lib/nicup/device.key; created 0600 on first use)')
    .allowExcessArguments(false);
  sealCommand.action(async (flags: SealFlags, cmd: Command) => runner(cmd, (ctx) => runSeal(ctx, flags)));
  sealCommand.addHelpText(
    'after',
    `
The secret comes from stdin, never from the command line (ps would show it):
  nicup seal --field wificonfig.key < ~/.wifi-key
  nicup open wl0 --ssid Network --key-sealed "$(nicup seal --field wificonfig.key < ~/.wifi-key)"`,
  );

  program
    .command('demo')
    .description('a short end-to-end show on the simulator in virtual time: states, UDP echo, cable pulled and back')
    .action(async (_flags: object, cmd: Command) => runner(cmd, (ctx) => runDemo(ctx)));

  program
    .command('scenarios')
    .description('list the simulator worlds --scenario can name')
    .action(async (_flags: object, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const { scenarios } = await import('../platform/sim/index.js');
        const width = Math.max(...Object.keys(scenarios).map((n) => n.length));
        for (const [name, s] of Object.entries(scenarios)) {
          ctx.out.emit(`${name.padEnd(width)}  ${s.description}`, { type: 'scenario', name, description: s.description });
        }
        return EXIT_OK;
      }),
    );

  program.addHelpText(
    'after',
    `
Secrets: prefer --key-file / --pin-file / --proxy-password-file or NICUP_WIFI_KEY,
NICUP_SIM_PIN, NICUP_PROXY_PASSWORD: a key on the command line is visible in ps.
Exit codes: 0 success, 1 runtime failure, 2 usage error. NICUP_DEBUG=1 shows stacks.`,
  );
  return program;
}

/** "error: unknown option '--kye=…'\n(Did you mean --key?)\n" → "nicup: unknown option '--kye=…' (Did you mean --key?)\n" */
function commanderErrorLine(text: string): string {
  // An unknown "--opt=value" would echo its value, which may be a secret typed under a misspelt flag.
  const hidden = text.replace(/'(-{1,2}[^'=\s]+)=[^']*'/g, "'$1=…'");
  return `nicup: ${oneLine(hidden.replace(/^error:\s*/, ''))}\n`;
}

function commanderExitCode(err: CommanderError): number {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
  return EXIT_USAGE;
}

function readVersion(): string {
  try {
    // src/cli/ and dist/cli/ are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The process wrapper: Ctrl-C (SIGINT/SIGTERM) aborts the command's signal so it closes
 * cleanly; a second one exits at once (130). A closed stdout pipe (`| head`) also stops
 * the command. Sets process.exitCode.
 */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      controller.abort(new Error(signal));
      return;
    }
    process.stderr.write('nicup: interrupted again; exiting without closing\n');
    process.exit(130);
  };
  let stdoutBroken = false;
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') return;
    stdoutBroken = true;
    controller.abort(new Error('stdout closed'));
  };
  const onUncaught = (err: unknown) => {
    // Nothing from the error itself: its message is not checked for secrets.
    const name = err instanceof Error ? err.name : typeof err;
    process.stderr.write(`nicup: internal error (uncaught ${name}); NICUP_DEBUG=1 shows details\n`);
    if (process.env.NICUP_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(EXIT_FAILURE);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', onStdoutError);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  // A command waiting for Ctrl-C may have no timer or socket of its own to keep the process alive.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let code: number;
  try {
    code = await main(argv, {
      stdout: { write: (s: string) => stdoutBroken || process.stdout.write(s) },
      stderr: process.stderr,
      env: process.env,
      signal: controller.signal,
    });
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.exitCode = code;
  // A handle left open (a platform leak) must not keep a finished command running.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}
