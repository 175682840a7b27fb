import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pathShape, RETIRED, scanSource, sdkOperations, sourceRequests } from './kalshiEndpoints';

/**
 * Precog must not call an endpoint Kalshi has deprecated or retired. The list comes from the
 * contract itself: kalshi-typescript's generated API (its OpenAPI's `@deprecated` operations),
 * plus the V1 order writes Kalshi has retired although the SDK never tagged them (RETIRED).
 * Precog's side is read from its source (shared/, functions/, cli/, local/, tests excluded).
 *
 * On a tree whose client still writes orders to POST /portfolio/orders and cancels with
 * DELETE /portfolio/orders/{order_id}, the first test fails; branch `kalshi` moves both to
 * /portfolio/events/orders.
 */

const root = (dir: string) => fileURLToPath(new URL(`../../${dir}`, import.meta.url));
const operations = sdkOperations(root('node_modules/kalshi-typescript/api'));
const byShape = new Map(operations.map((o) => [`${o.method} ${pathShape(o.path)}`, o]));
const retired = new Map(RETIRED.map((r) => [`${r.method} ${pathShape(r.path)}`, r]));

/** Why a request must not be made, or undefined when the SDK has it and it is current. */
function problem(method: string, path: string): string | undefined {
  const key = `${method} ${pathShape(path)}`;
  const gone = retired.get(key);
  if (gone) return `retired: ${gone.reason}`;
  const operation = byShape.get(key);
  if (!operation) return 'not an operation of the Kalshi API (kalshi-typescript 3.30 has no such method and path)';
  if (operation.deprecated) return `deprecated in the OpenAPI (${operation.name}: ${operation.description.slice(0, 120)})`;
  return undefined;
}

describe('Kalshi endpoints Precog calls', () => {
  const scan = sourceRequests(['shared', 'functions', 'cli', 'local'].map(root));

  it('none is deprecated, retired or unknown to the API', () => {
    const bad = scan.requests
      .map((r) => ({ request: `${r.method} ${r.path}`, at: `${r.file.slice(root('').length)}:${r.line}`, problem: problem(r.method, r.path) }))
      .filter((r) => r.problem !== undefined);
    expect(bad).toEqual([]);
  });

  it('every request path in the source was understood (none skipped)', () => {
    expect(scan.unresolved).toEqual([]);
  });

  it("the scan finds the client's reads (it cannot silently find nothing)", () => {
    const found = new Set(scan.requests.map((r) => `${r.method} ${r.path}`));
    for (const expected of ['GET /portfolio/balance', 'GET /portfolio/fills', 'GET /portfolio/positions', 'GET /portfolio/orders', 'GET /markets/{…}/orderbook']) {
      expect(found, expected).toContain(expected);
    }
    // And an order write of some kind (create), wherever it goes.
    expect(scan.requests.some((r) => r.method === 'POST' && r.path.includes('orders'))).toBe(true);
  });
});

describe('the deprecation list, read from kalshi-typescript', () => {
  it('holds the operations the OpenAPI tags @deprecated, and the current order endpoints untagged', () => {
    const deprecated = operations.filter((o) => o.deprecated).map((o) => `${o.method} ${o.path}`).sort();
    // 3.30 tags the old quote endpoints (replaced under /communications/rfqs/...).
    expect(deprecated).toEqual(expect.arrayContaining([
      'DELETE /communications/quotes/{quote_id}', 'GET /communications/quotes/{quote_id}',
      'PUT /communications/quotes/{quote_id}/accept', 'PUT /communications/quotes/{quote_id}/confirm',
    ]));
    expect(operations.length).toBeGreaterThan(100);
    for (const current of ['POST /portfolio/events/orders', 'DELETE /portfolio/events/orders/{order_id}', 'GET /portfolio/orders', 'GET /exchange/status', 'GET /account/limits']) {
      expect(problem(current.split(' ')[0]!, current.split(' ')[1]!), current).toBeUndefined();
    }
  });

  it('marks the V1 order writes retired, with the reason', () => {
    expect(problem('POST', '/portfolio/orders')).toMatch(/^retired: V1 Create Order.*deprecated_v1_order_endpoint/);
    expect(problem('DELETE', '/portfolio/orders/{…}')).toMatch(/^retired: V1 Cancel Order/);
    // The SDK's own words on the V1 create: "will be deprecated no earlier than May 6, 2026".
    const v2 = operations.find((o) => o.method === 'POST' && o.path === '/portfolio/events/orders');
    expect(v2?.description).toMatch(/legacy `\/portfolio\/orders` endpoint will be deprecated/);
  });
});

describe('the source scanner', () => {
  // Module level as in a real client: the constant at the start of its line.
  const V1_CLIENT = [
    "const ORDERS = '/portfolio/orders';",
    'class C {',
    '  async create(body) {',
    '    const url = this.reads.url(ORDERS);',
    "    return fetch(url, { method: 'POST', headers: {}, body });",
    '  }',
    '  async cancel(id: string) {',
    '    const path = `${ORDERS}/${encodeURIComponent(id)}`;',
    "    return this.writes.request('DELETE', path);",
    '  }',
    '  async list() {',
    "    await this.paginate(ORDERS, { status: 'resting' }, 'orders', () => {});",
    '  }',
    '  private async paginate(path: string, query: Record<string, string>, list: string, onItem: (item: unknown) => void) {',
    '    return this.reads.get(path, query);',
    '  }',
    '}',
  ].join('\n');

  it('finds fetch writes, request() writes and paginated reads, with constants and parameters resolved', () => {
    const { requests, unresolved } = scanSource(V1_CLIENT);
    expect(unresolved).toEqual([]);
    expect(requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['DELETE /portfolio/orders/{…}', 'GET /portfolio/orders', 'POST /portfolio/orders']);
    expect(requests.map((r) => problem(r.method, r.path)).filter(Boolean)).toHaveLength(2);
  });

  it('passes the same client on the V2 paths', () => {
    const v2 = V1_CLIENT
      .replace('this.reads.url(ORDERS)', "this.reads.url('/portfolio/events/orders')")
      .replace('${ORDERS}/${encodeURIComponent(id)}', '/portfolio/events/orders/${encodeURIComponent(id)}');
    const { requests } = scanSource(v2);
    expect(requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['DELETE /portfolio/events/orders/{…}', 'GET /portfolio/orders', 'POST /portfolio/events/orders']);
    expect(requests.map((r) => problem(r.method, r.path)).filter(Boolean)).toEqual([]);
  });

  it('reports a path it cannot work out instead of skipping it', () => {
    const { unresolved } = scanSource(`async function send(p) { const x = build(p); return this.http.request('POST', x); }`);
    expect(unresolved).toEqual([{ line: 1, text: 'x' }]);
  });
});
