#!/usr/bin/env node
// The built CLI lives in dist/ (built by `npm install` through the `prepare` script).
// The embedded cloud's thread starts first (when the command will want it), so that it starts
// while the rest of foldsync loads; main() closes it if no engine took it.
import { embeddedWanted, prestartEmbedded } from '../dist/embedded-start.js';

const dataDir = embeddedWanted(process.argv, process.env);
if (dataDir !== null) prestartEmbedded(dataDir);
const { main } = await import('../dist/cli/main.js');
const code = await main(process.argv);
process.exitCode = code;
