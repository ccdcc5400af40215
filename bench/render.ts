/**
 * Re-renders latest.md and latest.svg from a results JSON (default bench/results/latest.json)
 * without running anything: `node --import tsx bench/render.ts [results.json]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResults } from './run.js';
import { renderMarkdown } from './lib/report.js';
import { renderSvg } from './lib/chart.js';

const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
writeFileSync(join(dirname(file), 'latest.md'), renderMarkdown(results));
writeFileSync(join(dirname(file), 'latest.svg'), renderSvg(results));
process.stderr.write(`rendered ${join(dirname(file), 'latest.{md,svg}')}\n`);
