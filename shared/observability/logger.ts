import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured (JSON) logger per function, created at module load (cold start) and shared by
 * every invocation of that container. Level from POWERTOOLS_LOG_LEVEL (default INFO).
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
}
