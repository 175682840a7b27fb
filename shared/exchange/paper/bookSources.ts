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
 * The book as ingestion last saw it: the current Kalshi market version's top of book, one level
 * per side and direction (ingestion keeps no depth). `depth` is how many contracts each level
 * offers (null = unlimited). `at` is the version's created_at, so a new snapshot is a new version.
 */
export class IngestedBookSource implements BookSource {
  private readonly depth: Decimal | null;

  constructor(
    private readonly db: Queryable,
    options: { depth: number | null },
  ) {
    if (options.depth !== null && (!Number.isSafeInteger(options.depth) || options.depth < 0)) {
      throw new RangeError(`depth must be a non-negative integer or null, got ${String(options.depth)}`);
    }
    this.depth = options.depth === null ? null : new Decimal(options.depth);
  }

  async book(ticker: string): Promise<PaperBook | null> {
    const { rows } = await this.db.query(
      `SELECT yes_price, no_price, yes_bid, no_bid, status, created_at
         FROM current_markets
        WHERE platform_id = 'kalshi' AND ticker = $1
        ORDER BY created_at DESC, market_version_id DESC
        LIMIT 1`,
      [ticker],
    );
    const row = rows[0] as Record<string, unknown> | undefined;
    if (!row) return null;
    const level = (value: unknown): BookLevel[] => {
      const price = decimalOrNull(value);
      return price !== null && tradable(price) ? [{ price, count: this.depth }] : [];
    };
    return {
      ticker,
      // yes_price / no_price are the asks (the price to buy each side), yes_bid / no_bid the bids.
      yes: { asks: level(row.yes_price), bids: level(row.yes_bid) },
      no: { asks: level(row.no_price), bids: level(row.no_bid) },
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
