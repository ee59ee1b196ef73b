#!/usr/bin/env node
// The `cutover` bin: TypeScript through tsx (a dependency, as for `npm start`), then cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
// The first Ctrl-C asks the command to stop cleanly (a rehearsal aborts its run and writes its report); a second one exits at once.
const interrupt = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    interrupt.abort();
  });
}
const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), interrupt: interrupt.signal });
process.exitCode = code;
// A handle left open by a driver must not keep a finished command alive; stdout is flushed by then.
setTimeout(() => process.exit(code), 2000).unref();
