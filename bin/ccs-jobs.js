#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the CLI works straight after `npm ci`.
require('tsx/cjs');
require('../src/cli/main.ts').run();
