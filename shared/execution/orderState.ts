import { Decimal } from '../domain/decimal';
import type { VenueOrder } from '../exchange/types';

/**
 * The local order state machine (the `orders` table; migration 0008 enforces the same
 * transitions in a trigger):
 *
 *   pending ──► resting ──► partially_filled ──► filled
 *     │            │               └──────────► cancelled
 *     │            └──────────────────────────► filled | cancelled
 *     └──► partially_filled | filled | cancelled | rejected
 *
 * pending: recorded by the scan, not (known to be) at the venue. filled / cancelled / rejected
 * are final. A cancelled order keeps the fills it had.
 */
export const ORDER_STATUSES = ['pending', 'resting', 'partially_filled', 'filled', 'cancelled', 'rejected'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = Object.freeze({
  pending: ['resting', 'partially_filled', 'filled', 'cancelled', 'rejected'],
  resting: ['partially_filled', 'filled', 'cancelled'],
  partially_filled: ['filled', 'cancelled'],
  filled: [],
  cancelled: [],
  rejected: [],
});

export const FINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['filled', 'cancelled', 'rejected']);

export function isFinal(status: OrderStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** Staying put is always allowed (a partially filled order taking another partial fill). */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return from === to || ORDER_TRANSITIONS[from].includes(to);
}

export class IllegalOrderTransitionError extends Error {
  override name = 'IllegalOrderTransitionError';
  constructor(
    readonly clientOrderId: string,
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`order ${clientOrderId}: illegal status change ${from} -> ${to}`);
  }
}

export interface LocalOrderState {
  clientOrderId: string;
  status: OrderStatus;
  quantity: Decimal;
  filledQuantity: Decimal;
}

/**
 * The local state an order moves to, given what the venue says about it and how many contracts
 * the recorded fills (trades) add up to. Trades are the truth for `filled_quantity`: when the
 * venue reports more filled than the fills listed so far (reads lag), the order stays open
 * locally until reconciliation records the missing fills, rather than claiming fills it has no
 * trade for.
 */
export function nextOrderState(
  local: LocalOrderState,
  venue: Pick<VenueOrder, 'status' | 'filledCount'>,
  recordedFilled: Decimal,
): { status: OrderStatus; filledQuantity: Decimal; awaitingFills: boolean } {
  if (recordedFilled.gt(local.quantity)) {
    throw new RangeError(`order ${local.clientOrderId}: fills add up to ${recordedFilled}, more than the ${local.quantity} ordered`);
  }
  const awaitingFills = venue.filledCount.gt(recordedFilled);
  let status: OrderStatus;
  if (recordedFilled.eq(local.quantity)) status = 'filled';
  else if (!awaitingFills && venue.status === 'canceled') status = 'cancelled';
  else if (!awaitingFills && venue.status === 'executed') {
    // The venue says executed but filled fewer than ordered: Kalshi reports an IOC/FOK remainder
    // this way in some versions. Nothing more will fill.
    status = 'cancelled';
  } else status = recordedFilled.gt(0) ? 'partially_filled' : 'resting';

  // Never move backwards: a status reached earlier stands (e.g. an order already
  // partially_filled locally whose next venue read lags behind).
  if (!canTransition(local.status, status)) {
    // A stale read may lag the local state, but fills arriving for a finished order are a real
    // disagreement with the venue: refuse them (reconciliation reports the desync).
    if (canTransition(status, local.status) && !(isFinal(local.status) && !recordedFilled.eq(local.filledQuantity))) return { status: local.status, filledQuantity: Decimal.max(recordedFilled, local.filledQuantity), awaitingFills };
    throw new IllegalOrderTransitionError(local.clientOrderId, local.status, status);
  }
  return { status, filledQuantity: recordedFilled, awaitingFills };
}
