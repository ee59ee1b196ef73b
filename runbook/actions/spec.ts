import type { z } from 'zod';

/**
 * One action a runbook may name: its parameter schema and what the core must
 * know of it. Pure, so a runbook is fully validated at load time, by the bot
 * as well as the worker; engine/actions/ implements each id.
 */
export interface ActionSpec<P = unknown> {
  id: string;
  summary: string;
  params: z.ZodType<P>;
  /**
   * What the worker does with a step this action was running when a worker
   * died (or lost the job's lock): docs/crash-recovery.md has the table.
   */
  recovery: (params: P) => CrashRecovery;
  /** Connections the params refer to, so unknown names fail at load time. */
  connections: (params: P) => string[];
  /**
   * Long database work (ETL, validation, backup, restore): while it runs the
   * worker samples the step's connections for waits and blocking (the
   * runbook's `health:` block) and alerts past its thresholds.
   */
  watchHealth?: true;
  /** Other steps the params name, checked at load: the step exists, runs one of `actions`, and (when `earlier`) comes before this one. */
  stepRefs?: (params: P) => StepRef[];
  /**
   * The snapshot directory the params read (`snapshot:`) or hold (the `dir:`
   * of extract, load and snapshot.verify). Checked at load: every directory
   * read is one a step of the runbook holds, so a typo is not found mid-night.
   */
  snapshot?: (params: P) => SnapshotRef | null;
  /**
   * The action that undoes this step, when these params change something
   * outside the target (freeze.source → unfreeze.source). Every rollback
   * scenario must then hold a step of that action naming this step, or the
   * runbook does not load.
   */
  compensation?: (params: P) => { action: string; field: string } | null;
}

/**
 * Whether a step found "running" after a crash may run again, and why.
 * - ledger: the effect commits in one transaction with its row in the effect
 *   ledger on `connection`; the worker asks the ledger, and a committed effect
 *   is reported, never run again.
 * - resumes: the action keeps its own ledger (chunk checkpoints, sync marks, a
 *   committed switch flip) and a re-run continues where the first stopped.
 * - rerun: running it again is harmless (it only reads, or writes a new file).
 * - ask: a re-run could do it twice; only the step's done_when probe may
 *   decide, otherwise the step stops for a person (Retry or Skip) with `why`.
 */
export type CrashRecovery =
  | { kind: 'ledger'; connection: string }
  | { kind: 'resumes'; why: string }
  | { kind: 'rerun'; why: string }
  | { kind: 'ask'; why: string };

/** A snapshot directory named in a step's params: `holds` for the step that writes, loads or verifies it. */
export interface SnapshotRef {
  field: string;
  dir: string;
  holds: boolean;
}

/** A step named in another step's params. */
export interface StepRef {
  /** The params field holding the id, for the problem's path. */
  field: string;
  stepId: string;
  actions: string[];
  /** The named step must be a forward step before the referring one. */
  earlier: boolean;
  /** Instead: the named step must come before the referring one in the same rollback scenario. */
  inScenario?: boolean;
}

/** An action's spec with its id kept as a literal type, so the catalog can name every id and the engine must implement each. */
export function defineAction<const Id extends string, P>(spec: ActionSpec<P> & { id: Id }): ActionSpec<P> & { id: Id } {
  return spec;
}

export const rerun = (why: string) => (): CrashRecovery => ({ kind: 'rerun', why });
export const READS_ONLY = rerun('it only reads');

/**
 * A validate.* action: it only reads, runs long enough on the databases for
 * its health to be watched, and may run again after a crash (`why` says why,
 * when it is more than "it only reads").
 */
export function readOnlyValidation<const Id extends `validate.${string}`, P>(
  spec: Pick<ActionSpec<P>, 'summary' | 'params' | 'connections' | 'stepRefs' | 'snapshot'> & { id: Id; why?: string },
): ActionSpec<P> & { id: Id } {
  const { why, ...rest } = spec;
  return { ...rest, watchHealth: true, recovery: why === undefined ? READS_ONLY : rerun(why) };
}

export const readsSnapshot = (p: { snapshot?: string | undefined }): SnapshotRef | null => (p.snapshot === undefined ? null : { field: 'snapshot', dir: p.snapshot, holds: false });
export const holdsSnapshot = (p: { dir: string }): SnapshotRef => ({ field: 'dir', dir: p.dir, holds: true });
