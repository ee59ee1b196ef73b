import type { SchemaConvertParams } from '../../runbook/actions/schema-convert.js';
import type { ActionImpl } from '../action.js';
import { ActionError } from '../action.js';
import { renderConversionReport } from '../schema/convert.js';
import { withConvertedSource } from './converted-source.js';
import { openMssqlSource, type RowSourceFactory } from './etl-sources.js';

/** Introspects the source and shows what the conversion would create and what it cannot convert; writes nothing. */
export function schemaConvertAction(openSource: RowSourceFactory = openMssqlSource): ActionImpl<SchemaConvertParams> {
  return {
    id: 'schema.convert',
    async run(ctx, params) {
      return withConvertedSource(ctx, () => openSource(ctx, params.source), params, {}, async ({ conversion }) => {
        const r = conversion.report;
        const details = {
          report: renderConversionReport(r),
          tables: r.tables,
          columns: r.columns,
          warnings: r.warnings.length,
          notConverted: r.notConverted.length,
          errors: r.errors.length,
          statements: conversion.preLoad.length + Object.values(conversion.postLoad).flat().length,
        };
        if (r.errors.length > 0) {
          throw new ActionError('schema.convert_errors', `The conversion has ${r.errors.length} error(s) to fix in the runbook (e.g. ${r.errors[0]?.message}).`, { details });
        }
        return {
          summary: `${r.tables} tables, ${r.columns} columns convert to PostgreSQL; ${r.warnings.length} warnings, ${r.notConverted.length} objects to port by hand.`,
          details,
        };
      });
    },
  };
}
