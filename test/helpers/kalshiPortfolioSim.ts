/** Moved to local/sim (the local runtime's simulator uses it too). */
export * from '../../local/sim/kalshiPortfolioSim';
