// The console protocol parser of run.ts (no VM needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleParser } from './run.js';

function parse(lines: string[], finish = 'timed out after 10 ms'): ConsoleParser {
  const parser = new ConsoleParser();
  for (const line of lines) parser.line(line);
  parser.finish(finish);
  return parser;
}

test('results come from LAB-PASS / LAB-FAIL lines, detail after the first ": "', () => {
  const p = parse(['LAB-BEGIN: wifi uptime=3.50', 'LAB-PASS: wifi', 'LAB-FAIL: wifi-dhcp: no lease: after 5 s', 'LAB-END: wifi rc=1 seconds=7.25', 'LAB-DONE']);
  assert.deepEqual(p.results, [
    { name: 'wifi', pass: true, detail: '' },
    { name: 'wifi-dhcp', pass: false, detail: 'no lease: after 5 s' },
  ]);
  assert.deepEqual(p.scripts, [{ name: 'wifi', exitCode: 1, seconds: 7.25 }]);
  assert.equal(p.bootSeconds, 3.5);
  assert.equal(p.done, true);
});

test('a script that exits non-zero without LAB-FAIL fails with its exit code', () => {
  const p = parse(['LAB-BEGIN: ppp uptime=1', 'LAB-PASS: ppp-part', 'LAB-END: ppp rc=2 seconds=1', 'LAB-DONE']);
  assert.deepEqual(p.results.at(-1), { name: 'ppp', pass: false, detail: 'exit code 2' });
});

test('a script that exits 0 without any result passes under its own name', () => {
  const p = parse(['LAB-BEGIN: quiet uptime=1', 'some output', 'LAB-END: quiet rc=0 seconds=0.5', 'LAB-DONE']);
  assert.deepEqual(p.results, [{ name: 'quiet', pass: true, detail: '' }]);
});

test('no LAB-DONE: a failure names the script that was running', () => {
  const p = parse(['LAB-BEGIN: slow uptime=1', 'LAB-PASS: early'], 'timed out after 10 ms');
  assert.equal(p.done, false);
  assert.deepEqual(p.results.at(-1), { name: 'slow', pass: false, detail: 'timed out after 10 ms while slow ran' });
  assert.deepEqual(p.scripts, [{ name: 'slow', exitCode: null, seconds: null }]);
});

test('no LAB-DONE before any script: the failure is named vm', () => {
  const p = parse(['Kernel panic - not syncing'], 'QEMU exited (code 0, signal null) before LAB-DONE');
  assert.deepEqual(p.results, [{ name: 'vm', pass: false, detail: 'QEMU exited (code 0, signal null) before LAB-DONE' }]);
});

test('LAB- lines only count at the start of a line', () => {
  const p = parse(['echo LAB-PASS: fake', '  LAB-FAIL: indented: x', 'LAB-DONE']);
  assert.deepEqual(p.results, []);
});
