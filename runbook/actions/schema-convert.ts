import type { z } from 'zod';
import { connectionName } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { defineAction, READS_ONLY } from './spec.js';

export const schemaConvertParams = conversionOptionsSchema.extend({ source: connectionName }).strict();
export type SchemaConvertParams = z.infer<typeof schemaConvertParams>;

export const schemaConvertSpec = defineAction({
  id: 'schema.convert',
  summary: 'introspect SQL Server and report the PostgreSQL schema it converts to (writes nothing)',
  params: schemaConvertParams,
  recovery: READS_ONLY,
  connections: (p: SchemaConvertParams) => [p.source],
});
