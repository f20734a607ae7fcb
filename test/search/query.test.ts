import { describe, expect, it } from 'vitest';
import { SuError, exitCodeFor } from '../../src/errors.js';
import { parseQuery } from '../../src/search/index.js';
import { MAX_QUERY_CHARS } from '../../src/search/query.js';

describe('parseQuery: the FTS5 expression for each piece of syntax', () => {
  const cases: Array<[string, string]> = [
    ['zeppelin', '"zeppelin"'],
    ['red balloon', '"red" AND "balloon"'],
    ['"red balloon"', '"red balloon"'],
    ['refactor*', '"refactor"*'],
    ['refactor**', '"refactor"*'],
    ['"red bal"*', '"red bal"*'],
    ['balloon -red', '("balloon") NOT ("red")'],
    ['balloon -"red one" -blue*', '("balloon") NOT ("red one" OR "blue"*)'],
    ['  spaced\tout\n ', '"spaced" AND "out"'],
    // FTS5 syntax typed by the user is only words: quoted, it cannot act.
    ['a OR b', '"a" AND "OR" AND "b"'],
    ['NEAR(a b)', '"NEAR(a" AND "b)"'],
    ['text:secret', '"text:secret"'],
    ['^start', '"^start"'],
    ['foo_bar.ts', '"foo_bar.ts"'],
    // A hyphen inside a word is punctuation, not an exclusion.
    ['well-known', '"well-known"'],
    // Words without any letter or digit are dropped, they could never match.
    ['zeppelin - ... ""', '"zeppelin"'],
    ['wörd 日本語', '"wörd" AND "日本語"'],
  ];
  it.each(cases)('%j → %s', (input, match) => {
    expect(parseQuery(input).match).toBe(match);
  });

  it('keeps the terms with their flags', () => {
    expect(parseQuery('-"a b" c*').terms).toEqual([
      { text: 'a b', phrase: true, prefix: false, exclude: true },
      { text: 'c', phrase: false, prefix: true, exclude: false },
    ]);
  });

  it('strips control characters (NUL would end the string for SQLite)', () => {
    expect(parseQuery('ab\u0000cd').match).toBe('"ab" AND "cd"');
  });
});

describe('parseQuery: malformed queries are USAGE errors with a clear message', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /the query is empty/],
    ['   ', /the query is empty/],
    ['"unbalanced phrase', /unbalanced quote/],
    ['ok "still open', /unbalanced quote in the query at character 4/],
    ['-red', /only excludes/],
    ['-red -"blue sky"', /only excludes/],
    ['*', /nothing before the \*/],
    ['-*', /nothing before the \*/],
    ['... --- !!!', /has no words to search for/],
    ['""', /has no words to search for/],
    ['x '.repeat(40), /40 terms; the limit is 32/],
    ['y'.repeat(MAX_QUERY_CHARS + 1), /characters long/],
  ];
  it.each(bad.map(([q, m]) => [q.length > 30 ? q.slice(0, 12) + '…' : q, q, m] as const))('%j', (_label, input, message) => {
    let err: unknown;
    try {
      parseQuery(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SuError);
    expect((err as SuError).code).toBe('USAGE');
    expect(exitCodeFor(err)).toBe(64);
    expect((err as SuError).message).toMatch(message);
    expect((err as SuError).hint).toBeTruthy();
  });
});
