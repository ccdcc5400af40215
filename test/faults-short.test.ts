/**
 * The short fault matrix, run by `npm test` (the long one: `npm run test:faults -- --long`,
 * figures in docs/reliability.md). One test per scenario — simulator faults, real-lab
 * faults (namespaces, dnsmasq, Kea), the security sweep, resource bounds — each failing on
 * a broken final state or on anything left behind; then each fuzzer for 2,000 cases, and the fuzz runner's own proof that it catches a hang and a crash and names the
 * case. Needs root, dnsmasq and Kea (scripts/system-deps.sh): fails naming what is missing.
 * The VM scenarios (WiFi, cellular on real daemons) take minutes: long run only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { groups } from '../faults/run.js';
import { runScenario } from '../faults/lib/matrix.js';
import { runFuzzers } from '../faults/fuzz/runner.js';
import type { ScenarioResult } from '../faults/lib/types.js';
import { requireRoot } from './lab/netns.js';

const ctx = { long: false, log: () => {} };

function explain(r: ScenarioResult): string {
  return [r.error?.split('\n').filter((l) => !/^\s+at /.test(l)).join('\n'), r.leftBehind.length ? `left behind: ${r.leftBehind.join('; ')}` : ''].filter(Boolean).join('\n');
}

describe('fault matrix (short)', { concurrency: false }, () => {
  for (const group of ['sim', 'lab', 'security', 'bounds'] as const) {
    for (const s of groups[group]!) {
      test(`${s.name}: ${s.description}`, { timeout: 120_000 }, async (t) => {
        if (s.where === 'lab') requireRoot();
        const r = await runScenario(s, ctx);
        if (r.recovery) t.diagnostic(`recovery median ${r.recovery.median} / p95 ${r.recovery.p95} / max ${r.recovery.max} ${r.recovery.unit} over ${r.recovery.n}`);
        for (const [k, v] of Object.entries(r.figures)) t.diagnostic(`${k}: ${v}`);
        assert.ok(r.ok, `${s.name}: ${explain(r)}`);
        assert.ok(r.finalState.length > 0);
      });
    }
  }
});

describe('fuzzers (short)', { concurrency: false }, () => {
  test('each fuzzer, 2,000 cases: no crash, no hang', { timeout: 180_000 }, async (t) => {
    const results = await runFuzzers({ casesPerFuzzer: 2000, jobs: 2, save: false, hangMs: 60_000 });
    for (const r of results) t.diagnostic(`${r.target}: ${r.cases} cases, ${r.perSecond}/s, seed ${r.seed}`);
    assert.deepEqual(
      results.filter((r) => r.outcome !== 'ok').map((r) => `${r.target}: ${r.outcome} (seed ${r.seed}): ${r.detail}`),
      [],
    );
    assert.deepEqual([...new Set(results.map((r) => r.fuzzer))].sort(), ['at', 'dhcp', 'nic', 'wpa']);
  });

  test('the runner catches a planted crash and a planted hang, and finds the hanging case again', { timeout: 180_000 }, async () => {
    const saved = process.env.NICUP_FUZZ_PLANT;
    try {
      process.env.NICUP_FUZZ_PLANT = 'crash:at.parsers:50';
      const crash = await runFuzzers({ casesPerFuzzer: 500, only: ['at'], save: false, hangMs: 60_000, seed: 1 });
      const c = crash.find((r) => r.target === 'at.parsers');
      assert.equal(c?.outcome, 'crash');
      assert.match(c?.detail ?? '', /planted crash at case 50/);
      assert.ok(crash.filter((r) => r.target !== 'at.parsers').every((r) => r.outcome === 'ok'), 'the other targets still ran');

      process.env.NICUP_FUZZ_PLANT = 'hang:at.parsers:70';
      const hang = await runFuzzers({ casesPerFuzzer: 500, only: ['at'], save: false, hangMs: 4000, seed: 1 });
      const h = hang.find((r) => r.target === 'at.parsers');
      assert.equal(h?.outcome, 'hang');
      assert.equal(h?.cases, 70, `the hanging case was found again: ${h?.detail}`);
      assert.ok(hang.filter((r) => r.target !== 'at.parsers').every((r) => r.outcome === 'ok'), 'the targets after the hang still ran');
    } finally {
      if (saved === undefined) delete process.env.NICUP_FUZZ_PLANT;
      else process.env.NICUP_FUZZ_PLANT = saved;
    }
  });
});
