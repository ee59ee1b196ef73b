import type { WatermarkSpec } from '../../runbook/actions/etl-sync.js';
import type { TableMapping } from '../etl/contracts.js';
import type { Watermark } from '../etl/sync-contracts.js';
import type { SchemaModel } from '../schema/model.js';

export interface TableSync {
  table: TableMapping;
  watermark: Watermark & { overlapMs: number };
}

/**
 * Which column each table is synced by: the runbook's per-table entry, else
 * its default. Everything that cannot work is collected, so the step is
 * refused once with the whole list before any table moves. Pure.
 */
export function planSync(
  model: SchemaModel,
  mappings: TableMapping[],
  byDefault: WatermarkSpec,
  perTable: Record<string, WatermarkSpec>,
): { tables: TableSync[]; problems: string[] } {
  const problems: string[] = [];
  const names = (t: TableMapping): string[] => [`${t.source.schema}.${t.source.name}`.toLowerCase(), t.source.name.toLowerCase()];
  for (const key of Object.keys(perTable)) {
    if (!mappings.some((t) => names(t).includes(key.toLowerCase()))) problems.push(`tables_watermark names ${key}, which is not among the synced tables`);
  }
  const tables: TableSync[] = [];
  for (const table of mappings) {
    const name = `${table.source.schema}.${table.source.name}`;
    const entry = Object.entries(perTable).find(([k]) => names(table).includes(k.toLowerCase()));
    const spec = entry ? entry[1] : byDefault;
    if (!table.key) {
      problems.push(`${name} has no primary key or NOT NULL unique key: rows cannot be matched (leave it out with tables, or copy it in full)`);
      continue;
    }
    const watermark = resolve(model, table, spec);
    if (typeof watermark === 'string') problems.push(`${name}: ${watermark}`);
    else tables.push({ table, watermark });
  }
  return { tables, problems };
}

function resolve(model: SchemaModel, table: TableMapping, spec: WatermarkSpec): TableSync['watermark'] | string {
  const copied = (n: string) => table.columns.find((c) => c.source.toLowerCase() === n.toLowerCase());
  if (spec === 'rowversion') {
    const t = model.tables.find((x) => x.schema === table.source.schema && x.name === table.source.name);
    const rv = t?.columns.find((c) => c.isRowVersion && copied(c.name));
    if (!rv) return 'has no rowversion column; name a modified-at column for it in tables_watermark';
    return { column: copied(rv.name)?.source ?? rv.name, kind: 'rowversion', overlapMs: 0 };
  }
  const column = copied(spec.column);
  if (!column) return `has no copied column ${spec.column}`;
  if (!/^(datetime|datetime2|smalldatetime)\s*(\(|$)/i.test(column.sourceType.trim())) return `${column.source} is ${column.sourceType}; a modified-at column must be datetime, datetime2 or smalldatetime`;
  return { column: column.source, kind: 'timestamp', overlapMs: spec.overlap * 1000 };
}
