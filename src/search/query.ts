import { SuError } from '../errors.js';

/**
 * The user's search syntax, and its translation into an FTS5 MATCH expression.
 *
 * Syntax (documented in `search --help` and docs/search.md):
 * - `word word` — every word must occur (in any order);
 * - `"exact phrase"` — these words, adjacent, in this order;
 * - `pref*` or `"some phr"*` — prefix of the (last) word;
 * - `-word`, `-"phrase"`, `-pref*` — exclude events containing it.
 *
 * Every term is emitted as a quoted FTS5 string, so nothing the user types can act as an
 * FTS5 operator (`AND`, `OR`, `NOT`, `NEAR`), a column filter (`text:`), a group or a
 * caret: those are plain words here. Punctuation inside a term splits it into adjacent
 * tokens, exactly as the index's tokenizer split the stored text.
 */

/** One term of a parsed query. */
interface QueryTerm {
  /** The words as typed (without quotes, `-` or `*`). */
  text: string;
  /** Typed in double quotes. */
  phrase: boolean;
  /** Ended with `*`. */
  prefix: boolean;
  /** Started with `-`. */
  exclude: boolean;
}

/** A validated query: its terms and the FTS5 expression that runs it. */
export interface ParsedQuery {
  /** The query as given. */
  text: string;
  terms: QueryTerm[];
  /** The FTS5 MATCH expression (only quoted strings, `*`, AND, OR, NOT and parentheses). */
  match: string;
}

/** Longest query accepted, in characters, and most terms: beyond that it is not a search but a paste. */
export const MAX_QUERY_CHARS = 1000;
const MAX_QUERY_TERMS = 32;

/** The help text for the syntax, shared by `search --help` and the API's error hints. */
export const QUERY_SYNTAX_HELP = `Query syntax:
  word other        events containing every word (any order, case and accents ignored)
  "exact phrase"    these words next to each other, in this order
  pars*             words starting with "pars" (also "some phr"* for a phrase)
  -word             leave out events containing the word (also -"a phrase", -pre*)
  AND, OR, NOT, NEAR, parentheses and column:filters are ordinary words here.
  Punctuation splits words: foo_bar.ts matches the phrase "foo bar ts".`;

// What unicode61 keeps as token characters: letters, numbers, marks (folded with the letter), private use.
const TOKEN_CHAR = /[\p{L}\p{N}\p{M}\p{Co}]/u;
// Control characters mean nothing to the tokenizer and NUL would end the string for SQLite.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

function usage(message: string, hint = 'the query syntax is in `stackunderflow search --help` and docs/search.md'): SuError {
  return new SuError('USAGE', message, { hint });
}

function quote(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"';
}

function termSql(t: QueryTerm): string {
  return quote(t.text) + (t.prefix ? '*' : '');
}

/** Splits the query into terms; every problem is a USAGE error with a precise message. */
function tokenize(input: string): QueryTerm[] {
  const s = input.replace(CONTROL, ' ');
  const terms: QueryTerm[] = [];
  let i = 0;
  while (i < s.length) {
    if (/\s/.test(s[i])) {
      i++;
      continue;
    }
    const start = i;
    let exclude = false;
    if (s[i] === '-' && i + 1 < s.length && !/\s/.test(s[i + 1])) {
      exclude = true;
      i++;
    }
    let text: string;
    let phrase = false;
    if (s[i] === '"') {
      const close = s.indexOf('"', i + 1);
      if (close < 0) throw usage(`unbalanced quote in the query at character ${i + 1}: ${s.slice(start, start + 30)}`, 'close the phrase with a second " (and quote the whole query for your shell)');
      text = s.slice(i + 1, close);
      phrase = true;
      i = close + 1;
    } else {
      let j = i;
      while (j < s.length && !/\s/.test(s[j]) && s[j] !== '"') j++;
      text = s.slice(i, j);
      i = j;
    }
    let prefix = false;
    if (phrase) {
      if (s[i] === '*') {
        prefix = true;
        while (s[i] === '*') i++;
      }
    } else if (text.endsWith('*')) {
      prefix = true;
      text = text.replace(/\*+$/, '');
      if (text === '') throw usage(`'${s.slice(start, i)}' has nothing before the *`, 'a prefix needs at least one letter or digit, e.g. pars*');
    }
    terms.push({ text: text.trim(), phrase, prefix, exclude });
  }
  return terms;
}

/**
 * Parses and validates a search query. Throws SuError('USAGE') for an empty query, an
 * unbalanced quote, a query of exclusions only, a bare `*`, or one that is too long.
 */
export function parseQuery(input: string): ParsedQuery {
  if (input.length > MAX_QUERY_CHARS) throw usage(`the query is ${input.length} characters long; the limit is ${MAX_QUERY_CHARS}`, 'search for a few distinctive words or a phrase');
  // Terms with no word character ("-", "...", "\"\"") would match nothing at all: drop them.
  const terms = tokenize(input).filter((t) => TOKEN_CHAR.test(t.text));
  if (terms.length > MAX_QUERY_TERMS) throw usage(`the query has ${terms.length} terms; the limit is ${MAX_QUERY_TERMS}`, 'search for a few distinctive words or a phrase');
  const include = terms.filter((t) => !t.exclude);
  const exclude = terms.filter((t) => t.exclude);
  if (include.length === 0) {
    if (exclude.length > 0) throw usage('the query only excludes words (-word); give at least one word to find', 'e.g. stackunderflow search "parser -test"');
    throw usage(input.trim() === '' ? 'the query is empty' : `the query '${input.trim()}' has no words to search for`, 'give a word, a "phrase" or a prefix*');
  }
  const positive = include.map(termSql).join(' AND ');
  const match = exclude.length === 0 ? positive : `(${positive}) NOT (${exclude.map(termSql).join(' OR ')})`;
  return { text: input, terms, match };
}
