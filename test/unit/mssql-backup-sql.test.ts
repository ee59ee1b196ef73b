import { describe, expect, it } from 'vitest';
import { BACKUPSET_SQL, LOG_CHAIN_SQL, VERIFY_SQL, backupDatabaseSql, backupFilePath, logChainCheck, quoteName } from '../../engine/backup/mssql-backup-sql.js';

describe('backup.mssql SQL (issue 5)', () => {
  it('backs up copy-only with checksums to a file given as a parameter, never spliced into the text', () => {
    expect(backupDatabaseSql('KGV', { compression: false })).toBe('BACKUP DATABASE [KGV] TO DISK = @file WITH COPY_ONLY, CHECKSUM, INIT, FORMAT, STATS = 10;');
  });

  it('adds COMPRESSION only when asked', () => {
    expect(backupDatabaseSql('KGV', { compression: true })).toContain('WITH COPY_ONLY, CHECKSUM, COMPRESSION, INIT, FORMAT');
    expect(backupDatabaseSql('KGV', { compression: false })).not.toContain('COMPRESSION');
  });

  it('quotes names with brackets and doubles a closing bracket, so a name cannot end the identifier', () => {
    expect(quoteName('a]b')).toBe('[a]]b]');
    expect(backupDatabaseSql('x]; DROP DATABASE y; --', { compression: false })).toBe(
      'BACKUP DATABASE [x]]; DROP DATABASE y; --] TO DISK = @file WITH COPY_ONLY, CHECKSUM, INIT, FORMAT, STATS = 10;',
    );
    expect(quoteName('Zählerstand [alt]')).toBe('[Zählerstand [alt]]]');
  });

  it('refuses names SQL Server could not have', () => {
    expect(() => quoteName('')).toThrow(RangeError);
    expect(() => quoteName('x'.repeat(129))).toThrow('1 to 128 characters');
    expect(() => quoteName('a\u0000b')).toThrow('NUL');
  });

  it('verifies with CHECKSUM and reads msdb and the log chain by parameters', () => {
    expect(VERIFY_SQL).toBe('RESTORE VERIFYONLY FROM DISK = @file WITH CHECKSUM;');
    expect(BACKUPSET_SQL).toMatch(/first_lsn[\s\S]*last_lsn[\s\S]*backup_size[\s\S]*backup_finish_date/);
    expect(BACKUPSET_SQL).toContain('bs.database_name = @db AND mf.physical_device_name = @file');
    expect(LOG_CHAIN_SQL).toContain('recovery_model_desc');
    expect(LOG_CHAIN_SQL).toContain("b.type = 'L'");
    expect(LOG_CHAIN_SQL).toContain('d.name = @db');
  });

  it('joins the file name with the separator of the server directory', () => {
    expect(backupFilePath('D:\\Backups', 'r-s.bak')).toBe('D:\\Backups\\r-s.bak');
    expect(backupFilePath('D:\\Backups\\', 'r-s.bak')).toBe('D:\\Backups\\r-s.bak');
    expect(backupFilePath('/var/opt/mssql/backup', 'r-s.bak')).toBe('/var/opt/mssql/backup/r-s.bak');
  });
});

describe('log-chain check (seed 000 "transaction log backup chain intact")', () => {
  it('is green for FULL recovery with a recent log backup', () => {
    expect(logChainCheck('FULL', 600, 3600)).toMatchObject({ verdict: 'green', recoveryModel: 'FULL', lastLogBackupAgeSeconds: 600, message: 'recovery model FULL; last log backup 10 min ago' });
  });
  it('is amber when the last log backup is older than allowed', () => {
    expect(logChainCheck('FULL', 7200, 3600)).toMatchObject({ verdict: 'amber', message: 'recovery model FULL; the last log backup is 120 min old (more than 60 min)' });
  });
  it('is amber without any log backup, in SIMPLE recovery, or when unreadable', () => {
    expect(logChainCheck('BULK_LOGGED', null, 3600).message).toContain('no log backup recorded');
    expect(logChainCheck('SIMPLE', null, 3600)).toMatchObject({ verdict: 'amber', message: expect.stringContaining('no log backup chain') });
    expect(logChainCheck(null, null, 3600)).toMatchObject({ verdict: 'amber', message: expect.stringContaining('not readable') });
  });
});
