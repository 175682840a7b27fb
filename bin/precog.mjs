#!/usr/bin/env node
// `npx precog …`: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
// The CLI runs on Node 20 here (the Lambdas on nodejs22.x): the AWS SDK's notice about its future
// Node 22 requirement says nothing about the command the user ran. Set before the SDK loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import('../cli/precog.ts');
process.exitCode = await runCli(process.argv.slice(2));
