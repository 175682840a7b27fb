import type { ConfidenceLevel, TradingRules } from '../config/tradingRules';
import { Decimal } from '../domain/decimal';
import { confidenceLevel } from '../domain/confidence';
import { dataAgeSeconds, describeAge } from '../domain/freshness';
import { DEFAULT_PRICE_LEVELS, levelsForSide, quantise } from '../domain/priceLevels';
import { sideEdges, marketImpliedProbability, type SideEdge } from '../domain/edge';
import { minimumEdge, recommendedAction } from '../domain/recommendation';
import { sizePosition } from '../domain/sizing';
import type { SnapshotRow } from '../db/versionedUpsert';
import type { ModelInput, ModelType } from '../models/types';
import type { EntryStrategyConfig } from '../strategies/config';
import type { World, WorldMarket, WorldModel, WorldStrategy } from './world';

/** An entry order the scan will record (pending) and send. */
export interface EntryCandidate {
  marketId: string;
  platformId: string;
  strategyId: number;
  modelId: number;
  strategyLabel: string;
  side: 'yes' | 'no';
  /** Whole contracts. */
  quantity: Decimal;
  limitPrice: Decimal;
  eventId: string | null;
}

export interface StrategyContext {
  strategy: WorldStrategy;
  config: EntryStrategyConfig;
  model: WorldModel;
  type: ModelType<unknown>;
  modelConfig: unknown;
  label: string;
}

export interface RunningLimits {
  openPositions: number;
  totalExposure: Decimal;
  byEvent: Map<string, { exposure: Decimal; positions: number }>;
}


/** The entry a market's best side justifies, before sizing (the scan keeps one per game: edges/outcomes.ts). */
export interface EntryProposal {
  side: SideEdge;
  /** The ask on the market's price levels (a buy rounds down). */
  limitPrice: Decimal;
  confidence: ConfidenceLevel;
}

/**
 * One market under one strategy: the skip reason, or both sides' edges (as edge snapshots) and
 * the entry proposal when the best side qualifies. Pure.
 */
export function evaluateMarket(args: {
  market: WorldMarket;
  input: ModelInput;
  world: World;
  rules: TradingRules;
  strategy: StrategyContext;
}): { skip: string } | { edgeRows: SnapshotRow[]; proposal?: EntryProposal } {
  const { market, input, world, rules, strategy: s } = args;
  const priceAge = dataAgeSeconds(world.now, world.pricesAt);
  if (priceAge > rules.freshness.maxPriceAgeSeconds) {
    return { skip: `market price stale: last ingested ${describeAge(priceAge)} (limit ${rules.freshness.maxPriceAgeSeconds} s)` };
  }
  if (market.spread !== null && market.spread.gt(s.config.max_spread)) {
    return { skip: `spread ${market.spread.toFixed(4)} exceeds max_spread ${s.config.max_spread.toFixed(4)}` };
  }
  const live = market.game !== null && (market.game.status === 'live' || market.game.status === 'halftime');
  const gameAge = live ? dataAgeSeconds(world.now, world.gameStatesAt) : null;
  if (gameAge !== null && gameAge > rules.freshness.maxGameStateAgeSeconds) {
    return { skip: `game state stale: last ingested ${describeAge(gameAge)} (limit ${rules.freshness.maxGameStateAgeSeconds} s)` };
  }
  if (market.game?.status === 'final') return { skip: 'game is final' };
  if ((s.config.kind === 'live' || s.config.kind === 'halftime') && !live) return { skip: `no live game for a ${s.config.kind} strategy` };
  if (s.config.kind === 'halftime' && market.game?.status !== 'halftime') return { skip: 'not halftime' };
  if (s.config.kind === 'pre_game' && live) return { skip: 'game already started (pre_game strategy)' };

  const output = s.type.probability(s.modelConfig, input);
  if ('skip' in output) return { skip: `model ${s.model.name} ${s.model.version}: ${output.skip}` };

  const confidence = confidenceLevel(
    { sampleSize: output.sampleSize, ciLower: output.ciLower, ciUpper: output.ciUpper, dataAgeSeconds: gameAge },
    rules,
  );
  const sides = sideEdges(output.p, market.yesAsk, market.noAsk, rules);
  const sport = market.sport ?? s.strategy.sport ?? '';
  const edgeRows: SnapshotRow[] = [];
  let best: { side: SideEdge; action: string } | undefined;
  for (const side of [sides.yes, sides.no]) {
    if (!side) continue;
    const action = recommendedAction({ ev: side.ev, confidence, sport }, rules);
    edgeRows.push({
      market_id: market.marketId,
      strategy_id: s.strategy.strategyId,
      model_id: s.model.modelId,
      side: side.side,
      probability_matrix_id: output.probabilityMatrixId ?? null,
      game_state_id: market.game?.gameStateId ?? null,
      edge: side.edge,
      expected_value: side.ev,
      true_win_probability: output.p,
      // Each side's own book: a move of the YES quote changes the YES edge only.
      market_implied_probability:
        marketImpliedProbability(side.price, side.side === 'yes' ? market.yesBid : market.noBid) ?? side.price,
      market_price: side.price,
      confidence_level: confidence,
      confidence_metrics: {
        sample_size: output.sampleSize ?? null,
        ci_width: output.ciLower && output.ciUpper ? output.ciUpper.minus(output.ciLower).toFixed(4) : null,
        game_state_age_s: gameAge === null ? null : Math.round(gameAge),
        basis: output.basis,
      },
      recommended_action: action,
    });
    if (!best || side.ev.gt(best.side.ev)) best = { side, action };
  }
  if (edgeRows.length === 0) return { skip: 'no ask on either side' };

  if (!best || best.action !== 'auto_execute' || !s.config.auto_execute) return { edgeRows };
  const minEdge = s.config.min_edge ?? minimumEdge(s.config.kind, rules);
  if (best.side.edge.lt(minEdge)) return { edgeRows };

  // The venue refuses a price off the market's levels: a buy rounds down (never pays more than the ask).
  const limitPrice = quantise(best.side.price, levelsForSide(market.priceLevels ?? DEFAULT_PRICE_LEVELS, best.side.side), 'down');
  if (limitPrice === null) return { edgeRows };
  return { edgeRows, proposal: { side: best.side, limitPrice, confidence } };
}

/**
 * The entry candidate a proposal sizes to under the scan's running limits, which it then takes
 * (so that the orders of one scan respect the limits together); undefined when sizing says no.
 */
export function sizeEntry(args: {
  market: WorldMarket;
  world: World;
  rules: TradingRules;
  strategy: StrategyContext;
  limits: RunningLimits;
  proposal: EntryProposal;
}): EntryCandidate | undefined {
  const { market, world, rules, strategy: s, limits, proposal: { side, limitPrice, confidence } } = args;
  const event = (market.eventId ? limits.byEvent.get(market.eventId) : undefined) ?? { exposure: new Decimal(0), positions: 0 };
  const sized = sizePosition(
    {
      probability: side.probability,
      price: limitPrice,
      bankroll: world.bankroll ?? new Decimal(0),
      confidence,
      openPositions: limits.openPositions,
      totalExposure: limits.totalExposure,
      eventExposure: event.exposure,
      eventPositions: event.positions,
      kellyFraction: s.config.kelly_fraction,
    },
    rules,
  );
  if (!sized.trade) return undefined;
  limits.openPositions += 1;
  limits.totalExposure = limits.totalExposure.plus(sized.cost);
  if (market.eventId) limits.byEvent.set(market.eventId, { exposure: event.exposure.plus(sized.cost), positions: event.positions + 1 });
  return {
    marketId: market.marketId, platformId: market.platformId, strategyId: s.strategy.strategyId, modelId: s.model.modelId,
    strategyLabel: s.label, side: side.side, quantity: sized.contracts, limitPrice, eventId: market.eventId,
  };
}
