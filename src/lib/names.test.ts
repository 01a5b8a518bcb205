import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareRelPaths, isAtOrBelow, isRelPath, nameProblem, parentOf, utf8Length } from './names.js';

describe('nameProblem (SPEC.md section 5: names the other side cannot hold)', () => {
  it.each([
    ['', 'empty'],
    ['a/b', 'slash'],
    ['a\u0000b', 'nul'],
    ['.', 'dot'],
    ['..', 'dot'],
    ['x'.repeat(256), 'too-long'],
    ['é'.repeat(128), 'too-long'],
    ['e\u0301', 'not-nfc'],
  ])('%j is refused as %s', (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });

  it('accepts 255 bytes, dots inside names and unicode', () => {
    expect(nameProblem('x'.repeat(255))).toBeNull();
    expect(nameProblem('...a')).toBeNull();
    expect(nameProblem('日本語.txt')).toBeNull();
  });

  it('refuses Windows-reserved names and characters only under pathLimit windows', () => {
    expect(nameProblem('CON.txt')).toBeNull();
    expect(nameProblem('CON.txt', 'windows')).toBe('windows-reserved');
    expect(nameProblem('a:b', 'windows')).toBe('windows-char');
    expect(nameProblem('trailing.', 'windows')).toBe('windows-char');
  });
});

describe('relative paths', () => {
  it('validates every segment', () => {
    expect(isRelPath('')).toBe(true);
    expect(isRelPath('a/b/c.txt')).toBe(true);
    expect(isRelPath('/a')).toBe(false);
    expect(isRelPath('a/../b')).toBe(false);
    expect(isRelPath('a//b')).toBe(false);
  });

  it('orders a parent right before its children', () => {
    const sorted = ['a b', 'a/b', 'a', 'a/b/c', 'a-b'].sort(compareRelPaths);
    expect(sorted).toEqual(['a', 'a/b', 'a/b/c', 'a b', 'a-b']);
  });

  it('knows parents and ancestry', () => {
    expect(parentOf('a/b/c')).toBe('a/b');
    expect(parentOf('a')).toBe('');
    expect(isAtOrBelow('a/b', 'a')).toBe(true);
    expect(isAtOrBelow('ab', 'a')).toBe(false);
    expect(isAtOrBelow('x', '')).toBe(true);
  });
});

describe('utf8Length', () => {
  it('counts the bytes the UTF-8 encoder writes, for any string (lone surrogates included)', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (a, b) => {
        expect(utf8Length(a)).toBe(encoder.encode(a).length);
        expect(utf8Length(b)).toBe(encoder.encode(b).length);
      }),
      { numRuns: 2000 },
    );
    for (const s of ['', 'a', 'é', '€', '😀', '\ud800', '\udc00', '\ud800a', 'a\udfff\ud83d\ude00']) expect(utf8Length(s)).toBe(encoder.encode(s).length);
  });
});
