import type pg from 'pg';

/** What a CLI command's logic needs: the database and somewhere to write its output lines. */
export interface CommandContext {
  pool: pg.Pool;
  out: (line: string) => void;
}
