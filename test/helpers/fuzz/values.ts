// Hostile values for the HTTP fuzzer, by category. Pure data: the same list on every run, so a
// failure names a value anyone can send again.

/** How a hostile value travels: as one form/query value, repeated, or as a whole JSON body. */
export type Delivery =
  { kind: 'value'; value: string } | { kind: 'repeat'; value: string; times: number } | { kind: 'json'; body: string };

export interface HostileValue {
  category: ValueCategory;
  /** Short label for the failure list (the value itself may be 64 KiB). */
  label: string;
  delivery: Delivery;
}

export const VALUE_CATEGORIES = [
  'nul',
  'control',
  'long',
  'negative',
  'huge',
  'float',
  'exponent',
  'wrong-type',
  'repeated',
  'unicode',
  'empty',
  'json-deep',
  'json-types',
] as const;
export type ValueCategory = (typeof VALUE_CATEGORIES)[number];

/** Deeper than any recursive parser's stack (issue 15 saw 50,000 overflow it). */
export const JSON_DEPTH = 50_000;
export const LONG_LENGTH = 64 * 1024;
export const REPEAT_TIMES = 1_000;

/** Every hostile value of a category for parameter `name` (several per category, sampled later). */
export function hostileValues(category: ValueCategory, name: string): HostileValue[] {
  const v = (label: string, value: string): HostileValue => ({ category, label, delivery: { kind: 'value', value } });
  switch (category) {
    case 'nul':
      return [v('a\\0b', 'a\u0000b'), v('\\0', '\u0000'), v('1\\0', '1\u0000')];
    case 'control':
      return [v('ESC[31m CR LF', 'x\u001b[31m\r\ny'), v('\\x01\\x7f', '\u0001x\u007f'), v('trailing LF', 'fuzz\n')];
    case 'long':
      return [v(`'x'×${LONG_LENGTH}`, 'x'.repeat(LONG_LENGTH)), v(`'9'×${LONG_LENGTH}`, '9'.repeat(LONG_LENGTH))];
    case 'negative':
      return [v('-1', '-1'), v('-2147483649', '-2147483649'), v('-0', '-0')];
    case 'huge':
      return [v('99999999999', '99999999999'), v('2^63', '9223372036854775808'), v('1e400 digits', '1'.repeat(400))];
    case 'float':
      return [v('1.5', '1.5'), v('NaN', 'NaN'), v('Infinity', 'Infinity')];
    case 'exponent':
      return [v('3e9', '3e9'), v('1e20', '1e20'), v('1e-7', '1e-7')];
    case 'wrong-type':
      return [v('{"a":1}', '{"a":1}'), v('[1,2]', '[1,2]'), v('true', 'true'), v('null', 'null')];
    case 'repeated':
      return [
        { category, label: `'fuzz'×${REPEAT_TIMES}`, delivery: { kind: 'repeat', value: 'fuzz', times: REPEAT_TIMES } },
        { category, label: `'1'×${REPEAT_TIMES}`, delivery: { kind: 'repeat', value: '1', times: REPEAT_TIMES } },
      ];
    case 'unicode':
      return [
        v('RTL override', '\u202Eevil\u202C'),
        v('emoji', '😀🔥'),
        v('combining', 'e\u0301\u0301\u0301'),
        v('zero-width', 'a\u200Bb\uFEFF'),
      ];
    case 'empty':
      return [v('empty', ''), v('spaces', '   ')];
    case 'json-deep':
      return [
        {
          category,
          label: `[…] ${JSON_DEPTH} deep`,
          delivery: { kind: 'json', body: `{"${name}":${'['.repeat(JSON_DEPTH)}${']'.repeat(JSON_DEPTH)}}` },
        },
        {
          category,
          label: `{"a":…} ${JSON_DEPTH} deep`,
          delivery: { kind: 'json', body: `{"${name}":${'{"a":'.repeat(JSON_DEPTH)}1${'}'.repeat(JSON_DEPTH)}}` },
        },
      ];
    case 'json-types':
      return [
        {
          category,
          label: 'JSON object',
          delivery: { kind: 'json', body: JSON.stringify({ [name]: { a: [1, null] } }) },
        },
        { category, label: 'JSON 1e999', delivery: { kind: 'json', body: `{"${name}":1e999}` } },
        {
          category,
          label: 'JSON array',
          delivery: { kind: 'json', body: JSON.stringify({ [name]: ['a', 2, false] }) },
        },
      ];
  }
}

/** Path placeholder values a client could send instead of a real id (already percent-encoded). */
export const HOSTILE_PATH_IDS: ReadonlyArray<{ label: string; raw: string }> = [
  { label: '%00', raw: '%00' },
  { label: '99999999999', raw: '99999999999' },
  { label: '-1', raw: '-1' },
  { label: '../', raw: '..%2F' },
  { label: '%2e%2e', raw: '%2e%2e' },
  { label: '1.5', raw: '1.5' },
  { label: 'emoji', raw: '%F0%9F%98%80' },
  { label: "'x'×300", raw: 'x'.repeat(300) },
  { label: 'bad UTF-8 %FF', raw: '%FF' },
];

/**
 * Authorization headers that try to authenticate and must fail with a 401 (never a 5xx): hostile
 * OAuth field values (percent-encoded, as a header cannot carry raw NUL), and a real token key
 * (`realKey`, consumer:token:secret) with a wrong signature.
 */
export function hostileAuthorizations(realKey: string): Array<{ label: string; header: string }> {
  const [consumer = '', token = ''] = realKey.split(':');
  const oauth = (fields: Record<string, string>) =>
    `OAuth ${Object.entries({
      oauth_consumer_key: consumer,
      oauth_token: token,
      oauth_signature_method: 'PLAINTEXT',
      oauth_signature: '%26wrong',
      ...fields,
    })
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ')}`;
  return [
    { label: 'oauth_token NUL', header: oauth({ oauth_token: 'a%00b' }) },
    { label: 'oauth_consumer_key NUL', header: oauth({ oauth_consumer_key: '%00' }) },
    { label: 'oauth_token ESC', header: oauth({ oauth_token: '%1B%5B31m' }) },
    { label: 'oauth_token 8 KiB', header: oauth({ oauth_token: 'x'.repeat(8 * 1024) }) },
    { label: 'oauth_token emoji', header: oauth({ oauth_token: '%F0%9F%98%80' }) },
    { label: 'oauth_token bad %-escape', header: oauth({ oauth_token: '%ZZ%' }) },
    { label: 'real token, wrong signature', header: oauth({}) },
    { label: 'OAuth garbage', header: 'OAuth ,,=,"' },
  ];
}
