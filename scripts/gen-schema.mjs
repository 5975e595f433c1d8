#!/usr/bin/env node
// Write recipes/schema.json from the recipe schema (src/recipes/schema.ts, built into dist/).
// Run with `npm run gen:schema`; test/recipes/json-schema.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recipeJsonSchemaText } from '../dist/recipes/json-schema.js';

const out = fileURLToPath(new URL('../recipes/schema.json', import.meta.url));
writeFileSync(out, recipeJsonSchemaText());
process.stdout.write(`wrote ${out}\n`);
