import type { ReplayRow } from './source';

/**
 * A replay-ordered row stream read one instant at a time: `next()` gives every row seen at the
 * next instant (one batch for the tape player), or null at the end. Holds one row of lookahead.
 */
export class InstantReader {
  private readonly iterator: AsyncIterator<ReplayRow>;
  private pending: ReplayRow | null = null;
  private done = false;

  constructor(rows: AsyncIterable<ReplayRow>) {
    this.iterator = rows[Symbol.asyncIterator]();
  }

  async next(): Promise<ReplayRow[] | null> {
    const first = this.pending ?? (await this.read());
    if (!first) return null;
    const batch = [first];
    this.pending = null;
    for (;;) {
      const row = await this.read();
      if (!row) break;
      if (row.at.getTime() !== first.at.getTime()) {
        this.pending = row;
        break;
      }
      batch.push(row);
    }
    return batch;
  }

  private async read(): Promise<ReplayRow | null> {
    if (this.done) return null;
    const step = await this.iterator.next();
    if (step.done) {
      this.done = true;
      return null;
    }
    return step.value;
  }
}
