import type { Platform } from '../db/repositories/platforms';

/** The registry rows of the venues Precog knows; ingestion makes sure they exist. */
export const KALSHI_PLATFORM: Platform = {
  platformId: 'kalshi',
  platformType: 'trading',
  displayName: 'Kalshi',
  apiVersion: 'v2',
  authMethod: 'rsa_pss',
  feesStructure: { taker_rate: '0.07', maker_rate: '0.0175', formula: 'ceil_to_cent(rate * contracts * P * (1 - P))' },
};

export const POLYMARKET_PLATFORM: Platform = {
  platformId: 'polymarket',
  platformType: 'trading',
  displayName: 'Polymarket',
  baseUrl: 'https://gamma-api.polymarket.com',
  authMethod: 'metamask',
};
