import { Decimal } from '../../shared/domain/decimal';
import type { Ledger, LedgerFill, LedgerQuote } from '../../shared/backtest/metrics';

/*
 * The small tape, worked by hand. Opening balance $100; window 2026-09-13 00:00 → 2026-09-16 00:00
 * UTC (three days: d1, d2, d3). Two versions of one strategy: A = "s v1.0", B = "s v1.1".
 *
 * Quotes (yes bid / no bid / yes ask / no ask):
 *   M1 d1 10:00 .40/.55/.45/.60   d1 12:00 .50/.45/.55/.50   d2 10:00 .60/.35/.65/.40
 *      d2 13:00 .98/.01/.99/.02 (after M1 closed at d2 12:00: not its closing line)
 *   M2 d1 10:00 .30/.65/.35/.70   d2 09:00 .20/.75/.25/.80   (never settles: open at the end)
 *   M3 d2 10:00 .50/.45/.55/.50   d3 10:00 .70/.25/.75/.30   d3 11:00 .70/.25/1/1 (no offer)
 *      (closes and settles YES at d3 12:00)
 * Settlements: M1 YES (1) at d2 12:00; M3 YES (1) at d3 12:00.
 *
 * Fills (P&L after fees):
 *   pos 1 A: buy M1 YES 10 @ .45 fee .10 (d1 10:00); sell 10 @ .60 fee .10 (d2 10:00) profit_target
 *            (.60 − .45) × 10 − .10 − .10 = 1.30
 *   pos 2 A: buy M2 YES 10 @ .35 fee .10 (d1 10:00); sell 10 @ .20 fee .10 (d2 09:00) stop_loss
 *            (.20 − .35) × 10 − .10 − .10 = −1.70
 *   pos 3 B: buy M1 YES 20 @ .45 fee .20 (d1 10:00); sell 5 @ .50 fee .05 (d1 12:00) profit_target
 *            (.50 − .45) × 5 − .05 − .20 × 5/20 = .15; settlement of 15: (1 − .45) × 15 − .20 × 15/20 = 8.10
 *            total 8.25 (cash: −9.00 − .20 + 2.50 − .05 + 15 = 8.25)
 *   pos 4 B: buy M3 NO 10 @ .50 fee .10 (d2 10:00); M3 settles YES, NO pays 0: −5.00 − .10 = −5.10
 *   pos 5 B: buy M2 YES 10 @ .35 fee .10 (d1 10:00); still open (realised 0)
 */
export const d = (s: string) => new Decimal(s);
export const at = (day: number, hhmm: string) => new Date(`2026-09-${12 + day}T${hhmm}:00.000Z`);
export const A = 's v1.0';
export const B = 's v1.1';

function quote(ticker: string, when: Date, yb: string, nb: string, ya: string, na: string): LedgerQuote {
  return { ticker, at: when, yesBid: d(yb), noBid: d(nb), yesAsk: d(ya), noAsk: d(na) };
}
let nextTrade = 1;
function fill(positionId: number, strategy: string, ticker: string, side: 'yes' | 'no', action: 'buy' | 'sell', when: Date, q: string, p: string, fee: string, exitCondition: string | null = null): LedgerFill {
  return { tradeId: nextTrade++, positionId, strategy, ticker, side, action, at: when, quantity: d(q), price: d(p), fee: d(fee), exitCondition };
}

export function smallTape(): Ledger {
  nextTrade = 1;
  return {
    openingBalance: d('100'),
    window: { from: at(1, '00:00'), to: at(4, '00:00') },
    quotes: [
      quote('M1', at(1, '10:00'), '.40', '.55', '.45', '.60'),
      quote('M1', at(1, '12:00'), '.50', '.45', '.55', '.50'),
      quote('M1', at(2, '10:00'), '.60', '.35', '.65', '.40'),
      quote('M1', at(2, '13:00'), '.98', '.01', '.99', '.02'),
      quote('M2', at(1, '10:00'), '.30', '.65', '.35', '.70'),
      quote('M2', at(2, '09:00'), '.20', '.75', '.25', '.80'),
      quote('M3', at(2, '10:00'), '.50', '.45', '.55', '.50'),
      quote('M3', at(3, '10:00'), '.70', '.25', '.75', '.30'),
      // The book empties before the close: asks of 1 are Kalshi's "no offer", not a closing price.
      quote('M3', at(3, '11:00'), '.70', '.25', '1', '1'),
    ],
    fills: [
      fill(1, A, 'M1', 'yes', 'buy', at(1, '10:00'), '10', '.45', '.10'),
      fill(2, A, 'M2', 'yes', 'buy', at(1, '10:00'), '10', '.35', '.10'),
      fill(3, B, 'M1', 'yes', 'buy', at(1, '10:00'), '20', '.45', '.20'),
      fill(5, B, 'M2', 'yes', 'buy', at(1, '10:00'), '10', '.35', '.10'),
      fill(3, B, 'M1', 'yes', 'sell', at(1, '12:00'), '5', '.50', '.05', 'profit_target'),
      fill(2, A, 'M2', 'yes', 'sell', at(2, '09:00'), '10', '.20', '.10', 'stop_loss'),
      fill(1, A, 'M1', 'yes', 'sell', at(2, '10:00'), '10', '.60', '.10', 'profit_target'),
      fill(4, B, 'M3', 'no', 'buy', at(2, '10:00'), '10', '.50', '.10'),
    ],
    settlements: [
      { ticker: 'M1', at: at(2, '12:00'), yesPayout: d('1') },
      { ticker: 'M3', at: at(3, '12:00'), yesPayout: d('1') },
    ],
    // A: four orders filled in full and one entry not filled (10 of it); B: three in full, one entry of 20 filled 10.
    orders: [
      ...['10', '10', '10', '10'].map((q) => ({ strategy: A, quantity: d(q), filled: d(q) })),
      { strategy: A, quantity: d('10'), filled: d('0') },
      ...['20', '5', '10'].map((q) => ({ strategy: B, quantity: d(q), filled: d(q) })),
      { strategy: B, quantity: d('20'), filled: d('10') },
    ],
    closeAt: new Map([['M1', at(2, '12:00')], ['M3', at(3, '12:00')]]),
  };
}

