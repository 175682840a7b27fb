import { describe, expect, it } from 'vitest';
import { explainDatabaseError } from '../../cli/commands/databaseErrors';

const netError = (code: string, address: string, port: number) => Object.assign(new Error(`connect ${code} ${address}:${port}`), { code, address, port });
const env = { DATABASE_URL: 'postgres://precog:secret@127.0.0.1:5433/precog' };

describe('database errors explained', () => {
  it('a refused connection to the database names DATABASE_URL and the fix, never the password', () => {
    const explained = explainDatabaseError(netError('ECONNREFUSED', '127.0.0.1', 5433), env)!;
    expect(explained.message).toBe('cannot reach PostgreSQL at 127.0.0.1:5433/precog (DATABASE_URL): connection refused; start PostgreSQL there, or point DATABASE_URL at a running one');
    // localhost tried on ::1 and 127.0.0.1: Node's AggregateError carries the code on its errors.
    const both = Object.assign(new AggregateError([netError('ECONNREFUSED', '::1', 5433), netError('ECONNREFUSED', '127.0.0.1', 5433)]), {});
    expect(explainDatabaseError(both, env)?.message).toMatch(/^cannot reach PostgreSQL/);
  });

  it('the same network error from another address (a venue, SQS) is left as it is', () => {
    expect(explainDatabaseError(netError('ECONNREFUSED', '127.0.0.1', 8080), env)).toBeUndefined();
  });

  it('an unmigrated schema says to run precog migrate; other errors are left alone', () => {
    const undefinedTable = Object.assign(new Error('relation "positions" does not exist'), { code: '42P01' });
    expect(explainDatabaseError(undefinedTable, env)?.message).toBe(
      'the database at 127.0.0.1:5433/precog (DATABASE_URL) is not migrated to this version of Precog (relation "positions" does not exist): run `precog migrate`');
    expect(explainDatabaseError(Object.assign(new Error('duplicate key'), { code: '23505' }), env)).toBeUndefined();
    expect(explainDatabaseError(new Error('no strategy named x'), env)).toBeUndefined();
  });
});
