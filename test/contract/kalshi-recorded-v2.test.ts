import { describe, expect, it } from 'vitest';
import type { Decimal } from '../../shared/domain/decimal';
import { CREATE_ORDER_V2_EXPECTED } from '../fixtures/kalshi-recorded/createOrderV2.expected';
import { expectExact, recorded } from './recorded';

/**
 * Real Create Order V2 replies (POST /portfolio/events/orders, recorded by others; see
 * test/fixtures/kalshi-recorded/SOURCES.md) through Precog's V2 reply parser. The reply is flat
 * (no `order` wrapper) and carries counts and YES-book average prices as fixed-point strings:
 * a fractional fill (8.93) and a reply that filled nothing (no average price, no fee).
 */

/** What this test reads from the parser's result, whatever the parser calls its fields. */
interface CreateReplyView {
  orderId: string;
  clientOrderId: string;
  filledCount: Decimal;
  remainingCount: Decimal;
  averageFillPrice: Decimal | null;
  averageFeePaid: Decimal | null;
  tsMs: number;
}

// WIRED AT MERGE with branch `kalshi` (its V2 parser, probably shared/venues/kalshi/orderV2.ts):
// replace the next line with an import of that parser and a map of its result onto CreateReplyView.
const parseCreateReply = undefined as ((json: unknown) => CreateReplyView) | undefined;

describe('recorded Create Order V2 replies', () => {
  it.each(Object.entries(CREATE_ORDER_V2_EXPECTED))('%s', (file, want) => {
    if (!parseCreateReply) throw new Error("not wired: branch `kalshi`'s Create Order V2 reply parser (see the comment above)");
    const reply = parseCreateReply(recorded(file));
    expect(reply.orderId).toBe(want.orderId);
    expect(reply.clientOrderId).toBe(want.clientOrderId);
    expectExact(reply.filledCount, want.filledCount, 'fill_count');
    expectExact(reply.remainingCount, want.remainingCount, 'remaining_count');
    if (want.averageFillPrice === null) expect(reply.averageFillPrice).toBeNull();
    else expectExact(reply.averageFillPrice, want.averageFillPrice, 'average_fill_price');
    if (want.averageFeePaid === null) expect(reply.averageFeePaid).toBeNull();
    else expectExact(reply.averageFeePaid, want.averageFeePaid, 'average_fee_paid');
    expect(reply.tsMs).toBe(want.tsMs);
  });
});
