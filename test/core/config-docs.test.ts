import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { withConfigTable } from '../../src/config/docs.js';

it('README and docs/configuration.md carry the configuration table of the schema', () => {
  for (const file of ['README.md', 'docs/configuration.md']) {
    const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    assert.equal(text, withConfigTable(text), `${file} is stale: run npm run docs:config`);
  }
});
