import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { diffBooksAndVenue } from '../../shared/execution/booksVsVenue';

/** The comparison `precog preflight` reports (reconciliation's steps 2 and 3, read-only), on exact counts. */

const D = (v: string) => new Decimal(v);
const none = { localNet: [], localOpenOrders: [], venuePositions: [], venueResting: [] };

describe('books against the venue', () => {
  it('fractional positions compare exactly: 2.97 agrees with 2.97, not with 3', () => {
    const localNet = [{ ticker: 'T', marketId: 'm1', net: D('-2.97') }];
    expect(diffBooksAndVenue({ ...none, localNet, venuePositions: [{ ticker: 'T', position: D('-2.97') }] })).toEqual([]);
    expect(diffBooksAndVenue({ ...none, localNet, venuePositions: [{ ticker: 'T', position: D('-3') }] })).toEqual([
      { ticker: 'T', marketId: 'm1', kind: 'position', local: { net: '-2.97' }, venue: { net: '-3' } },
    ]);
  });

  it('a flat book agrees with a venue that lists nothing, and a venue-only position is a desync without a market id', () => {
    expect(diffBooksAndVenue({ ...none, localNet: [{ ticker: 'T', marketId: 'm1', net: D('0') }] })).toEqual([]);
    expect(diffBooksAndVenue({ ...none, venuePositions: [{ ticker: 'U', position: D('5') }] })).toEqual([
      { ticker: 'U', marketId: null, kind: 'position', local: { net: '0' }, venue: { net: '5' } },
    ]);
  });

  it('a closed market the venue has paid out while the books still hold it awaits settlement: no desync (a live market it would be)', () => {
    // At settlement the venue's position goes to zero minutes before settle-markets closes the books'.
    const held = { ticker: 'T', marketId: 'm1', net: D('-41') };
    expect(diffBooksAndVenue({ ...none, localNet: [{ ...held, marketClosed: true }] })).toEqual([]);
    expect(diffBooksAndVenue({ ...none, localNet: [{ ...held, marketClosed: false }] })).toEqual([
      { ticker: 'T', marketId: 'm1', kind: 'position', local: { net: '-41' }, venue: { net: '0' } },
    ]);
    // Still holding a different amount on a closed market is a desync.
    expect(diffBooksAndVenue({ ...none, localNet: [{ ...held, marketClosed: true }], venuePositions: [{ ticker: 'T', position: D('-40') }] })).toHaveLength(1);
  });

  it('resting orders: venue-only and books-only ones per ticker; a pending local order is not yet expected at the venue', () => {
    const desyncs = diffBooksAndVenue({
      ...none,
      localOpenOrders: [
        { clientOrderId: 'a', ticker: 'T', status: 'resting' },
        { clientOrderId: 'b', ticker: 'T', status: 'pending' },
        { clientOrderId: 'c', ticker: 'T', status: 'partially_filled' },
      ],
      venueResting: [{ clientOrderId: 'a', ticker: 'T' }, { clientOrderId: 'z', ticker: 'T' }],
    });
    expect(desyncs).toEqual([{ ticker: 'T', marketId: null, kind: 'order', local: { openNotAtVenue: ['c'] }, venue: { restingNotInBooks: ['z'] } }]);
  });
});
