#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npm install` leaves a working command
// with no build step and no stale output (see docs/dependencies.md).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
