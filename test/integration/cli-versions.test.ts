import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from '../../cli/precog';
import { runPrecog } from '../helpers/cli';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase();

const precog = (...args: string[]) => runPrecog(db().url, args);

const ELO = JSON.stringify({ k_factor: 20, home_advantage: 55, ratings: { KC: 1650, DAL: 1560 } });
const entry = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ model: { name: 'elo_nfl', version: 'v1.0' }, kind: 'pre_game', max_spread: '0.08', ...overrides });

describe('precog strategy / model', () => {
  it('creates a model version and validates its config per model type', async () => {
    expect((await precog('model', 'create', 'elo_nfl', 'v1.0', '--type', 'elo', '--sport', 'nfl', '--config', ELO)).code).toBe(EXIT_OK);
    // An invalid config is a usage error (exit 2) naming every bad field.
    const bad = await precog('model', 'create', 'elo_nfl', 'v1.1', '--type', 'elo', '--config', '{"k_factor": "20", "home_advantage": 5000}');
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toMatch(/invalid elo model elo_nfl v1\.1: 2 problems\n {2}config\.k_factor: .*\n {2}config\.home_advantage: /);
    const unknown = await precog('model', 'create', 'nn', 'v1.0', '--type', 'ml', '--config', '{}');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/option '--type <type>' argument 'ml' is invalid\. Allowed choices are elo, matrix/);
  });

  it('creates strategy versions; v1.1 never alters v1.0; configs are validated with the field named', async () => {
    expect((await precog('strategy', 'create', 'halftime_entry', 'v1.0', '--type', 'entry', '--sport', 'nfl', '--config', entry())).code).toBe(EXIT_OK);
    const before = (await precog('strategy', 'list', '--json')).out;
    expect((await precog('strategy', 'create', 'halftime_entry', 'v1.1', '--type', 'entry', '--sport', 'nfl', '--config', entry({ max_spread: '0.05' }))).code).toBe(EXIT_OK);
    const after = JSON.parse((await precog('strategy', 'list', '--json')).out);
    expect(after.map((s: { version: string }) => s.version)).toEqual(['v1.1', 'v1.0']);
    expect(after[1]).toEqual(JSON.parse(before)[0]);

    const float = await precog('strategy', 'create', 'x', 'v1.0', '--type', 'entry', '--config', entry({ max_spread: 0.08 }));
    expect(float.code).toBe(EXIT_USAGE);
    expect(float.err).toMatch(/config\.max_spread: write decimals as strings/);
    const noModel = await precog('strategy', 'create', 'x', 'v1.0', '--type', 'entry', '--config', entry({ model: { name: 'nope', version: 'v9.9' } }));
    expect(noModel.err).toMatch(/config\.model: model nope v9\.9 does not exist/);
    const again = await precog('strategy', 'create', 'halftime_entry', 'v1.0', '--type', 'entry', '--config', entry());
    expect(again.err).toMatch(/already exists: versions are immutable/);
  });

  it('follows draft → testing → active → inactive → deprecated and refuses illegal jumps', async () => {
    const jump = await precog('strategy', 'activate', 'halftime_entry', 'v1.0');
    expect(jump.code).toBe(EXIT_FAILURE);
    expect(jump.err).toMatch(/draft → active is not allowed \(from draft: testing, deprecated\)/);
    expect((await precog('strategy', 'status', 'halftime_entry', 'v1.0', 'testing')).code).toBe(EXIT_OK);
    expect((await precog('strategy', 'activate', 'halftime_entry', 'v1.0')).code).toBe(EXIT_OK);
    expect((await precog('strategy', 'deprecate', 'halftime_entry', 'v1.0')).err).toMatch(/active → deprecated is not allowed/);
    expect((await precog('strategy', 'status', 'halftime_entry', 'v1.0', 'inactive')).code).toBe(EXIT_OK);
    expect((await precog('strategy', 'deprecate', 'halftime_entry', 'v1.0')).code).toBe(EXIT_OK);
    expect((await precog('strategy', 'status', 'halftime_entry', 'v1.0', 'active')).err).toMatch(/deprecated → active is not allowed \(from deprecated: nothing \(final\)\)/);
    const listed = JSON.parse((await precog('strategy', 'list', '--status', 'deprecated', '--json')).out);
    expect(listed.map((s: { version: string }) => s.version)).toEqual(['v1.0']);
  });

  it('model lifecycle: draft → training → validating → active', async () => {
    expect((await precog('model', 'activate', 'elo_nfl', 'v1.0')).code).toBe(EXIT_FAILURE);
    for (const status of ['training', 'validating']) expect((await precog('model', 'status', 'elo_nfl', 'v1.0', status)).code).toBe(EXIT_OK);
    expect((await precog('model', 'activate', 'elo_nfl', 'v1.0')).code).toBe(EXIT_OK);
    expect((await precog('model', 'list')).out).toMatch(/^NAME +VERSION +TYPE +SPORT +STATUS +CREATED\nelo_nfl +v1\.0 +elo +nfl +active +\d{4}-/);
  });

  it('usage errors exit 2; --help exits 0', async () => {
    expect((await precog('strategy', 'create', 'x', '1.0', '--type', 'entry', '--config', '{}')).code).toBe(EXIT_USAGE);
    expect((await precog('strategy', 'frobnicate')).code).toBe(EXIT_USAGE);
    expect((await precog('strategy', '--help')).code).toBe(EXIT_OK);
  });
});
