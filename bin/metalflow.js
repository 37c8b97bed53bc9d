#!/usr/bin/env -S node --max-semi-space-size=4
// Node flags: src/runtime/node-flags.ts says why (and which other launchers carry them).
// metalflow runs from its TypeScript sources through tsx: there is no build step to forget.
require('tsx/cjs/api').register();
require('../src/cli/main.ts');
