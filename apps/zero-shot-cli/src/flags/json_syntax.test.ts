import { describe, expect, it } from 'vitest';
import { describeJsonSyntaxError } from './json_syntax.js';

describe('describeJsonSyntaxError', () => {
  it.each([
    '[]',
    '{}',
    ' [ "a" , "b\\u00e9\\n" ] ',
    '{"a": [1, -2.5e3, true, false, null], "b": {"c": []}}',
    '"text"',
    '0',
  ])('finds nothing wrong in valid JSON %s', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(describeJsonSyntaxError(text)).toBeUndefined();
  });

  it.each([
    ['["a",]', 'a trailing comma, which JSON does not allow, at line 1, column 5'],
    ['{"a": 1,\n}', 'a trailing comma, which JSON does not allow, at line 1, column 8'],
    ['["a" "b"]', "unexpected '\"' where ',' or ']' should be at line 1, column 6"],
    ['{a: 1}', 'unexpected \'a\' where a "quoted" key should be at line 1, column 2'],
    ['["a\nb"]', 'a line break inside a string (write it as an escape) at line 1, column 4'],
    ['["a', 'a string is not closed at line 1, column 2'],
    ['[1] x', "unexpected 'x' after the end of the JSON value at line 1, column 5"],
    ['[01]', "unexpected '1' where ',' or ']' should be at line 1, column 3"],
    ['["\\x"]', 'a bad escape sequence in a string at line 1, column 3'],
  ])('locates the error in %j', (text, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(describeJsonSyntaxError(text)).toBe(message);
  });
});
