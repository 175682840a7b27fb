#!/usr/bin/env node
// `npx precog …`: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../cli/precog.ts');
process.exitCode = await runCli(process.argv.slice(2));
