import { describe, it } from 'node:test';
import { killUnderLoad } from '../helpers/kill.js';

describe('kill -9 under load', () => {
  it('loses no acknowledged write on SQLite', () => killUnderLoad({}));
});
