// Builds the libtorch addon explicitly (npm may skip install scripts).
// Uses the Node headers that ship with this Node when present, so the build
// needs no download; `--debug` builds without optimisation.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const require = createRequire(import.meta.url);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');

const args = [gyp, 'rebuild', `--jobs=${Math.max(1, cpus().length)}`];
const nodeDir = resolve(dirname(process.execPath), '..');
if (existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
if (process.argv.includes('--debug')) args.push('--debug');

const started = Date.now();
const res = spawnSync(process.execPath, args, { cwd: pkg, stdio: 'inherit' });
if (res.status !== 0) {
  console.error(`native build failed (exit ${res.status}); LIBTORCH=${process.env.LIBTORCH ?? '(system libtorch-dev)'}`);
  process.exit(res.status ?? 1);
}
console.log(`native addon built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
