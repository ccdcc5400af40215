#!/usr/bin/env node
// The nicup command. Runs the built CLI (dist/cli/main.js); in a git clone without a build
// it runs the TypeScript source (src/cli/main.ts) through tsx instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const debug = process.env.NICUP_DEBUG === '1';

function fail(message, err) {
  process.stderr.write(`nicup: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}

let cli;
if (existsSync(fileURLToPath(built))) {
  try {
    cli = await import(built.href);
  } catch (err) {
    fail(`cannot load ${fileURLToPath(built)} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); run "npm run build"`, err);
  }
} else if (existsSync(fileURLToPath(source))) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch (err) {
    fail('no build found (dist/cli/main.js) and tsx is not installed to run the source; run "npm install" and "npm run build"', err);
  }
  try {
    register();
    cli = await import(source.href);
  } catch (err) {
    fail(`cannot run the source ${fileURLToPath(source)} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); run "npm install" and "npm run build"`, err);
  }
} else {
  fail('no build found (dist/cli/main.js) and no source (src/cli/main.ts); run "npm install" and "npm run build"');
}

if (typeof cli?.runCli !== 'function') fail('the CLI module has no runCli(); run "npm run build"');
await cli.runCli(process.argv.slice(2));
