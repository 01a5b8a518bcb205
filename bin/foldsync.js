#!/usr/bin/env node
// The built CLI lives in dist/ (built by `npm install` through the `prepare` script): one bundle
// in dist/bundle/ (ADR 0013), or the separate modules when the bundle was not built.
// The embedded cloud's thread starts first (when the command will want it), so that it starts
// while the rest of foldsync loads; main() closes it if no engine took it. A `run` also reads its
// tasks' snapshots meanwhile.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// undici parses HTTP with llhttp compiled to WebAssembly. V8 also compiles that module with its
// optimizing tier on a background thread, and a process (or the embedded cloud's thread) cannot
// end while such a compile is running: 200-600 ms at the end of every `run --once` measured here.
// The baseline (Liftoff) code is plenty for the few responses a command parses (ADR 0013).
setFlagsFromString('--liftoff-only');

const dist = existsSync(new URL('../dist/bundle/main.js', import.meta.url)) ? '../dist/bundle' : '../dist';
const { embeddedWanted, prestartEmbedded, prereadSnapshots, snapshotsWanted } = await import(`${dist}/embedded-start.js`);
const dataDir = embeddedWanted(process.argv, process.env);
if (dataDir !== null) prestartEmbedded(dataDir);
// A run restores every task from its snapshot: the files are read while the rest loads.
const snapshots = snapshotsWanted(process.argv, process.env);
if (snapshots !== null) void prereadSnapshots(snapshots);
const { main } = await import(dist === '../dist' ? `${dist}/cli/main.js` : `${dist}/main.js`);
const code = await main(process.argv);
// Everything main() opened is closed by now (engine, event log, the embedded cloud's thread). A
// natural end would still free the whole heap piece by piece first (100-200 ms after a run over a
// large tree); exiting skips that, once what was written to stdout and stderr has gone out.
await new Promise((resolve) => process.stdout.write('', () => process.stderr.write('', resolve)));
process.exit(code);
