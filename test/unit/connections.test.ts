import { describe, expect, it } from 'vitest';
import { ConnectionRegistry, mssqlConfigFromUrl, redactUrl } from '../../engine/connections.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof Error && 'code' in err ? String(err.code) : 'no-code';
  }
  return undefined;
};

describe('mssqlConfigFromUrl', () => {
  it('turns the documented URL into an mssql config', () => {
    expect(mssqlConfigFromUrl('mssql://sa:pass@db.example:1433/KGV?encrypt=false&trustServerCertificate=true')).toEqual({
      server: 'db.example',
      port: 1433,
      user: 'sa',
      password: 'pass',
      database: 'KGV',
      connectionTimeout: 15_000,
      requestTimeout: 0,
      options: { encrypt: false, trustServerCertificate: true, appName: 'cutover', lowerCaseGuids: true },
    });
  });

  it('decodes percent-encoded user, password and database', () => {
    const config = mssqlConfigFromUrl('sqlserver://DOMAIN%5Cmigrator:p%40ss%3Aw%2Frd@10.0.0.5/ERP%20Prod');
    expect(config).toMatchObject({ user: 'DOMAIN\\migrator', password: 'p@ss:w/rd', database: 'ERP Prod', server: '10.0.0.5' });
    expect(config.port).toBeUndefined();
  });

  it('encrypts and verifies the certificate unless the URL says otherwise', () => {
    expect(mssqlConfigFromUrl('mssql://u:p@h/db').options).toMatchObject({ encrypt: true, trustServerCertificate: false });
  });

  it('takes timeouts, a named instance and an application name', () => {
    const config = mssqlConfigFromUrl('mssql://u:p@h:1433/db?instanceName=LEGACY&requestTimeout=60000&connectTimeout=5000&appName=kgv-cutover');
    expect(config).toMatchObject({ requestTimeout: 60_000, connectionTimeout: 5_000 });
    expect(config.options).toMatchObject({ instanceName: 'LEGACY', appName: 'kgv-cutover' });
    expect(config.port).toBeUndefined();
  });

  it.each([
    ['an unknown parameter', 'mssql://u:p@h/db?encrypted=false'],
    ['a flag that is not true/false', 'mssql://u:p@h/db?encrypt=no'],
    ['a timeout that is not milliseconds', 'mssql://u:p@h/db?requestTimeout=5m'],
    ['another scheme', 'postgres://u:p@h/db'],
    ['text that is no URL', 'Server=h;User Id=u;Password=p'],
  ])('refuses %s with connection.bad_url and no password in the message', (_case, url) => {
    let message = '';
    try {
      mssqlConfigFromUrl(url);
    } catch (err) {
      message = err instanceof Error ? err.message : '';
    }
    expect(codeOf(() => mssqlConfigFromUrl(url))).toBe('connection.bad_url');
    expect(message).not.toMatch(/:p@|Password=p/);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://postgres:s3cret@db:5432/app', 'postgres://postgres:***@db:5432/app'],
    ['mssql://sa:p%40ss@h:1433/db?encrypt=false', 'mssql://sa:***@h:1433/db?encrypt=false'],
    ['postgres://db/app?sslmode=require&password=s3cret', 'postgres://db/app?sslmode=require&password=***'],
    ['postgres://postgres@db/app', 'postgres://postgres@db/app'],
    ['not a url //user:s3cret@host', 'not a url //user:***@host'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe('ConnectionRegistry', () => {
  const registry = new ConnectionRegistry({
    target: { kind: 'postgres', url: 'postgres://app:pg-S3cret@db/app' },
    source: { kind: 'mssql', url: 'mssql://sa:ms%40S3cret@legacy/kgv' },
  });

  it('knows each connection kind and names the declared ones when asked for another', () => {
    expect(registry.kind('source')).toBe('mssql');
    expect(registry.kind('target')).toBe('postgres');
    expect(codeOf(() => registry.kind('legacy'))).toBe('connection.unknown');
    expect(() => registry.kind('legacy')).toThrow('no connection named "legacy" in this runbook (declared: target, source)');
  });

  it('refuses a pool of the wrong kind', () => {
    expect(codeOf(() => registry.postgres('source'))).toBe('connection.kind');
  });

  it('removes raw and decoded passwords from any text', () => {
    const text = 'failed: postgres://app:pg-S3cret@db/app, login ms@S3cret and ms%40S3cret';
    expect(registry.redact(text)).toBe('failed: ***, login *** and ***');
  });

  it('describes a connection without its password', () => {
    expect(registry.describe('target')).toBe('postgres://app:***@db/app');
  });
});

it('redactUrl hides the password of an ADO-style connection string too', () => {
  expect(redactUrl('Server=h;User Id=sa;Password=s3cret;Database=kgv')).toBe('Server=h;User Id=sa;Password=***;Database=kgv');
});
