import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OVERRIDABLE_KEYS } from '../../shared/config/overrides';
import { renderRuleDefaults, RULE_DEFAULTS_DOC } from '../../scripts/rules-doc';

describe('docs/rule-defaults.md', () => {
  it('is the table the rules registry generates (run `npm run docs:rules` after changing a rule)', () => {
    expect(readFileSync(RULE_DEFAULTS_DOC, 'utf8')).toBe(renderRuleDefaults());
  });

  it('lists every overridable rule with its default, its range and its environment variable', () => {
    const doc = renderRuleDefaults();
    for (const k of OVERRIDABLE_KEYS) expect(doc).toContain(`| \`${k.key}\` |`);
    expect(doc).toContain('| `exits.stop_loss_pct` | `-0.15` | a decimal from -1 to 0 | `PRECOG_RULE__EXITS__STOP_LOSS_PCT` |');
  });
});
