/**
 * The layers of DESIGN.md, enforced: runbook/ is the pure core (no I/O, no
 * drivers, no Slack, no other layer), engine/ never speaks Slack, bot/ never
 * reaches into the engine; only the process wiring (app/, local/, cli/) joins
 * them. Cycles are refused including type-only imports, which is where they
 * hide. `npm run lint` runs this with eslint and knip.
 */
const LAYERS = '^(app|bot|engine|runbook|config|local|workspace|cli|bench|test)/';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'a cycle (type-only imports included) ties modules that should be apart', from: {}, to: { circular: true } },
    { name: 'runbook-is-pure', severity: 'error', comment: 'runbook/ is the pure core: no node:*, no drivers, no Slack, no other layer', from: { path: '^runbook/' }, to: { pathNot: ['^runbook/', '^node_modules/(zod|yaml)/'] } },
    { name: 'engine-without-slack', severity: 'error', comment: 'the engine runs steps; Slack belongs to bot/', from: { path: '^engine/' }, to: { path: ['^bot/', '^local/', '^workspace/', '^cli/', '^app/', '^node_modules/@slack/'] } },
    { name: 'bot-without-engine', severity: 'error', comment: 'bot/ reaches the engine through the job queue and the run service, never its internals', from: { path: '^bot/' }, to: { path: ['^engine/', '^local/', '^cli/', '^app/'] } },
    { name: 'config-below-layers', severity: 'error', comment: 'config/ holds adapters and settings the layers share; it imports none of them but the core', from: { path: '^config/' }, to: { path: ['^bot/', '^engine/', '^local/', '^cli/', '^app/', '^workspace/'] } },
    { name: 'product-without-tests', severity: 'error', comment: 'the product never imports the test suite (benchmarks may drive real processes through its harness)', from: { path: '^(app|bot|engine|runbook|config|local|workspace|cli)/' }, to: { path: '^test/' } },
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    includeOnly: LAYERS.replace(')/', ')/') + '|^node_modules/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
