import type { ConversionParams } from '../../runbook/actions/conversion-params.js';
import type { ConversionOptions } from '../schema/convert.js';

/** The runbook's snake_case conversion parameters as convertSchema's options. */
export function conversionOptions(p: ConversionParams): ConversionOptions {
  return {
    targetSchema: p.target_schema,
    naming: p.naming,
    overrides: p.overrides,
    timezone: p.timezone,
    postgis: p.postgis,
    ...(p.tables ? { tables: p.tables } : {}),
    ...(p.case_insensitive !== 'report' ? { caseInsensitive: p.case_insensitive } : {}),
  };
}

/** PostgreSQL session zone for COPY: wall-clock values are read as instants in the runbook's zone. */
export const sessionZone = (p: ConversionParams): string | null => (p.timezone === 'wall-clock' ? null : p.timezone.zone);
