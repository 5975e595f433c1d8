import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { recipeJsonSchema, recipeJsonSchemaText } from '../../src/recipes/json-schema.js';
import { SIGNAL_PATH_NAMES } from '../../src/detect/paths.js';
import { ACTION_NAMES } from '../../src/actions/registry.js';

describe('recipes/schema.json', () => {
  it('is the schema generated from the zod schema (run `npm run gen:schema` when this fails)', () => {
    const committed = readFileSync(new URL('../../recipes/schema.json', import.meta.url), 'utf8');
    expect(committed, 'recipes/schema.json is stale: run `npm run gen:schema` and commit it').toBe(recipeJsonSchemaText());
  });

  it('is strict and complete: unknown keys refused, every signal path and action listed', () => {
    const s = recipeJsonSchema() as any;
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(expect.arrayContaining(['name', 'description', 'detectors', 'actions']));
    expect(s.properties.detectors.additionalProperties.properties.signal.enum).toEqual(SIGNAL_PATH_NAMES);
    expect(s.properties.guards.additionalProperties).toBe(false);
    const actions = s.properties.actions.items.oneOf ?? s.properties.actions.items.anyOf;
    expect(actions.map((a: any) => a.properties.action.const)).toEqual(ACTION_NAMES);
    for (const a of actions) expect(a.additionalProperties).toBe(false);
  });
});
