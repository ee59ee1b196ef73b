import { z } from 'zod';
import { CutoverError } from '../runbook/errors.js';

/** Milliseconds and counts: bounded so a typo (an extra 0 or three) is refused at boot, not turned into a timer that fires at once (setTimeout wraps above 2^31-1 ms). */
const DAY_MS = 86_400_000;
const int = (fallback: number, max = DAY_MS) => z.coerce.number().int().positive().max(max).default(fallback);
/** A URL or path from the environment: longer than any real one, short enough to log and echo. */
const URL_MAX = 2048;
const PATH_MAX = 4096;

/** Every environment variable the processes read. docs/running.md documents each. */
const baseEnv = z.object({
    SLACK_BOT_TOKEN: z.string().max(512).regex(/^xox[bp]-/, 'expected a bot token starting with xoxb-').optional(),
    SLACK_SIGNING_SECRET: z.string().min(8, 'expected the app signing secret').max(512).optional(),
    SLACK_APP_TOKEN: z.string().max(512).regex(/^xapp-/, 'expected an app-level token starting with xapp-').optional(),
    SLACK_API_URL: z.string().max(URL_MAX).url().default('https://slack.com/api/'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    REDIS_URL: z.string().max(URL_MAX).regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z.string().max(64).regex(/^[\w-]+$/).default('cutover'),
    RUNBOOKS_DIR: z.string().max(PATH_MAX).default('config/runbooks'),
    SQL_DIR: z.string().max(PATH_MAX).default('sql'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    WORKER_CONCURRENCY: int(2, 64),
    /** Chunks of fanned-out loads this worker process loads at once, for any step of any run (docs/engine.md, "Every worker"). */
    WORKER_CHUNK_CONCURRENCY: int(2, 64),
    WORKER_LOCK_MS: int(30_000),
    WORKER_STALLED_INTERVAL_MS: int(30_000),
    /** Stalls BullMQ tolerates before it fails a job ("stalled more than allowable limit"); 0 fails it at the first. */
    WORKER_MAX_STALLED_COUNT: z.coerce.number().int().min(0).max(100).default(1),
    RECONCILE_INTERVAL_MS: int(15_000),
    RENDER_INTERVAL_MS: int(1000),
    SLACK_POST_INTERVAL_MS: int(1000),
    /** How often web sweeps for escalations, go/no-go and schedules (cron granularity: 1 s). */
    ESCALATION_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    /** The worker's own GET /metrics and /healthz; 0: none. `npm start` (web + worker in one process) serves everything on PORT instead. */
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    /** When set, GET /metrics (web and worker) requires `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: z.string().min(16, 'expected at least 16 characters (it guards /metrics)').max(512).optional(),
    /** Paging beyond Slack (a runbook's escalation.page): PagerDuty Events API v2 integration key. Never logged. */
    PAGERDUTY_ROUTING_KEY: z.string().min(1).max(200).optional(),
    /** Where PagerDuty events are sent (tests point it at a local receiver). */
    PAGERDUTY_EVENTS_URL: z.string().max(URL_MAX).url().default('https://events.pagerduty.com/v2/enqueue'),
    /** A generic paging webhook and the secret its deliveries are signed with (HMAC-SHA256). Neither is logged. */
    PAGE_WEBHOOK_URL: z.string().max(URL_MAX).url().optional(),
    PAGE_WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters (it signs the pages)').max(512).optional(),
    /** Test-only: shifts web's clock, read once at start, so T-24h reminders can be tested in seconds. */
    CUTOVER_CLOCK_OFFSET_MS: z.coerce.number().int().min(-365 * DAY_MS).max(365 * DAY_MS).default(0),
});

export const envSchema = baseEnv.superRefine(
  (env, ctx) => {
    if (!env.SLACK_BOT_TOKEN) ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required (the bot token, xoxb-…)' });
    // An unsigned page could be forged by anyone who finds the URL; a secret without a URL pages nowhere.
    if (Boolean(env.PAGE_WEBHOOK_URL) !== Boolean(env.PAGE_WEBHOOK_SECRET)) {
      ctx.addIssue({ code: 'custom', path: [env.PAGE_WEBHOOK_URL ? 'PAGE_WEBHOOK_SECRET' : 'PAGE_WEBHOOK_URL'], message: 'is required with the other (PAGE_WEBHOOK_URL and PAGE_WEBHOOK_SECRET go together)' });
    }
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required in HTTP mode (set SLACK_APP_TOKEN for Socket Mode instead)' });
    }
  },
  // zod skips refinements once a field failed; run anyway so a bad PORT and a missing token are reported together.
  { when: () => true },
);

export type Env = z.infer<typeof envSchema>;
export type WorkerEnv = Pick<Env, 'REDIS_URL' | 'REDIS_PREFIX' | 'RUNBOOKS_DIR' | 'SQL_DIR' | 'LOG_LEVEL' | 'WORKER_CONCURRENCY' | 'WORKER_CHUNK_CONCURRENCY' | 'WORKER_LOCK_MS' | 'WORKER_STALLED_INTERVAL_MS' | 'WORKER_MAX_STALLED_COUNT' | 'WORKER_METRICS_PORT' | 'METRICS_TOKEN'>;

/** Every problem of the environment at once, so one restart fixes them all. */
export class EnvError extends CutoverError {
  constructor(readonly problems: string[]) {
    super('env.invalid', `Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

function parseWith<T>(schema: z.ZodType<T>, source: Record<string, string | undefined>): T {
  // An empty variable (`PORT=` in a .env file) means unset: PORT='' would otherwise coerce to port 0.
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== '')));
  if (parsed.success) return parsed.data;
  // Every problem at once, so one restart fixes them all.
  throw new EnvError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'} ${i.message}`));
}

/** The web process needs Slack credentials; throws EnvError listing every bad or missing variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  return parseWith(envSchema, source);
}

/** The worker needs no Slack credentials at all. */
export function loadWorkerEnv(source: Record<string, string | undefined> = process.env): WorkerEnv {
  return parseWith(
    baseEnv.pick({
      REDIS_URL: true,
      REDIS_PREFIX: true,
      RUNBOOKS_DIR: true,
      SQL_DIR: true,
      LOG_LEVEL: true,
      WORKER_CONCURRENCY: true,
      WORKER_CHUNK_CONCURRENCY: true,
      WORKER_LOCK_MS: true,
      WORKER_STALLED_INTERVAL_MS: true,
      WORKER_MAX_STALLED_COUNT: true,
      WORKER_METRICS_PORT: true,
      METRICS_TOKEN: true,
    }),
    source,
  );
}
