import type { ValidationCheck } from './validation-result.js';

/**
 * Every code a CutoverError, an ActionError or a refusal of the core may carry:
 * the machine half of an error (the sentence is for people). A code is part of
 * the record (events, the audit JSON, metrics labels), so codes are added here,
 * never made up at a throw; `npm test` type-checks every throw and refusal
 * against this list. Codes read back from stored events stay plain strings:
 * an older version may have written a code this one no longer has.
 */
export const ERROR_CODES = [
  'action.failed',
  'approval.duplicate', 'approval.separation_of_duties', 'approval.unreachable',
  'backup.bad_url', 'backup.cancelled', 'backup.checkpoint', 'backup.dir', 'backup.disk_space', 'backup.empty',
  'backup.mssql_failed', 'backup.no_server_facts', 'backup.pg_dump_failed', 'backup.pg_dump_too_old',
  'backup.required', 'backup.tool_missing', 'backup.tool_version', 'backup.unknown_schema', 'backup.unreadable',
  'checksum.float_in_row', 'checksum.key_not_mapped', 'checksum.no_integer_key',
  'cli.usage',
  'command.unknown',
  'connection.bad_url', 'connection.kind', 'connection.unknown',
  'engine.catalog', 'engine.unknown_action',
  'env.invalid',
  'escalation.acknowledged', 'escalation.already_acknowledged', 'escalation.cleared', 'escalation.duplicate',
  'escalation.not_acknowledgeable', 'escalation.not_resolvable', 'escalation.not_sent',
  'etl.bad_chunk_size', 'etl.cancelled', 'etl.chunk_lost', 'etl.copy-failed', 'etl.fan_out_stopped',
  'etl.fan_out_unsupported', 'etl.load-failed', 'etl.mapping-invalid', 'etl.not_reconciled', 'etl.row-shape',
  'etl.source_kind', 'etl.sync-failed', 'etl.thread-boot', 'etl.thread-died', 'etl.thread-misused',
  'etl.thread-recipe', 'etl.threads-closed', 'etl.too-many-rejected', 'etl.unknown_table',
  'follow_up.already_done', 'follow_up.already_snoozed', 'follow_up.bad_snooze', 'follow_up.not_due',
  'follow_up.not_owed', 'follow_up.not_scheduled', 'follow_up.unknown',
  'freeze.cancelled', 'freeze.connect', 'freeze.database', 'freeze.failed', 'freeze.not_proven', 'freeze.sessions',
  'freeze.sessions_connected',
  'gate.already_overridden', 'gate.blocked', 'gate.green', 'gate.no_authority', 'gate.not_gated',
  'gate.reason_required',
  'go_no_go.already_decided', 'go_no_go.already_requested', 'go_no_go.not_requested',
  'health.no_overview',
  'http.body', 'http.cancelled', 'http.status', 'http.timeout', 'http.unreachable',
  'internal.unexpected',
  'ledger.already_committed', 'ledger.partial', 'ledger.unavailable',
  'load.unknown_tables',
  'local.no_http_port', 'local.postgres_binaries', 'local.postgres_failed', 'local.postgres_password_missing',
  'local.postgres_shared_dir', 'local.postgres_stale', 'local.postgres_unreachable', 'local.postgres_user',
  'mssql.bad_chunk', 'mssql.bad_count', 'mssql.bad_mark', 'mssql.bad_row', 'mssql.bad_value', 'mssql.cancelled',
  'mssql.catalog_failed', 'mssql.catalog_unexpected', 'mssql.kind_mismatch', 'mssql.no_columns', 'mssql.read_failed',
  'mssql.thread-recipe', 'mssql.unsupported_type',
  'plan.conversion_errors', 'plan.empty_snapshot', 'plan.exists', 'plan.invalid_runbook', 'plan.no_tables',
  'plan.schema_mismatch', 'plan.snapshot_naming', 'plan.source_kind', 'plan.source_unreachable',
  'plan.unknown_tables',
  'queries.baseline_failed', 'queries.cancelled', 'queries.no_baseline_step',
  'queue.bad_job', 'queue.bad_job_id', 'queue.job_failed',
  'reason.required',
  'rehearse.run_missing',
  'restore.backup_refused', 'restore.cancelled', 'restore.count_mismatch', 'restore.failed', 'restore.no_backup',
  'retry.cancelled', 'retry.exhausted', 'retry.stale_try',
  'role.not_member', 'role.not_permitted', 'role.unknown',
  'rollback.already_approved', 'rollback.already_requested', 'rollback.cancelled', 'rollback.key_unmapped',
  'rollback.no_export', 'rollback.no_golive', 'rollback.no_key', 'rollback.no_source_column',
  'rollback.no_source_table', 'rollback.no_table', 'rollback.not_converted', 'rollback.not_requested',
  'rollback.pg_tag', 'rollback.replay_mismatch', 'rollback.source_twice', 'rollback.source_unreachable',
  'rollback.stale', 'rollback.truncate_failed', 'rollback.unapprovable', 'rollback.unknown_scenario',
  'rollback.unrepresentable', 'rollback.unsupported_type', 'rollback.untracked', 'rollback.unwritable_column',
  'run.aborted', 'run.already_active', 'run.already_paused', 'run.contended', 'run.corrupt_event', 'run.create_empty',
  'run.exists', 'run.finished', 'run.id_taken', 'run.not_found', 'run.not_paused', 'run.paused', 'run.rolling_back',
  'runbook.dir_unreadable', 'runbook.invalid', 'runbook.not_found', 'runbook.step_missing',
  'sample.dir_in_use', 'sample.inconsistent', 'sample.not_a_directory',
  'schema.apply_failed', 'schema.cancelled', 'schema.convert_errors', 'schema.not_run', 'schema.tables_exist',
  'shell.cancelled', 'shell.cwd', 'shell.exit_code', 'shell.signal', 'shell.spawn',
  'slack.no_channel', 'slack.no_ts',
  'snapshot.incomplete', 'snapshot.manifest-invalid', 'snapshot.manifest-missing', 'snapshot.mapping-mismatch',
  'snapshot.missing-file', 'snapshot.tampered', 'snapshot.unknown-chunk', 'snapshot.unknown-table',
  'snapshot.unreadable', 'snapshot.verify-failed', 'snapshot.verify_failed',
  'sql.cancelled', 'sql.connection', 'sql.empty', 'sql.expectation', 'sql.failed', 'sql.file_missing',
  'sql.file_outside', 'sql.transaction_ended',
  'step.already_held', 'step.earlier_unfinished', 'step.not_found', 'step.not_held', 'step.not_queued',
  'step.not_retryable', 'step.not_running', 'step.not_skippable', 'step.not_skippable_now', 'step.not_waiting',
  'step.stale_attempt', 'step.timeout',
  'switch.flip_failed', 'switch.smoke_failed', 'switch.track_kind',
  'sync.bad_mark', 'sync.bad_range', 'sync.bad_watermark', 'sync.mark_changed', 'sync.no_key', 'sync.no_mark',
  'sync.plan',
  'timeout.not_yet', 'timeout.rollback_step',
  'unfreeze.failed', 'unfreeze.no_freeze', 'unfreeze.not_proven',
  'validate.bad_count', 'validate.bad_param', 'validate.cancelled', 'validate.checksums_differ',
  'validate.inexact_value', 'validate.source_failed', 'validate.source_kind',
  'worker.crashed', 'worker.lock_lost', 'worker.lost', 'worker.shutdown', 'worker.stalled',
  'workspace.bad_state', 'workspace.no_address',
] as const;

/** A failed validation step: `validate.counts_red`, `validate.checksums_red`, … */
type RedValidation = `validate.${ValidationCheck}_red`;

export type ErrorCode = (typeof ERROR_CODES)[number] | RedValidation;

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);
const RED = /^validate\.[a-z]+_red$/;

export const isErrorCode = (code: string): code is ErrorCode => KNOWN.has(code) || RED.test(code);

/** A code that crossed a thread or process boundary as text, checked; an unknown one becomes `fallback` rather than a lie. */
export const toErrorCode = (code: string, fallback: ErrorCode = 'internal.unexpected'): ErrorCode => (isErrorCode(code) ? code : fallback);
