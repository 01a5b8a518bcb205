#!/usr/bin/env node
// The built CLI lives in dist/ (built by `npm install` through the `prepare` script).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv);
process.exitCode = code;
