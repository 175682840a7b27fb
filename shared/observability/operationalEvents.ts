import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import type { Desync } from '../execution/reconcile';
import type { BreakerCheckResult } from '../risk/breakers';
import { breakerEffect } from '../risk/breakers';
import {
  CIRCUIT_BREAKER_RESOLVED, CIRCUIT_BREAKER_TRIPPED, EXIT_STOPPED, VENUE_DESYNC_DETECTED, type EventPublisher, type PrecogEvent,
} from './events';

/** The operational events of Precog's own facts, built in one place (the schemas live in events.ts). */

export function breakerEvents(check: BreakerCheckResult, rules: TradingRules = DEFAULT_TRADING_RULES): PrecogEvent[] {
  const now = check.facts.now.toISOString();
  const events: PrecogEvent[] = check.trips.map((t) => {
    const effect = breakerEffect(rules, t.type)!;
    return {
      detailType: CIRCUIT_BREAKER_TRIPPED,
      detail: {
        eventId: t.eventId, breakerType: t.type, triggeredAt: now, triggerValue: t.triggerValue,
        effect: { liquidate: effect.liquidate, blockEntries: effect.blockEntries, reset: effect.reset },
      },
    };
  });
  const openSince = new Map(check.facts.open.map((o) => [o.eventId, o.triggeredAt]));
  for (const r of check.resolutions) {
    events.push({
      detailType: CIRCUIT_BREAKER_RESOLVED,
      detail: {
        eventId: r.eventId, breakerType: r.type, triggeredAt: (openSince.get(r.eventId) ?? check.facts.now).toISOString(),
        resolvedAt: now, resolutionAction: r.action,
      },
    });
  }
  return events;
}

export function desyncEvents(desyncs: readonly Desync[], detectedAt: Date): PrecogEvent[] {
  return desyncs.map((d) => ({
    detailType: VENUE_DESYNC_DETECTED,
    detail: {
      ticker: d.ticker, marketId: d.marketId, kind: d.kind, local: d.local as Record<string, unknown>,
      venue: d.venue as Record<string, unknown>, detectedAt: detectedAt.toISOString(),
    },
  }));
}

export function exitStoppedEvent(args: {
  exitRequestId: number; positionId: number; marketId: string; condition: string; priority: string; reason: string; remainingQuantity: string;
}): PrecogEvent {
  return { detailType: EXIT_STOPPED, detail: args } as PrecogEvent;
}

/**
 * Publishing never breaks trading: failures are logged by the publisher and reported here.
 * Returns the events that were not published (all of them when publishing threw).
 */
export async function publishQuietly(publisher: EventPublisher, events: PrecogEvent[], log: (message: string, extra: object) => void): Promise<PrecogEvent[]> {
  if (events.length === 0) return [];
  try {
    const result = await publisher.publish(events);
    if (result.failed.length > 0) log('events not published', { failed: result.failed.map((f) => ({ detailType: f.event.detailType, error: f.error })) });
    return result.failed.map((f) => f.event);
  } catch (error) {
    log('events not published', { error: (error as Error).message });
    return events;
  }
}
