#!/usr/bin/env node
// A stand-in for pppd in the security sweep (faults/security/linux-child.ts): started by
// nicup's Linux platform exactly as pppd would be. It reads its options file as pppd does
// (options.c getword: double quotes, backslash escapes, # comments) and prints only the
// SHA-256 of the user name and password it read, so the sweep can check they arrived
// literally without the secret ever being printed. On SIGUSR1 it says which interface
// it "uses" (nicup then removes the options directory); SIGTERM ends it (exit 5, as pppd).
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

/** pppd's words: quoted with backslash escapes (\\ \" \ooo \xhh \n \t ...), or bare up to white space; # starts a comment. */
function words(text) {
  const out = [];
  let i = 0;
  const esc = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', s: ' ', t: '\t', v: '\v' };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#') { while (i < text.length && text[i] !== '\n') i++; continue; }
    let w = '';
    let quoted = false;
    while (i < text.length && (quoted || !/\s/.test(text[i]))) {
      const ch = text[i];
      if (ch === '"') { quoted = !quoted; i++; continue; }
      if (ch === '\\' && i + 1 < text.length) {
        const n = text[i + 1];
        if (/[0-7]/.test(n)) { const m = /^[0-7]{1,3}/.exec(text.slice(i + 1))[0]; w += String.fromCharCode(parseInt(m, 8)); i += 1 + m.length; continue; }
        if (n === 'x' && /^[0-9a-fA-F]{1,2}/.test(text.slice(i + 2))) { const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2))[0]; w += String.fromCharCode(parseInt(m, 16)); i += 2 + m.length; continue; }
        w += esc[n] ?? n;
        i += 2;
        continue;
      }
      w += ch;
      i++;
    }
    out.push(w);
  }
  return out;
}

const args = process.argv.slice(2);
const at = args.indexOf('file');
const opts = at >= 0 ? words(readFileSync(args[at + 1], 'utf8')) : [];
const value = (name) => { const k = opts.indexOf(name); return k >= 0 ? opts[k + 1] : undefined; };
const sha = (s) => (s === undefined ? 'none' : createHash('sha256').update(s, 'utf8').digest('hex'));
console.log(`READ user=${sha(value('user'))} password=${sha(value('password'))}`);
process.on('SIGUSR1', () => console.log('Using interface ppp9'));
process.on('SIGTERM', () => process.exit(5));
setInterval(() => {}, 1000);
