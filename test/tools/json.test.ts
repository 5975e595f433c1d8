import { describe, expect, it } from 'vitest';
import { num, parseJson, u64 } from '../../src/tools/json.js';

describe('parseJson keeps 64-bit integers exact', () => {
  it('turns integers beyond 2^53 into strings and leaves the rest alone', () => {
    const v = parseJson('{"a": 18446744073709551615, "b": [9007199254740993, 12], "c": "12345678901234567890", "d": 1.5}') as Record<
      string,
      unknown
    >;
    expect(v.a).toBe('18446744073709551615');
    expect(v.b).toEqual(['9007199254740993', 12]);
    expect(v.c).toBe('12345678901234567890');
    expect(v.d).toBe(1.5);
    expect(u64(v.a)).toBe(18446744073709551615n);
    expect(u64((v.b as unknown[])[0])).toBe(9007199254740993n);
  });

  it('keeps 16-digit integers that are exact as numbers', () => {
    expect(parseJson('[1234567890123456]')).toEqual([1234567890123456]);
  });

  it('handles pretty-printed output', () => {
    expect(parseJson('{\n  "x":\n    18446744073709551615\n}')).toEqual({ x: '18446744073709551615' });
  });

  it('u64 and num refuse what is not an integer', () => {
    expect(() => u64('12a')).toThrow(TypeError);
    expect(() => u64(1.5)).toThrow(TypeError);
    expect(num('42')).toBe(42);
  });
});
