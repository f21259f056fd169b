import { describe, expect, it } from 'vitest';
import { expandBraces } from './brace_expand.js';

/** Shard patterns expand as Python's `braceexpand` (which webdataset and open_clip use) expands them. */

describe('expandBraces', () => {
  it('numeric ranges keep the zero padding of their bounds', () => {
    expect(expandBraces('shards-{000000..000003}.tar')).toEqual([
      'shards-000000.tar',
      'shards-000001.tar',
      'shards-000002.tar',
      'shards-000003.tar',
    ]);
    expect(expandBraces('s{8..11}.tar')).toEqual(['s8.tar', 's9.tar', 's10.tar', 's11.tar']);
    expect(expandBraces('s{08..11}')).toEqual(['s08', 's09', 's10', 's11']);
    expect(expandBraces('{0..6..3}')).toEqual(['0', '3', '6']);
    expect(expandBraces('{3..1}')).toEqual(['3', '2', '1']);
    expect(expandBraces('{-1..1}')).toEqual(['-1', '0', '1']);
  });

  it('lists, nesting, several groups, literal groups and `::`', () => {
    expect(expandBraces('{a,b}-{0..1}')).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
    expect(expandBraces('x{a,{b,c}d}y')).toEqual(['xay', 'xbdy', 'xcdy']);
    expect(expandBraces('{a,}b')).toEqual(['ab', 'b']);
    expect(expandBraces('lit{x}eral')).toEqual(['lit{x}eral']);
    expect(expandBraces('no braces.tar')).toEqual(['no braces.tar']);
    expect(expandBraces('open{brace')).toEqual(['open{brace']);
    expect(expandBraces('a{0..1}.tar::b.tar')).toEqual(['a0.tar', 'a1.tar', 'b.tar']);
  });

  it('refuses a range that expands to millions of names', () => {
    expect(() => expandBraces('s{0..99999999}.tar')).toThrow(
      /expands \{0\.\.99999999\} to 100,000,000 names; check the range/,
    );
    expect(() => expandBraces('{0..9999}{0..9999}')).toThrow(/expands to over 1,000,000 names/);
  });
});
