// Rewrites the configuration tables in README.md and docs/configuration.md from the
// one schema, so the reference cannot drift (test/core/config-docs.test.ts checks it).
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../src/config/docs.js';

for (const file of ['README.md', 'docs/configuration.md']) {
  const url = new URL(`../${file}`, import.meta.url);
  writeFileSync(url, withConfigTable(readFileSync(url, 'utf8')));
  console.log(`${file}: configuration table updated`);
}
