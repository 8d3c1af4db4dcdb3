#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the simulator works straight after `npm ci`.
require('tsx/cjs');
require('../src/sim/cli.ts').main();
