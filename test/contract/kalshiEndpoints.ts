import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The Kalshi endpoints on both sides of the contract: every operation kalshi-typescript's
 * generated API declares (from its OpenAPI: method, path, deprecation), and every request
 * Precog's own source can make, found by reading that source.
 */

export interface SdkOperation {
  method: string;
  /** As the OpenAPI writes it: `/portfolio/orders/{order_id}`. */
  path: string;
  name: string;
  file: string;
  deprecated: boolean;
  /** The operation's description (its first JSDoc paragraph). */
  description: string;
}

export interface SourceRequest {
  method: string;
  /** Path parameters as `{…}`: `/portfolio/orders/{…}`. */
  path: string;
  file: string;
  line: number;
}

/** A request whose path the scanner could not work out: the scan must never silently skip one. */
export interface Unresolved {
  file: string;
  line: number;
  text: string;
}

/** `/a/{order_id}/b` and `/a/{…}/b` compare equal: only the shape of a path matters. */
export function pathShape(p: string): string {
  return p.split('?')[0]!.replace(/\{[^}]*\}/g, '{…}');
}

/**
 * kalshi-typescript's api/*.ts: each operation's parameter creator is a JSDoc block, then
 * `name: async (…) => {`, then `const localVarPath = \`/…\`` and `{ method: 'X', …}`.
 * Deprecation is the JSDoc tag `@deprecated` (the OpenAPI `deprecated: true`).
 */
export function sdkOperations(apiDir: string): SdkOperation[] {
  const operations = new Map<string, SdkOperation>();
  for (const file of readdirSync(apiDir).filter((f) => f.endsWith('.ts')).sort()) {
    const source = readFileSync(path.join(apiDir, file), 'utf8');
    const pattern = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+): async \([^)]*\)[^{]*\{((?:(?!\/\*\*)[\s\S])*?)localVarPath = `([^`]+)`(?:(?!\/\*\*)[\s\S])*?method: '(\w+)'/g;
    for (const match of source.matchAll(pattern)) {
      const [, doc, name, , opPath, method] = match as unknown as [string, string, string, string, string, string];
      const key = `${method} ${opPath}`;
      if (operations.has(key)) continue; // the same operation appears again in the functional and class APIs
      const description = doc.split('\n').map((l) => l.replace(/^\s*\* ?/, '').trim()).filter((l) => l && !l.startsWith('@')).join(' ');
      operations.set(key, { method, path: opPath, name, file, deprecated: /@deprecated\b/.test(doc), description });
    }
  }
  return [...operations.values()];
}

/**
 * Endpoints Kalshi has retired although the SDK does not mark them `@deprecated` (3.30 dropped
 * them, or says only "will be deprecated"): Kalshi's changelog and ../shared/spec/external-apis.md
 * (December 2026) record the V1 order writes as retired, answered with HTTP 410 (or a 2xx without
 * an order) and code `deprecated_v1_order_endpoint`.
 */
export const RETIRED: ReadonlyArray<{ method: string; path: string; reason: string }> = [
  { method: 'POST', path: '/portfolio/orders', reason: 'V1 Create Order, retired in 2026 (deprecated_v1_order_endpoint): use POST /portfolio/events/orders' },
  { method: 'DELETE', path: '/portfolio/orders/{order_id}', reason: 'V1 Cancel Order, retired in 2026 (deprecated_v1_order_endpoint): use DELETE /portfolio/events/orders/{order_id}' },
];

function filesUnder(root: string, skip: (p: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (skip(full)) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts') && !full.endsWith('.test.ts') && !full.endsWith('.d.ts')) out.push(full);
    }
  };
  walk(root);
  return out;
}

/**
 * Precog's Kalshi requests in the source under `roots` (shared/, functions/, cli/, local/). A file
 * speaks to Kalshi when it lives in a `venues/kalshi` folder or imports from one; the simulator
 * (local/sim) serves the API and is left out. Recognised calls, as Precog's clients make them:
 * `<http|reads|writes>.get(path)`, `<…>.request('METHOD', path)`, `paginate(path, …)` (GET), and
 * `fetch(url, { method })` where `url` is `<client>.url(path)`. A path is a string, a template
 * (constants substituted, other `${…}` become a parameter) or a constant naming one of those.
 */
export function sourceRequests(roots: string[]): { requests: SourceRequest[]; unresolved: Unresolved[] } {
  const requests: SourceRequest[] = [];
  const unresolved: Unresolved[] = [];
  // Module constants and path builders the client imports from its own folder (e.g. orderV2.ts).
  const library = roots.flatMap((root) => filesUnder(root, (p) => p.includes(`${path.sep}node_modules`)))
    .filter((file) => file.includes(`venues${path.sep}kalshi${path.sep}`))
    .map((file) => readFileSync(file, 'utf8')).join('\n');
  for (const root of roots) {
    const files = filesUnder(root, (p) => p.includes(`${path.sep}node_modules`) || p.endsWith(`local${path.sep}sim`));
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      const kalshi = file.includes(`venues${path.sep}kalshi${path.sep}`) || /from '[^']*venues\/kalshi\//.test(source);
      if (!kalshi) continue;
      const found = scanSource(source, library);
      for (const r of found.requests) requests.push({ ...r, file });
      for (const u of found.unresolved) unresolved.push({ ...u, file });
    }
  }
  return { requests, unresolved };
}

/**
 * Helpers that take a path parameter and send a GET with it: their own call inside is skipped,
 * their call sites are scanned instead. Any other function handing a path parameter to a request
 * leaves it unresolved, and the scan fails until it is listed here.
 */
export const GET_FORWARDERS = ['paginate', 'getJson'];

/** The requests one source text makes (see sourceRequests). Exported for the scanner's own tests. */
export function scanSource(raw: string, library = ''): { requests: Array<Omit<SourceRequest, 'file'>>; unresolved: Array<Omit<Unresolved, 'file'>> } {
  const source = stripComments(raw);
  const lib = stripComments(library);
  const lineOf = (index: number) => source.slice(0, index).split('\n').length;
  const requests: Array<Omit<SourceRequest, 'file'>> = [];
  const unresolved: Array<Omit<Unresolved, 'file'>> = [];
  const add = (method: string, argument: string, index: number) => {
    const resolved = resolvePath(source, argument.trim(), index, lib);
    if (resolved === FORWARDED) return;
    if (resolved === undefined || !resolved.startsWith('/')) unresolved.push({ line: lineOf(index), text: argument.trim() });
    else requests.push({ method: method.toUpperCase(), path: pathShape(resolved), line: lineOf(index) });
  };
  const receiver = String.raw`\b(?:this\.)?(?:http|reads|writes|\w*[hH]ttp\w*)`;
  const argument = String.raw`((?:[^,()]|\([^()]*\))+)`;
  for (const m of source.matchAll(new RegExp(`${receiver}\\.get\\(\\s*${argument}`, 'g'))) add('GET', m[1]!, m.index!);
  for (const m of source.matchAll(new RegExp(`${receiver}\\.request\\(\\s*'(\\w+)'\\s*,\\s*${argument}`, 'g'))) add(m[1]!, m[2]!, m.index!);
  for (const name of GET_FORWARDERS) {
    for (const m of source.matchAll(new RegExp(`\\.${name}\\(\\s*${argument}`, 'g'))) add('GET', m[1]!, m.index!);
  }
  for (const m of source.matchAll(/\bfetch\(\s*(\w+)\s*(?:,\s*\{([\s\S]*?)\})?\s*\)/g)) {
    const method = /method:\s*'(\w+)'/.exec(m[2] ?? '')?.[1] ?? 'GET';
    const definition = localDefinition(source, m[1]!, m.index!) ?? moduleDefinition(lib, m[1]!);
    const url = definition && new RegExp(`\\.url\\(\\s*${argument}`).exec(definition);
    if (url) add(method, url[1]!, m.index!);
    else unresolved.push({ line: lineOf(m.index!), text: `fetch(${m[1]})` });
  }
  return { requests, unresolved };
}

const FORWARDED = Symbol('forwarded');
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'function', 'return']);

function stripComments(source: string): string {
  // Keeps line numbers: comments become blank space of the same lines.
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/[^\n]*/g, (c, lead: string) => lead + ' '.repeat(c.length - lead.length));
}

/** The function or method whose body holds `index`: its name, parameter list and where its body starts. */
function enclosing(source: string, index: number): { name: string; params: string; bodyStart: number } | undefined {
  const header = /(\w+)\s*(?:<[^>()]*>)?\(((?:[^()]|\([^()]*\))*)\)\s*(?::\s*[^{};=]+)?\{/g;
  let found: { name: string; params: string; bodyStart: number } | undefined;
  for (const m of source.slice(0, index).matchAll(header)) {
    if (!KEYWORDS.has(m[1]!)) found = { name: m[1]!, params: m[2]!, bodyStart: m.index! + m[0].length };
  }
  return found;
}

/** The expression last assigned to `const|let name =` in the enclosing body before `index`, else at module level. */
function localDefinition(source: string, name: string, index: number): string | undefined {
  const fn = enclosing(source, index);
  const definition = new RegExp(`\\b(?:const|let)\\s+${name}\\s*(?::[^=]+)?=\\s*([^;\\n]+)`, 'g');
  let found: string | undefined;
  for (const m of source.slice(fn?.bodyStart ?? 0, index).matchAll(definition)) found = m[1];
  return found?.trim() ?? moduleDefinition(source, name);
}

/** A module constant: declared at the start of a line, outside any body. */
function moduleDefinition(source: string, name: string): string | undefined {
  let found: string | undefined;
  for (const m of source.matchAll(new RegExp(`^(?:export\\s+)?const\\s+${name}\\s*(?::[^=]+)?=\\s*([^;\\n]+)`, 'gm'))) found = m[1];
  return found?.trim();
}

/** A path builder `const name = (params) => expression` (module level), with its parameter names. */
function builderDefinition(source: string, name: string): { params: Set<string>; body: string } | undefined {
  const m = new RegExp(`^(?:export\\s+)?const\\s+${name}\\s*=\\s*\\(([^)]*)\\)\\s*(?::[^=]+)?=>\\s*([^;\\n]+)`, 'm').exec(source);
  if (!m) return undefined;
  const params = new Set(m[1]!.split(',').map((p) => p.split(':')[0]!.trim()).filter(Boolean));
  return { params, body: m[2]!.trim() };
}

function resolvePath(
  source: string, expression: string, index: number, lib = '', depth = 0, params: Set<string> = new Set(),
): string | typeof FORWARDED | undefined {
  if (depth > 10) return undefined;
  const literal = /^(['"])(.*)\1$/.exec(expression);
  if (literal) return literal[2];
  const template = /^`(.*)`$/s.exec(expression);
  if (template) {
    return template[1]!.replace(/\$\{([^}]*)\}/g, (_, inner: string) => {
      const value = /^[A-Za-z_$][\w$]*(\(.*\))?$/s.test(inner.trim()) ? resolvePath(source, inner.trim(), index, lib, depth + 1, params) : undefined;
      return typeof value === 'string' ? value : '{…}';
    });
  }
  // A call of a path builder (its arguments become {…}): `orderV2Path(id)`.
  const call = /^([A-Za-z_$][\w$]*)\(([\s\S]*)\)$/.exec(expression);
  if (call) {
    const builder = builderDefinition(source, call[1]!) ?? builderDefinition(lib, call[1]!);
    return builder ? resolvePath(lib || source, builder.body, (lib || source).length, lib, depth + 1, builder.params) : undefined;
  }
  if (/^[A-Za-z_$][\w$]*$/.test(expression)) {
    if (params.has(expression)) return '{…}';
    const fn = enclosing(source, index);
    if (fn && new RegExp(`(^|[,(\\s])${expression}\\s*[?:,)=]|(^|[,(\\s])${expression}\\s*$`).test(fn.params)) {
      return GET_FORWARDERS.includes(fn.name) ? FORWARDED : undefined;
    }
    const definition = localDefinition(source, expression, index) ?? moduleDefinition(lib, expression);
    return definition ? resolvePath(source, definition, index, lib, depth + 1, params) : undefined;
  }
  return undefined;
}
