/**
 * Keeping PINs and passwords out of logs. A secret command's text is held in a
 * SecretText, which prints as "****" through String(), JSON and util.inspect, so a state
 * object that is logged whole does not leak it; only `reveal()` gives the text back.
 */

export class SecretText {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '****';
  }
  toJSON(): string {
    return '****';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SecretText(****)';
  }
}

/**
 * Commands whose arguments are secrets: PINs and PUKs (+CPIN, +CPIN2, +CPWD, +CLCK),
 * PDP credentials (+CGAUTH, TS 27.007 §10.1.31) and the vendor forms of the same
 * (Quectel +QICSGP, SIMCom +CSTT, Qualcomm $QCPDPP, Huawei ^AUTHDATA, u-blox +UPSD).
 */
const SECRET_COMMAND_BODY = String.raw`AT\s*(?:\+CPIN2?|\+CPWD|\+CLCK|\+CGAUTH|\+QICSGP|\+CSTT|\$QCPDPP|\^AUTHDATA|\+UPSD)\s*=`;
const SECRET_COMMAND = new RegExp(`^\\s*${SECRET_COMMAND_BODY}`, 'i');
/** The same, anywhere in a line: an echo can arrive behind line noise. */
const SECRET_COMMAND_ANYWHERE = new RegExp(SECRET_COMMAND_BODY, 'i');

/** Read responses that echo credentials back (vendor context commands). */
const SECRET_RESPONSE = /^\s*(\+QICSGP|\+CSTT|\$QCPDPP|\^AUTHDATA|\+UPSD|\+CGAUTH)\s*:/i;

export function isSecretCommand(command: string): boolean {
  return SECRET_COMMAND.test(command);
}

/** A secret command anywhere in a received line (an echo behind noise). */
export function containsSecretCommand(line: string): boolean {
  return SECRET_COMMAND_ANYWHERE.test(line);
}

/**
 * The text of a command as it may appear in a log: everything after the "=" of a
 * secret command becomes "****" (AT+CPIN="1234" → AT+CPIN=****). `secret` forces it
 * for commands the table above does not know.
 */
export function redactCommand(command: string, secret = false): string {
  if (!secret && !isSecretCommand(command)) return command;
  const eq = command.indexOf('=');
  return eq >= 0 ? `${command.slice(0, eq + 1)}****` : 'AT****';
}

/** A received line as it may appear in a log (credential read-backs are masked). */
export function redactResponseLine(line: string): string {
  const m = SECRET_RESPONSE.exec(line);
  if (m) return `${m[1] ?? ''}: ****`;
  const c = SECRET_COMMAND_ANYWHERE.exec(line);
  if (c) return `${line.slice(0, c.index + c[0].length)}****`;
  return line;
}
