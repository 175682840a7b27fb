export type * from './types';
export { buildBacktestReport } from './build';
export { formatBacktestText } from './text';
export { writeBacktestReport } from './write';
export { storeBacktestResults } from './store';
