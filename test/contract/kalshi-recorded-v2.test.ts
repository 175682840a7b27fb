import { describe, expect, it } from 'vitest';
import type { Decimal } from '../../shared/domain/decimal';
import { CREATE_ORDER_V2_EXPECTED } from '../fixtures/kalshi-recorded/createOrderV2.expected';
import { createOrderV2Reply } from '../../shared/venues/kalshi/orderV2';
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

/** Precog's V2 reply parser (shared/venues/kalshi/orderV2.ts), seen through CreateReplyView. */
const parseCreateReply = (json: unknown): CreateReplyView => {
  const reply = createOrderV2Reply.parse(json);
  return {
    orderId: reply.order_id,
    clientOrderId: reply.client_order_id ?? '',
    filledCount: reply.fill_count,
    remainingCount: reply.remaining_count,
    averageFillPrice: reply.average_fill_price ?? null,
    averageFeePaid: reply.average_fee_paid ?? null,
    tsMs: reply.ts_ms,
  };
};

describe('recorded Create Order V2 replies', () => {
  it.each(Object.entries(CREATE_ORDER_V2_EXPECTED))('%s', (file, want) => {
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
