/**
 * One attempt of an etl.copy or etl.sync step in a process of its own, for the
 * fault-injection test (test/integration/etl-fault-injection.test.ts): the
 * worker's fault points around the action as the step runner has them
 * (before-effect, after-commit), and the ones inside it (a chunk or a sync
 * window written, not committed). With NODE_ENV=test and CUTOVER_TEST_KILL_AT
 * it SIGKILLs itself there. Prints the result (or the error) as JSON.
 *
 * env: TEST_DATABASE_URL, ACTION (etl.copy | etl.sync), RUN_ID, STEP_ID, TARGET_SCHEMA, BOOKS, ROWS, CHANGES, CHUNK_ROWS
 */
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { etlSyncAction } from '../../engine/actions/etl-sync.js';
import { faultPoint } from '../../engine/fault-injection.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { actionContext } from './engine-context.js';
import { etlFaultSource } from './etl-fault-source.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`etl-step-child: ${name} is not set`);
  return v;
};

const action = env('ACTION');
const stepId = env('STEP_ID');
const source = etlFaultSource(Number(env('ROWS')), Number(env('CHANGES')));
const ctx = actionContext({ runId: env('RUN_ID'), stepId });
const common = { source: 'src', target: 'target', target_schema: env('TARGET_SCHEMA'), bookkeeping_schema: env('BOOKS'), chunk_rows: Number(env('CHUNK_ROWS')) };
let out: Record<string, unknown>;
try {
  faultPoint('before-effect', stepId);
  const result =
    action === 'etl.copy'
      ? await etlCopyAction(async () => source).run(ctx, ACTIONS['etl.copy']?.params.parse(common))
      : await etlSyncAction(async () => source).run(ctx, ACTIONS['etl.sync']?.params.parse(common));
  faultPoint('after-commit', stepId);
  out = { ok: true, summary: result.summary, details: result.details };
} catch (err) {
  out = { ok: false, error: err instanceof Error ? err.message : String(err) };
} finally {
  await ctx.connections.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exitCode = out.ok ? 0 : 1;
