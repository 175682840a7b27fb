import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../shared/clock/clock';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Route = (request: RecordedRequest, count: number) =>
  | { status?: number; json?: unknown; body?: string; headers?: Record<string, string>; delayMs?: number }
  | undefined;

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP server speaking JSON, for testing clients against real sockets (no fetch stubs).
 * `route` answers each request; `count` is how many requests to that path came before (0-based),
 * so a test can script "429, then 200". Unrouted requests get 404. `record: false` keeps no
 * request log (a long-running simulator). With a `clock`, the Date header of every answer is that
 * clock's (a simulator on a virtual clock); without, Node's (the wall). `delayMs` is machine
 * time: it stands for a slow network, which a client's technical timeout measures.
 */
export async function startTestServer(route: Route, options: { record?: boolean; clock?: Pick<Clock, 'nowMs'> } = {}): Promise<TestServer> {
  const record = options.record ?? true;
  const requests: RecordedRequest[] = [];
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      if (record) requests.push(recorded);
      const key = `${recorded.method} ${recorded.path}`;
      const n = counts.get(key) ?? 0;
      counts.set(key, n + 1);
      const answer = route(recorded, n) ?? { status: 404, json: { error: 'not found' } };
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (res.destroyed) return;
      const date = options.clock ? { date: new Date(options.clock.nowMs()).toUTCString() } : {};
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...date, ...answer.headers });
      res.end(answer.body ?? (answer.json === undefined ? '' : JSON.stringify(answer.json)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
