#!/usr/bin/env node
// The `cutover` bin: TypeScript through tsx (a dependency, as for `npm start`), then cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
process.exitCode = code;
// A handle left open by a driver must not keep a finished command alive; stdout is flushed by then.
setTimeout(() => process.exit(code), 2000).unref();
