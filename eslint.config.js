// Type-aware rules that catch what tsc lets through: a promise nobody awaits
// (a step's failure lost), a promise where Bolt or Node expects a callback, a
// switch over a union that misses a member, and value imports of types (which
// hide cycles). Layer directions and cycles are checked by dependency-cruiser
// (.dependency-cruiser.cjs), dead code by knip (knip.json).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'var/**', 'dist/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // typeof import('x') stays allowed: it names the type of a module loaded lazily without loading it.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
    },
  },
  {
    // Product code throws CutoverError (or ActionError) with a code from runbook/error-codes.ts, so every failure
    // a person or a metric sees has a name; a bare Error would reach them as "internal.unexpected".
    files: ['app/**/*.ts', 'bot/**/*.ts', 'engine/**/*.ts', 'runbook/**/*.ts', 'config/**/*.ts', 'local/**/*.ts', 'workspace/**/*.ts', 'cli/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Error']", message: 'throw a CutoverError with a code from runbook/error-codes.ts' }],
    },
  },
  {
    // The bot reads runs through the run service's queries (RunQueries in runbook/run-service.ts), which fold
    // through the cache and keep finished runs' histories out of it; the raw event store is the service's and
    // the process wiring's (bot/web.ts hands it to the service), not a listener's.
    files: ['bot/**/*.ts'],
    ignores: ['bot/web.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/runbook/ports.js'], importNames: ['RunStore'], message: 'read runs through RunQueries (runbook/run-service.ts)' }] },
      ],
    },
  },
  {
    // The core and the engine name a person only through mention() (runbook/policy.ts), so how a person is written
    // (Slack's <@U…> today; a name in a file or a terminal) is decided in one place, not in each message.
    files: ['runbook/**/*.ts', 'engine/**/*.ts'],
    ignores: ['runbook/policy.ts'],
    rules: {
      // Both restrictions here: a later block's rule replaces an earlier one's for the same files, it does not add to it.
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Error']", message: 'throw a CutoverError with a code from runbook/error-codes.ts' },
        { selector: 'TemplateElement[value.raw=/<@$/]', message: 'name a person with mention() from runbook/policy.ts' },
      ],
    },
  },
);
