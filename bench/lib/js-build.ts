/**
 * A private JavaScript copy of src/ and bench/workers/ for the child processes, so that a
 * child measures nicup as it ships (plain node on compiled JS, no tsx loader, no transform
 * cache in its heap), whatever state the repository's dist/ is in. Transpile-only (the
 * typecheck is the project's job): a second or so. The copy lives in the OS temp directory
 * with a node_modules symlink to the project's, and is removed by `dispose`.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export interface JsBuild {
  /** Root of the copy: ROOT/src/..., ROOT/bench/workers/... */
  root: string;
  /** Absolute path of a compiled worker, e.g. worker('udp-worker'). */
  worker(name: string): string;
  dispose(): void;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function buildJs(projectRoot: string): JsBuild {
  const root = mkdtempSync(join(tmpdir(), 'nicup-bench-js-'));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    verbatimModuleSyntax: true,
    esModuleInterop: true,
    sourceMap: false,
  };
  for (const file of [...tsFiles(join(projectRoot, 'src')), ...tsFiles(join(projectRoot, 'bench', 'workers'))]) {
    const out = join(root, relative(projectRoot, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'nicup-bench-build', private: true, type: 'module' }));
  symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
  return {
    root,
    worker: (name) => join(root, 'bench', 'workers', `${name}.js`),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
