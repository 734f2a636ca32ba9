#!/usr/bin/env node
// Committed shim so npm links the `cvd` bin at install time, before `dist/` is built.
import { existsSync } from 'node:fs';
const entry = new URL('../dist/bin/cvd.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('cvd: the CLI is not built yet; run `npm run build` (or `npx turbo run build`) first');
  process.exit(1);
}
await import(entry.href);
