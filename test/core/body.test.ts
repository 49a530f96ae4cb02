import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFormFields, parseJsonFields, topLevelKeys } from '../../src/http/body.js';
import { InvalidRequest } from '../../src/core/errors.js';

describe('token request bodies', () => {
  it('lists top-level keys with duplicates, ignoring nested ones and strings', () => {
    assert.deepEqual(topLevelKeys('{"a":1,"b":{"a":2,"c":[{"a":3}]},"a":"x\\"y","d":"{\\"e\\":1}"}'), ['a', 'b', 'a', 'd']);
    assert.deepEqual(topLevelKeys('{ "u\\u0073er" : "v" }'), ['user']);
    assert.deepEqual(topLevelKeys('{}'), []);
  });

  it('refuses duplicates, non-strings and over-long fields with invalid_request', () => {
    assert.throws(() => parseJsonFields(Buffer.from('{"username":"a","username":"b"}')).optional('username'), InvalidRequest);
    assert.throws(() => parseJsonFields(Buffer.from('{"username":["a"]}')).optional('username'), InvalidRequest);
    assert.throws(() => parseJsonFields(Buffer.from('{"username":"aaaa"}')).optional('username', 3), InvalidRequest);
    assert.throws(() => parseFormFields(Buffer.from('a=1&a=2')).optional('a'), InvalidRequest);
    assert.throws(() => parseFormFields(Buffer.from('a=%ZZ')), InvalidRequest);
    assert.throws(() => parseFormFields(Buffer.from('a=%FF')), InvalidRequest);
    assert.throws(() => parseJsonFields(Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), InvalidRequest);
  });

  it('keeps values exactly as sent (no trimming)', () => {
    assert.equal(parseJsonFields(Buffer.from('{"password":"  x  "}')).required('password'), '  x  ');
    assert.equal(parseFormFields(Buffer.from('password=+x+')).required('password'), ' x ');
  });
});
