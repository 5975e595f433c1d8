/** recipes/schema.json, generated from the zod schema (npm run gen:schema; a unit test fails when it is stale). */
import { z } from 'zod';
import { recipeSchema } from './schema.js';

export function recipeJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(recipeSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The file's exact text. */
export function recipeJsonSchemaText(): string {
  return JSON.stringify(recipeJsonSchema(), null, 2) + '\n';
}
