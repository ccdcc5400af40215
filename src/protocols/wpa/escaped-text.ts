/**
 * wpa_supplicant prints SSIDs with printf_encode() (src/utils/common.c, hostap 2.x):
 * `\"`, `\\`, `\e`, `\n`, `\r`, `\t`, printable ASCII as is, every other byte as `\xNN`.
 * Old releases (before 2.0) replaced non-printable bytes by `_` instead; those come
 * through unchanged. This module turns such text back into the SSID's bytes.
 */

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/**
 * The inverse of printf_encode, following printf_decode (src/utils/common.c): `\xN`
 * with one hex digit and octal `\NNN` are accepted too; an unknown escape is dropped.
 * Characters above U+00FF (never produced by wpa_supplicant) are kept as UTF-8.
 */
export function decodePrintfEscaped(text: string): Uint8Array {
  const out: number[] = [];
  const pushChar = (ch: string) => {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x80) out.push(code);
    else for (const b of utf8Encoder.encode(ch)) out.push(b);
  };
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (ch !== '\\') {
      pushChar(ch);
      continue;
    }
    const next = chars[i + 1];
    if (next === undefined) break; // a lone trailing backslash: printf_decode stops here
    i++;
    switch (next) {
      case '\\':
      case '"':
        out.push(next.charCodeAt(0));
        break;
      case 'n':
        out.push(0x0a);
        break;
      case 'r':
        out.push(0x0d);
        break;
      case 't':
        out.push(0x09);
        break;
      case 'e':
        out.push(0x1b);
        break;
      case 'x': {
        const h1 = hexValue((chars[i + 1] ?? '').charCodeAt(0));
        if (h1 < 0) break;
        const h2 = hexValue((chars[i + 2] ?? '').charCodeAt(0));
        if (h2 < 0) {
          out.push(h1);
          i += 1;
        } else {
          out.push(h1 * 16 + h2);
          i += 2;
        }
        break;
      }
      default: {
        const d0 = next.charCodeAt(0) - 0x30;
        if (d0 >= 0 && d0 <= 7) {
          let value = d0;
          for (let k = 0; k < 2; k++) {
            const d = (chars[i + 1] ?? '').charCodeAt(0) - 0x30;
            if (!(d >= 0 && d <= 7)) break;
            value = value * 8 + d;
            i++;
          }
          out.push(value & 0xff);
        }
        // Any other escape: printf_decode skips it.
      }
    }
  }
  return Uint8Array.from(out);
}

/** SSID bytes as text for people: UTF-8 with U+FFFD for bytes that are not UTF-8. */
export function ssidBytesToText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** The same encoding as printf_encode, for logs and tests. */
export function encodePrintfEscaped(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x1b) s += '\\e';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b <= 0x7e) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s;
}
