#!/usr/bin/env node
// The built CLI lives in dist/ (built by `npm install` through the `prepare` script): one bundle
// in dist/bundle/ (ADR 0013), or the separate modules when the bundle was not built.
// The embedded cloud's thread starts first (when the command will want it), so that it starts
// while the rest of foldsync loads; main() closes it if no engine took it.
import { existsSync } from 'node:fs';

const dist = existsSync(new URL('../dist/bundle/main.js', import.meta.url)) ? '../dist/bundle' : '../dist';
const { embeddedWanted, prestartEmbedded } = await import(`${dist}/embedded-start.js`);
const dataDir = embeddedWanted(process.argv, process.env);
if (dataDir !== null) prestartEmbedded(dataDir);
const { main } = await import(dist === '../dist' ? `${dist}/cli/main.js` : `${dist}/main.js`);
const code = await main(process.argv);
process.exitCode = code;
