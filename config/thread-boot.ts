import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CutoverError } from '../runbook/errors.js';

/**
 * Starts a worker thread on a module of this repository whether the process
 * runs the TypeScript sources (tsx, vitest) or compiled JavaScript: a thread
 * does not inherit the loader that lets its parent import .ts files, so a .ts
 * entry is imported through tsx's own tsImport.
 */
const BOOT = `const { workerData } = require('node:worker_threads');
const { entry, tsx } = workerData.boot;
const loading = tsx ? import(tsx).then((api) => api.tsImport(entry, entry)) : import(entry);
loading.catch((err) => process.nextTick(() => { throw err; }));`;

let tsxApi: string | undefined;

/** The ESM entry of tsx/esm/api (its CommonJS entry cannot tsImport inside a worker). */
function tsxEsmApi(): string {
  if (tsxApi) return tsxApi;
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, { import?: string | { default?: string } }> };
  const target = pkg.exports?.['./esm/api']?.import;
  const file = typeof target === 'string' ? target : target?.default;
  if (!file) throw new CutoverError('etl.thread-boot', 'cannot find tsx/esm/api to start a worker thread on TypeScript sources');
  tsxApi = pathToFileURL(path.join(path.dirname(manifest), file)).href;
  return tsxApi;
}

/** A worker thread running `entry` (a file URL of a .ts or .js module), with `data` as its workerData.data. */
export function startThread(entry: URL, data: unknown): Worker {
  const href = entry.href;
  const tsx = fileURLToPath(entry).endsWith('.ts') ? tsxEsmApi() : null;
  return new Worker(BOOT, { eval: true, workerData: { boot: { entry: href, tsx }, data } });
}

/** `name` next to the calling module, with the calling module's extension (.ts from sources, .js compiled). */
export function sibling(name: string, of: string): URL {
  return new URL(`./${name}${of.endsWith('.ts') ? '.ts' : '.js'}`, of);
}
