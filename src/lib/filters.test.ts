import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ignore from 'ignore';
import { BUILT_IN_IGNORED, BUILT_IN_IGNORES, createPathFilter, TEMP_PREFIX } from './filters.js';

const none = { include: [], exclude: [], maxFileSize: null };

describe('filters (SPEC.md section 4)', () => {
  it.each([
    [`docs/${TEMP_PREFIX}abc`, 'the engine temporary file'],
    ['~$report.docx', '~$*'],
    ['a/.~lock.report.odt#', '.~lock.*#'],
    ['a/b/scratch.tmp', '*.tmp'],
    ['photos/.DS_Store', '.DS_Store'],
    ['Thumbs.db', 'Thumbs.db'],
    ['x/desktop.ini', 'desktop.ini'],
  ])('built-in ignore: %s (%s), even with no options', (path) => {
    expect(createPathFilter(none).verdict(path, 'file', 1)).toBe('built-in');
  });

  it('the built-in expression agrees, on names made of the patterns\' own pieces, with gitignore matching (the ignore library) on any path, files and folders', () => {
    const lib = ignore().add([...BUILT_IN_IGNORES]);
    const piece = fc.constantFrom('~$', '.~lock.', '#', '.tmp', '.TMP', 'tmp', '.DS_Store', '.ds_store', 'Thumbs.db', 'THUMBS.DB', 'desktop.ini', TEMP_PREFIX, TEMP_PREFIX.toUpperCase(), 'a', '.', '$', '~', 'x y', 'é');
    const name = fc.array(piece, { minLength: 1, maxLength: 4 }).map((ps) => ps.join('')).filter((n) => n !== '.' && n !== '..');
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 4 }), fc.boolean(), (names, dir) => {
        const path = names.join('/');
        expect(BUILT_IN_IGNORED.test(path), path).toBe(lib.ignores(dir ? `${path}/` : path));
      }),
      { numRuns: 3000 },
    );
  });

  it('lists the built-ins of the SPEC', () => {
    expect(BUILT_IN_IGNORES).toEqual(expect.arrayContaining(['~$*', '.~lock.*#', '*.tmp', '.DS_Store', 'Thumbs.db', 'desktop.ini']));
  });

  it('exclude patterns use gitignore syntax, including folders and negation', () => {
    const f = createPathFilter({ include: [], exclude: ['*.log', 'build/', '!keep.log'], maxFileSize: null });
    expect(f.verdict('a/x.log', 'file', 1)).toBe('excluded');
    expect(f.verdict('keep.log', 'file', 1)).toBeNull();
    expect(f.verdict('build', 'dir', 0)).toBe('excluded');
    expect(f.verdict('build/out.js', 'file', 1)).toBe('excluded');
    expect(f.prunes('build')).toBe(true);
    expect(f.verdict('src/build.ts', 'file', 1)).toBeNull();
  });

  it('include patterns: only matching files sync, folders are kept for what they may hold', () => {
    const f = createPathFilter({ include: ['*.md', 'docs/'], exclude: [], maxFileSize: null });
    expect(f.verdict('readme.md', 'file', 1)).toBeNull();
    expect(f.verdict('docs/a.png', 'file', 1)).toBeNull();
    expect(f.verdict('src/a.ts', 'file', 1)).toBe('not-included');
    expect(f.verdict('src', 'dir', 0)).toBeNull();
    expect(f.prunes('src')).toBe(false);
  });

  it('maxFileSize ignores larger files only', () => {
    const f = createPathFilter({ include: [], exclude: [], maxFileSize: 100 });
    expect(f.verdict('a.bin', 'file', 100)).toBeNull();
    expect(f.verdict('a.bin', 'file', 101)).toBe('too-large');
    expect(f.verdict('big', 'dir', 1_000)).toBeNull();
  });

  it('never ignores the root', () => {
    expect(createPathFilter({ include: [], exclude: ['*'], maxFileSize: null }).verdict('', 'dir', 0)).toBeNull();
  });

  it('the built-in ignores, matched as one expression, agree with the ignore library on every path, file or folder', () => {
    const library = ignore().add([...BUILT_IN_IGNORES]);
    const names = ['a', 'b.txt', '.DS_Store', '.ds_store', '.DS_Storex', 'x.DS_Store', 'x.tmp', 'X.TMP', '.tmp', 'tmp', 'a.tmpx', 'a.tmp.b', '~$x', '~$', '$~x', 'a~$x', '.~lock.a#', '.~lock.#', '.~lock.a#b', '.~lockxa#', 'thumbs.db', 'Thumbs.db', 'Thumbs.dbx', 'xThumbs.db', 'desktop.ini', 'adesktop.ini', 'desktopxini', `${TEMP_PREFIX}12`, TEMP_PREFIX, TEMP_PREFIX.slice(1), `x${TEMP_PREFIX}`, 'é.tmp', 'a b', '#x', '!x'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }), fc.constantFrom('file' as const, 'dir' as const), (segments, kind) => {
        const path = segments.join('/');
        const expected = library.ignores(kind === 'dir' ? `${path}/` : path);
        expect(BUILT_IN_IGNORED.test(path), path).toBe(expected);
        expect(createPathFilter(none).verdict(path, kind, 1) === 'built-in', path).toBe(expected);
        if (kind === 'dir') expect(createPathFilter(none).prunes(path), path).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('exclude and include patterns answer the same after many calls (their caches are dropped now and then)', () => {
    const f = createPathFilter({ include: ['*.md', 'docs/'], exclude: ['*.log', 'build/', '!keep.log'], maxFileSize: null });
    for (let i = 0; i < 150_000; i++) {
      const n = i % 5;
      const path = n === 0 ? `d${i}/x.log` : n === 1 ? `d${i}/keep.log` : n === 2 ? `build/d${i}/a.md` : n === 3 ? `docs/d${i}.png` : `s/d${i}.ts`;
      const expected = n === 0 || n === 2 ? 'excluded' : n === 3 ? null : 'not-included';
      if (f.verdict(path, 'file', 1) !== expected) expect(f.verdict(path, 'file', 1), `${path} at call ${i}`).toBe(expected);
    }
  });
});
