// Bundles the command line (dist/cli/main.js, with the embedded cloud's thread and its early
// start) into dist/bundle/, for bin/foldsync.js: loading one file is about half the cost of
// loading some 400 modules, paid at every start (ADR 0013). The library (dist/index.js) is not
// bundled. Native packages stay outside, loaded through `require`.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // Flat names: embedded.ts finds its worker as ./embedded-worker.js beside itself.
  entryPoints: ['dist/cli/main.js', 'dist/cloud/embedded-worker.js', 'dist/embedded-start.js'],
  entryNames: '[name]',
  outdir,
  bundle: true,
  // One copy of each module shared by the entries: bin/foldsync.js starts the embedded cloud
  // through embedded-start.js, and main.js takes that same start.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', '@parcel/watcher'],
  // CommonJS packages inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __foldsyncRequire } from 'node:module'; const require = __foldsyncRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
