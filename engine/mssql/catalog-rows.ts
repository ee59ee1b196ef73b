import { z } from 'zod';

/**
 * The rows the catalog queries (catalog-queries.ts) return, one schema per
 * query, checked once where they leave the driver. `bit` arrives as a
 * boolean from tedious; 0/1 is accepted too so a TDS server that sends bits
 * as integers is read the same way.
 */
const flag = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1);
const id = z.number().int();
const text = z.string();
const optionalText = z.string().nullable();
const small = z.number().int().nullable();
/** bigint counts are selected as varchar: tedious would hand a bigint over as a string anyway. */
const count = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number);

export const databaseRow = z.object({
  database_name: text,
  collation_name: optionalText,
  server_version: optionalText,
});

export const tableRow = z.object({
  object_id: id,
  schema_name: text,
  table_name: text,
  row_count: count,
});

export const columnRow = z.object({
  object_id: id,
  column_id: id,
  column_name: text,
  type_name: text,
  user_type_name: optionalText,
  /** Bytes, as sys.columns holds it (an nvarchar(50) has 100); -1 is (max). */
  max_length: z.number().int(),
  precision: small,
  scale: small,
  is_nullable: flag,
  is_identity: flag,
  is_computed: flag,
  identity_seed: optionalText,
  identity_increment: optionalText,
  default_definition: optionalText,
  collation_name: optionalText,
});

export const computedColumnRow = z.object({
  object_id: id,
  column_id: id,
  definition: text,
  is_persisted: flag,
});

export const indexColumnRow = z.object({
  object_id: id,
  index_id: id,
  index_name: text,
  is_primary_key: flag,
  is_unique_constraint: flag,
  is_unique: flag,
  filter_definition: optionalText,
  column_name: text,
  /** 0 for included (and partitioning-only) columns. */
  key_ordinal: z.number().int(),
  index_column_id: id,
  is_descending_key: flag,
  is_included_column: flag,
});

const ACTIONS = { NO_ACTION: 'NO ACTION', CASCADE: 'CASCADE', SET_NULL: 'SET NULL', SET_DEFAULT: 'SET DEFAULT' } as const;
const referentialAction = z.enum(['NO_ACTION', 'CASCADE', 'SET_NULL', 'SET_DEFAULT']).transform((a) => ACTIONS[a]);

export const foreignKeyColumnRow = z.object({
  object_id: id,
  parent_object_id: id,
  fk_name: text,
  ref_schema: text,
  ref_table: text,
  delete_referential_action_desc: referentialAction,
  update_referential_action_desc: referentialAction,
  is_not_trusted: flag,
  is_disabled: flag,
  constraint_column_id: id,
  column_name: text,
  ref_column_name: text,
});

export const checkRow = z.object({
  parent_object_id: id,
  check_name: text,
  definition: text,
  column_name: optionalText,
});

export const otherRow = z.object({
  schema_name: text,
  object_name: text,
  object_type: text,
  parent_name: optionalText,
});

export const catalogRows = z.object({
  database: databaseRow,
  tables: z.array(tableRow),
  columns: z.array(columnRow),
  /** Empty when no column is computed (the query is not run then). */
  computedColumns: z.array(computedColumnRow),
  indexColumns: z.array(indexColumnRow),
  foreignKeyColumns: z.array(foreignKeyColumnRow),
  checks: z.array(checkRow),
  others: z.array(otherRow),
});

/** Rows as the server returns them (what fixtures are written in). */
export type CatalogRowsInput = z.input<typeof catalogRows>;
/** Rows after checking: flags as booleans, counts as numbers. */
export type CatalogRows = z.output<typeof catalogRows>;
export type ColumnRow = z.output<typeof columnRow>;
export type IndexColumnRow = z.output<typeof indexColumnRow>;
export type ForeignKeyColumnRow = z.output<typeof foreignKeyColumnRow>;
