import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { defineAction, type CrashRecovery } from './spec.js';

export const httpParams = z
  .object({
    url: z.string().url('expected an absolute http(s) URL'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    expect_status: z.union([z.number().int(), z.array(z.number().int()).min(1)]).default(200),
    expect_body_contains: z.string().optional(),
    request_timeout: durationSchema.optional(),
  })
  .strict();
export type HttpParams = z.infer<typeof httpParams>;

export const httpSpec = defineAction({
  id: 'http',
  summary: 'make an HTTP request and check its status',
  params: httpParams,
  recovery: (p: HttpParams): CrashRecovery =>
    p.method === 'GET' || p.method === 'HEAD' ? { kind: 'rerun', why: `${p.method} changes nothing` } : { kind: 'ask', why: `a ${p.method} request may have taken effect before the worker stopped` },
  connections: () => [],
});
