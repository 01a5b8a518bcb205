import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ignore from 'ignore';
import { BUILT_IN_IGNORES, builtInIgnored, createPathFilter, TEMP_PREFIX } from './filters.js';

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

  it('the hand-written built-in matcher agrees with gitignore matching (the ignore library) on any path, files and folders', () => {
    const lib = ignore().add([...BUILT_IN_IGNORES]);
    const piece = fc.constantFrom('~$', '.~lock.', '#', '.tmp', '.TMP', 'tmp', '.DS_Store', '.ds_store', 'Thumbs.db', 'THUMBS.DB', 'desktop.ini', TEMP_PREFIX, TEMP_PREFIX.toUpperCase(), 'a', '.', '$', '~', 'x y', 'é');
    const name = fc.array(piece, { minLength: 1, maxLength: 4 }).map((ps) => ps.join('')).filter((n) => n !== '.' && n !== '..');
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 4 }), fc.boolean(), (names, dir) => {
        const path = names.join('/');
        expect(builtInIgnored(path), path).toBe(lib.ignores(dir ? `${path}/` : path));
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
});
