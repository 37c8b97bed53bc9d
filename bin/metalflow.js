#!/usr/bin/env node
// metalflow runs from its TypeScript sources through tsx: there is no build step to forget.
require('tsx/cjs/api').register();
require('../src/cli/main.ts');
