import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/runtime/config';

describe('METALFLOW_DB_PREPARED_STATEMENTS', () => {
  it('is on by default, and on or off when given', () => {
    assert.equal(loadConfig({}).database.preparedStatements, true);
    assert.equal(loadConfig({ METALFLOW_DB_PREPARED_STATEMENTS: 'on' }).database.preparedStatements, true);
    assert.equal(loadConfig({ METALFLOW_DB_PREPARED_STATEMENTS: 'off' }).database.preparedStatements, false);
  });

  it('refuses anything else at start, naming the variable', () => {
    assert.throws(
      () => loadConfig({ METALFLOW_DB_PREPARED_STATEMENTS: 'no' }),
      /METALFLOW_DB_PREPARED_STATEMENTS is "on" or "off", got "no"/,
    );
  });
});
