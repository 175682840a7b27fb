import { now as clockNow } from '../../clock/clock';
import { Decimal, ONE } from '../../domain/decimal';
import { decimalOrNull } from '../../db/rows';
import type { Queryable } from '../../db/transaction';
import type { KalshiClient, OrderbookLevel } from '../../venues/kalshi/client';
import type { BookLevel, PaperBook } from './matching';

/** Where the paper exchange observes a market's book. null = no such market. */
export interface BookSource {
  book(ticker: string): Promise<PaperBook | null>;
}

/**
 * How many contracts each level of an ingested top of book offers: a fixed number for every level,
 * `null` (unlimited), or `'recorded'`: the sizes ingestion recorded with the version (Kalshi's
 * `yes_bid_size_fp` / `yes_ask_size_fp`, migration 0020); a version recorded without sizes is
 * unlimited.
 */
export type IngestedDepth = number | null | 'recorded';

/**
 * The book as ingestion last saw it: the current Kalshi market version's top of book, one level
 * per side and direction (ingestion keeps no depth beyond the top). `at` is the version's
 * created_at, so a new snapshot is a new version.
 */
export class IngestedBookSource implements BookSource {
  private readonly depth: Decimal | null | 'recorded';

  constructor(
    private readonly db: Queryable,
    options: { depth: IngestedDepth },
  ) {
    if (options.depth !== null && options.depth !== 'recorded' && (!Number.isSafeInteger(options.depth) || options.depth < 0)) {
      throw new RangeError(`depth must be a non-negative integer, null or 'recorded', got ${String(options.depth)}`);
    }
    this.depth = options.depth === null || options.depth === 'recorded' ? options.depth : new Decimal(options.depth);
  }

  async book(ticker: string): Promise<PaperBook | null> {
    const { rows } = await this.db.query(
      `SELECT yes_price, no_price, yes_bid, no_bid, yes_bid_size, yes_ask_size, status, created_at
         FROM current_markets
        WHERE platform_id = 'kalshi' AND ticker = $1
        ORDER BY created_at DESC, market_version_id DESC
        LIMIT 1`,
      [ticker],
    );
    const row = rows[0] as Record<string, unknown> | undefined;
    if (!row) return null;
    const sized = (recorded: unknown): Decimal | null => (this.depth === 'recorded' ? decimalOrNull(recorded) : this.depth);
    const level = (value: unknown, count: Decimal | null): BookLevel[] => {
      const price = decimalOrNull(value);
      return price !== null && tradable(price) ? [{ price, count }] : [];
    };
    // One book seen from both sides: the YES ask IS the NO bid (1 − p) and the YES bid the NO ask,
    // so the NO side's sizes are the YES side's, crossed.
    const yesAskSize = sized(row.yes_ask_size);
    const yesBidSize = sized(row.yes_bid_size);
    return {
      ticker,
      // yes_price / no_price are the asks (the price to buy each side), yes_bid / no_bid the bids.
      yes: { asks: level(row.yes_price, yesAskSize), bids: level(row.yes_bid, yesBidSize) },
      no: { asks: level(row.no_price, yesBidSize), bids: level(row.no_bid, yesAskSize) },
      open: row.status === 'open',
      at: row.created_at as Date,
    };
  }
}

/**
 * The live public order book from Kalshi, with real depth. Kalshi lists bids only: the asks of
 * one side are the other side's bids at 1 − price (YES ask = 1 − NO bid). `open` comes from the
 * market's status (a second request); `at` is when the book was read.
 */
export class KalshiOrderbookBookSource implements BookSource {
  constructor(
    private readonly client: KalshiClient,
    private readonly now: () => Date = clockNow,
  ) {}

  async book(ticker: string): Promise<PaperBook | null> {
    const [{ markets }, orderbook] = await Promise.all([
      this.client.listMarkets({ tickers: [ticker] }),
      this.client.getOrderbook(ticker),
    ]);
    const market = markets.find((m) => m.ticker === ticker);
    if (!market) return null;
    const bids = (levels: OrderbookLevel[]): BookLevel[] =>
      levels.filter((l) => tradable(l.price) && l.count > 0).map((l) => ({ price: l.price, count: new Decimal(l.count) }));
    const asksFrom = (otherSideBids: OrderbookLevel[]): BookLevel[] =>
      bids(otherSideBids)
        .map((l) => ({ price: ONE.minus(l.price), count: l.count }))
        .sort((a, b) => a.price.comparedTo(b.price));
    return {
      ticker,
      yes: { bids: bids(orderbook.yesBids), asks: asksFrom(orderbook.noBids) },
      no: { bids: bids(orderbook.noBids), asks: asksFrom(orderbook.yesBids) },
      open: market.status === 'active' || market.status === 'open',
      at: this.now(),
    };
  }
}

/** Books held in memory and changed at will: tests and backtests. A changed book needs a later `at`. */
export class StaticBookSource implements BookSource {
  private readonly books = new Map<string, PaperBook>();

  constructor(books: Iterable<PaperBook> = []) {
    for (const book of books) this.set(book);
  }

  set(book: PaperBook): void {
    this.books.set(book.ticker, book);
  }

  delete(ticker: string): void {
    this.books.delete(ticker);
  }

  get(ticker: string): PaperBook | undefined {
    return this.books.get(ticker);
  }

  async book(ticker: string): Promise<PaperBook | null> {
    return this.books.get(ticker) ?? null;
  }
}

/** A price of 0 or 1 is "nobody there" in Kalshi's quotes, not a level anyone can trade at. */
function tradable(price: Decimal): boolean {
  return price.gt(0) && price.lt(1);
}
