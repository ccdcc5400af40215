/**
 * Where the CLI writes: stdout for results (human lines, or one JSON object per line with
 * `--json`), stderr for warnings and the one error line. Every write passes a scrubber
 * that replaces the secrets the command was given (belt and braces: no code path is meant
 * to print one).
 */
import type { SimWorld } from '../platform/sim/index.js';

/** The minimal writable the CLI needs (process.stdout, or a test's collector). */
export interface TextSink {
  write(text: string): unknown;
}

/** What `main()` runs against: the process, or a test. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C (SIGINT/SIGTERM); long-running commands then close cleanly. */
  signal?: AbortSignal;
  /**
   * A simulated world to run in instead of a fresh one (tests and embedders: they can
   * script it, e.g. send datagrams from a SimHost). `--scenario` is then ignored.
   */
  simWorld?: SimWorld;
}

/** A JSON record: every `--json` line carries a `type`. */
export type JsonRecord = { type: string } & Record<string, unknown>;

/**
 * Secrets shorter than this are not scrubbed: a 4-digit PIN would also match times and
 * ports, and "<redacted>" in place of a time would itself give the PIN away. Short
 * secrets are kept out of output by construction only.
 */
const MIN_SCRUB_LENGTH = 8;

export const REDACTED_TEXT = '<redacted>';

export class Output {
  json = false;
  private readonly secrets = new Set<string>();

  constructor(private readonly io: CliIo) {}

  /** Registers a secret: it is replaced wherever it would be written. */
  addSecret(secret: string): void {
    if (secret.length < MIN_SCRUB_LENGTH) return;
    this.secrets.add(secret);
    // Inside JSON strings a secret with quotes or backslashes appears escaped.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) this.secrets.add(escaped);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(REDACTED_TEXT);
    return out;
  }

  /** A result line on stdout (human mode). */
  line(text = ''): void {
    this.io.stdout.write(this.scrub(`${text}\n`));
  }

  /** A JSON record on stdout. */
  record(record: JsonRecord): void {
    this.io.stdout.write(this.scrub(`${JSON.stringify(record)}\n`));
  }

  /** Human text or a JSON record, by mode. */
  emit(human: string | (() => string), record: JsonRecord | (() => JsonRecord)): void {
    if (this.json) this.record(typeof record === 'function' ? record() : record);
    else this.line(typeof human === 'function' ? human() : human);
  }

  /** Human-only text (headings, tables' decoration); nothing in JSON mode. */
  note(text: string): void {
    if (!this.json) this.line(text);
  }

  warn(text: string): void {
    this.io.stderr.write(this.scrub(`nicup: warning: ${oneLine(text)}\n`));
  }

  /** The one error line. */
  error(text: string): void {
    this.io.stderr.write(this.scrub(`nicup: ${oneLine(text)}\n`));
  }

  /** Raw text on stderr (a stack trace with NICUP_DEBUG=1), scrubbed. */
  debug(text: string): void {
    this.io.stderr.write(this.scrub(text.endsWith('\n') ? text : `${text}\n`));
  }
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
