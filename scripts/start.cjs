#!/usr/bin/env node
/**
 * `npm start` (and `node scripts/start.cjs <command>`): runs the local CLI (cli/sluice.ts) from one
 * bundled CommonJS file instead of through tsx. tsx transpiles and resolves a few hundred modules on every start
 * (about 1.7 s on a 2-core machine); a bundle loads in a fraction of that.
 *
 * The bundle is built on the first start after `npm ci`, and rebuilt whenever one of its source files, or the
 * installed packages (node_modules/.package-lock.json), is newer than it: no extra step, never a stale build.
 * It lives in .sluice/build/ so that `__dirname` inside it is two levels below the repository, as it is for
 * adapters/local/*.ts (the CLI finds config/ and state-machines/ that way).
 * DuckDB's native binding stays outside the bundle (loaded from node_modules). No minification: error classes keep
 * their names, which the state machine matches.
 */
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { basename, join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'cli', 'sluice.ts');
// A test builds into its own folder (SLUICE_BUILD_DIR, a name under .sluice/), never over the one `npm start` uses.
const OUT_DIR = join(ROOT, '.sluice', basename(process.env.SLUICE_BUILD_DIR || 'build'));
const BUNDLE = join(OUT_DIR, 'cli.cjs');
const INPUTS = join(OUT_DIR, 'cli.inputs.json');
const INSTALLED = join('node_modules', '.package-lock.json');

const mtimeOf = (file) => statSync(join(ROOT, file)).mtimeMs;

/** True when the bundle exists and none of the files it was built from changed since. */
function bundleIsFresh() {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    const inputs = JSON.parse(readFileSync(INPUTS, 'utf8'));
    return inputs.every((file) => mtimeOf(file) <= built);
  } catch {
    return false; // no bundle yet, or an input was removed or renamed
  }
}

function buildBundle() {
  const esbuild = require('esbuild');
  mkdirSync(OUT_DIR, { recursive: true });
  // Written beside and renamed into place, so a concurrent start never loads half a file.
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = esbuild.buildSync({
    entryPoints: [ENTRY],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: ['@duckdb/node-bindings'],
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
  });
  const sources = Object.keys(result.metafile.inputs)
    .map((file) => relative(ROOT, join(process.cwd(), file)))
    .filter((file) => !file.startsWith('node_modules'));
  writeFileSync(INPUTS, JSON.stringify([...sources, INSTALLED]));
  renameSync(tmp, BUNDLE);
}

if (!bundleIsFresh()) buildBundle();
// V8's code cache on disk (Node >= 22.1): later starts skip compiling the bundle's 5 MB.
require('node:module').enableCompileCache?.(join(OUT_DIR, 'compile-cache'));
require(BUNDLE);
