/**
 * The planner (DESIGN.md section 3, ADR 0010): a pure, total, deterministic function from the
 * three trees, the dirty paths, the mode and the options to a canonical, dependency-ordered list
 * of actions, each naming the SPEC.md rule it follows. No IO, no clock (the caller passes `now`).
 */
import type { Action, CloudMeta, EntryKind, LocalMeta, Side, SyncedEntry, SyncMode, TaskOptions } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { baseName, compareRelPaths, joinRel, nameProblem, parentOf } from '../lib/names.js';
import { BUILT_IN_IGNORES, createPathFilter, TEMP_PREFIX } from '../lib/filters.js';
import type { PlanMade } from '../events/types.js';
import { unreachable } from '../lib/assert.js';
import type { TreeView } from './trees.js';
import { conflictPath } from './conflict-name.js';
import { compareSegments, sortByRelPath } from './columns.js';

/** Everything the planner reads. */
export interface PlanInput {
  readonly trees: TreeView;
  /** Paths changed since the last plan (any order; duplicates are fine). */
  readonly dirty: Iterable<RelPath>;
  readonly mode: SyncMode;
  readonly options: TaskOptions;
  /** This terminal's name, for conflict copy names. */
  readonly terminal: string;
  /** Milliseconds since the epoch, from the injected clock: conflict names only. */
  readonly now: number;
  /** The user confirmed a held mass delete: plan the deletes this time. */
  readonly allowMassDelete?: boolean;
  /** Whether the task's first synchronization rules apply (SPEC.md section 3); default: the synced tree is empty. */
  readonly firstSync?: boolean;
  /**
   * Length in characters of the local folder's own full path (no trailing separator), so that
   * `path-too-long` (SPEC 5) is checked on the full path: root, one separator, relative path.
   * Default 0: only the relative path is counted.
   */
  readonly rootLength?: number;
}

/** What the planner decided. */
export interface Plan {
  /** Canonical, dependency-ordered actions. */
  readonly actions: readonly Action[];
  /** Set when the mass-delete guard held the deletes back. */
  readonly guard: PlanMade['guard'];
  /** Paths whose deletes were held: the caller keeps them dirty for the next plan. */
  readonly held: readonly RelPath[];
}

const PLAIN_ASCII = /^[\x20-\x7e]+$/;

/**
 * Whether every segment of `path` is plain printable ASCII, 1 to 255 characters, not '.' or '..':
 * valid on Linux (`pathLimit: 'none'`) as it is. One pass over the code units, no split; the
 * same answer as the regular expression `PLAIN_PATH_RE` of planner.test.ts, at a fraction of its
 * cost on the incremental plan's path (ADR 0011, fifth round).
 */
export function isPlainPath(path: string): boolean {
  const n = path.length;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const ch = i < n ? path.charCodeAt(i) : 47;
    if (ch === 47) {
      const len = i - start;
      if (len === 0 || len > 255) return false;
      if (path.charCodeAt(start) === 46 && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 46))) return false;
      start = i + 1;
    } else if (ch < 0x20 || ch > 0x7e) {
      return false;
    }
  }
  return true;
}

/**
 * With no include or exclude patterns only the built-in ignores apply, and each is a plain
 * base-name glob: then a path is ignored exactly when one of its segments matches one, which a
 * single regular expression decides ~50x faster than the gitignore engine (the incremental plan's
 * budget). Returns null when the patterns need the full engine. Case-insensitive like `ignore`.
 * `builtInMatcher` agrees with `createPathFilter` (tested in planner.test.ts).
 */
export function builtInMatcher(filters: TaskOptions['filters']): ((path: RelPath) => boolean) | null {
  if (filters.include.length > 0 || filters.exclude.length > 0) return null;
  // One matcher for the process: it depends on the built-in list only, and a function that lives
  // across plans keeps its compiled code (a plan's own closures are compiled again each plan).
  if (builtIn === undefined) builtIn = makeBuiltInMatcher();
  return builtIn;
}

let builtIn: ((path: RelPath) => boolean) | null | undefined;

function makeBuiltInMatcher(): ((path: RelPath) => boolean) | null {
  if (!BUILT_IN_IGNORES.every((p) => /^[^/\\[\]!?]+$/.test(p) && !p.includes('**'))) return null;
  // Each built-in is a base-name glob with at most one '*' and ASCII literals: a segment matches
  // it exactly when it starts with the part before the '*' and ends with the part after it (or,
  // with no '*', equals it), ASCII case ignored, as the 'i' flag of a non-unicode regular
  // expression compares ASCII (ADR 0011, fifth round: no regular expression per path).
  if (!BUILT_IN_IGNORES.every((p) => p.split('*').length <= 2 && /^[\x20-\x7e]*$/.test(p))) return null;
  segmentGlobs = BUILT_IN_IGNORES.map((p) => {
    const star = p.indexOf('*');
    const lower = p.toLowerCase();
    return star < 0 ? { pre: lower, suf: '', star: false } : { pre: lower.slice(0, star), suf: lower.slice(star + 1), star: true };
  });
  return ignoredByBuiltIn;
}

interface SegmentGlob {
  /** Lowercase ASCII literal before the '*' (the whole glob when there is none). */
  readonly pre: string;
  /** Lowercase ASCII literal after the '*'. */
  readonly suf: string;
  readonly star: boolean;
}

let segmentGlobs: readonly SegmentGlob[] = [];

/** Whether some segment of `path` matches a built-in ignore (see {@link makeBuiltInMatcher}). */
function ignoredByBuiltIn(path: RelPath): boolean {
  const n = path.length;
  let start = 0;
  for (;;) {
    let end = path.indexOf('/', start);
    if (end < 0) end = n;
    for (const g of segmentGlobs) if (segmentMatches(path, start, end, g)) return true;
    if (end === n) return false;
    start = end + 1;
  }
}

/** Whether `path[start, end)` matches the glob `g`. */
function segmentMatches(path: string, start: number, end: number, g: SegmentGlob): boolean {
  const pre = g.pre;
  const suf = g.suf;
  const len = end - start;
  if (g.star ? len < pre.length + suf.length : len !== pre.length) return false;
  return sameAsciiIgnoringCase(path, start, pre) && sameAsciiIgnoringCase(path, end - suf.length, suf);
}

/** Whether `path` holds `lower` (lowercase ASCII) at `at`, ASCII letters compared without case. */
function sameAsciiIgnoringCase(path: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const want = lower.charCodeAt(i);
    const ch = path.charCodeAt(at + i);
    // For a lowercase letter, `| 0x20` maps only its uppercase form onto it.
    if (ch !== want && !(want >= 97 && want <= 122 && (ch | 0x20) === want)) return false;
  }
  return true;
}

/**
 * An empty array for references (objects, strings) that is already of the kind V8 gives such an
 * array after its first element (PACKED_ELEMENTS). A literal `[]` starts as an array of small
 * integers and changes kind on its first push, so code compiled in one plan, where its arrays had
 * changed kind long ago, met each new plan's fresh arrays as a "wrong map" and was thrown away
 * (ADR 0011, fifth round). Same contents and behaviour as `[]`.
 */
function referenceList<T extends object | string>(): T[] {
  const list: (T | string)[] = [''];
  list.pop();
  return list as T[];
}

/** Windows' MAX_PATH, applied to the full local path when `pathLimit` is `windows` (ADR 0010). */
export const WINDOWS_PATH_LIMIT = 260;

type Content = 'gone' | 'same' | 'changed';

/** The three entries at one path. */
interface Entries {
  readonly l: LocalMeta | undefined;
  readonly c: CloudMeta | undefined;
  readonly s: SyncedEntry | undefined;
}

/** What the candidates' filter needs (the task's filters, resolved once a plan). */
interface IgnoreRules {
  readonly maxSize: number | null;
  readonly builtIn: ((path: RelPath) => boolean) | null;
  readonly filter: { ignores(path: RelPath, kind: EntryKind, size: number): boolean } | null;
}

function ignoresPath(rules: IgnoreRules, p: RelPath, kind: EntryKind): boolean {
  return rules.filter !== null ? rules.filter.ignores(p, kind, 0) : rules.builtIn !== null && rules.builtIn(p);
}

/** Whether the filters ignore `p` on any side, given its entries `e`. */
function ignoredEntries(rules: IgnoreRules, p: RelPath, e: Entries): boolean {
  const { l, c, s } = e;
  const maxSize = rules.maxSize;
  // Unrolled over the three entries (no array per path).
  if (maxSize !== null && ((l !== undefined && l.kind === 'file' && l.size > maxSize) || (c !== undefined && c.kind === 'file' && c.size > maxSize) || (s !== undefined && s.kind === 'file' && s.size > maxSize))) return true;
  const file = l?.kind === 'file' || c?.kind === 'file' || s?.kind === 'file';
  const dir = l?.kind === 'dir' || c?.kind === 'dir' || s?.kind === 'dir';
  return (file && ignoresPath(rules, p, 'file')) || (dir && ignoresPath(rules, p, 'dir'));
}

interface Picked {
  readonly p: RelPath;
  readonly e: Entries;
}
const pickedPath = (x: Picked): RelPath => x.p;

// What the candidates hold, gathered while they are read (`summarize`, one bit each): a plan skips
// the passes over every candidate that could only find something when a bit is set (ADR 0011).
/** Some candidate is a folder on some tree (`anyDir`). */
const HAS_DIR = 1;
/** Some candidate's synced identity is not where it was on a side: `detectMoves` has something to look for. */
const HAS_GONE = 2;
/** Some candidate holds an entry that does not continue its synced entry on a side (a fresh entry, with no move). */
const HAS_FRESH = 4;

/** The summary bits of one candidate's entries. */
function summarize(e: Entries): number {
  const { l, c, s } = e;
  let bits = 0;
  if (l?.kind === 'dir' || c?.kind === 'dir' || s?.kind === 'dir') bits |= HAS_DIR;
  if (s === undefined) {
    if (l !== undefined || c !== undefined) bits |= HAS_FRESH;
    return bits;
  }
  // The conditions of detectMoves' first loop, and of the fresh entries' loop without moves.
  if (s.fileId !== undefined && (l === undefined || l.kind !== s.kind || l.fileId !== s.fileId)) bits |= HAS_GONE;
  if (s.cloudId !== undefined && (c === undefined || c.kind !== s.kind || c.id !== s.cloudId)) bits |= HAS_GONE;
  if ((l !== undefined && l.kind !== s.kind) || (c !== undefined && c.kind !== s.kind)) bits |= HAS_FRESH;
  return bits;
}

/**
 * The candidates of a plan: the dirty paths not in sync and not ignored, each read once (a
 * repeated one again: the same result), in canonical order, repeats dropped as neighbours; no set
 * and no map keyed by path. The per-path loops of a plan live in functions of this module, not in
 * closures made by each plan: their compiled code then serves every plan (a plan's closures are
 * compiled again each plan, while the first thousands of paths run unoptimized) (ADR 0011).
 */
function pickCandidates(trees: TreeView, dirty: Iterable<RelPath>, rules: IgnoreRules): { cands: RelPath[]; candEntries: Entries[]; summary: number } {
  const picked = referenceList<Picked>();
  const summary = readCandidates(trees, dirty, rules, picked);
  sortByRelPath(picked, pickedPath);
  const cands = referenceList<RelPath>();
  const candEntries = referenceList<Entries>();
  dropRepeats(picked, cands, candEntries);
  return { cands, candEntries, summary };
}

/**
 * Reads each dirty path not in sync and not ignored into `picked`; returns the summary bits of
 * what they hold. The loop alone (the sort is the caller's): the code compiled for it serves
 * every plan instead of being thrown away when a later step meets something new (ADR 0011).
 */
function readCandidates(trees: TreeView, dirty: Iterable<RelPath>, rules: IgnoreRules, picked: Picked[]): number {
  let summary = 0;
  for (const p of dirty) {
    if (p === '' || trees.inSync(p)) continue;
    const e = trees.entries === undefined ? { l: trees.local(p), c: trees.cloud(p), s: trees.synced(p) } : trees.entries(p);
    if (ignoredEntries(rules, p, e)) continue;
    summary |= summarize(e);
    picked.push({ p, e });
  }
  return summary;
}

/** Appends the sorted `picked` to `cands` and `candEntries`, a path read twice once. */
function dropRepeats(picked: readonly Picked[], cands: RelPath[], candEntries: Entries[]): void {
  let last: RelPath | null = null;
  for (const x of picked) {
    if (x.p === last) continue;
    last = x.p;
    cands.push(x.p);
    candEntries.push(x.e);
  }
}

interface Item {
  readonly a: RelPath;
  readonly s: SyncedEntry;
  readonly lp: RelPath | null;
  readonly l: LocalMeta | null;
  readonly cp: RelPath | null;
  readonly c: CloudMeta | null;
  readonly lMoved: boolean;
  readonly cMoved: boolean;
  readonly ls: Content;
  readonly cs: Content;
  /** Whether the local copy keeps its place in the end (not deleted, not renamed aside). */
  keepLocal: boolean;
  keepCloud: boolean;
  state: 'new' | 'busy' | 'done';
  t: RelPath;
}

/** Phase-2 step whose path is resolved when it is emitted. */
type Structural =
  | { readonly kind: 'move'; readonly side: Side; readonly pre: RelPath; readonly to: RelPath; readonly ident: string; readonly rule: string }
  | { readonly kind: 'mkdir'; readonly side: Side; readonly path: RelPath; readonly rule: string }
  | { readonly kind: 'rmdir'; readonly side: Side; readonly pre: RelPath; readonly local: LocalMeta | null; readonly cloud: CloudMeta | null; readonly rule: string };

const RANK: Record<Action['op'], number> = {
  forget: 0,
  // File deletes name pre-plan paths: they run before a conflict rename can move their folder.
  'cloud-delete': 1,
  'local-delete': 1,
  'conflict-rename': 2,
  'cloud-move': 3,
  'local-move': 3,
  'cloud-mkdir': 3,
  'local-mkdir': 3,
  upload: 4,
  download: 4,
  link: 5,
  reject: 6,
};

function sameLocalContent(l: LocalMeta, s: SyncedEntry): boolean {
  if (l.kind !== s.kind) return false;
  if (l.kind === 'dir') return true;
  if (l.hash !== undefined && s.hash !== undefined) return l.hash === s.hash && l.size === s.size;
  return l.size === s.size && l.mtimeNs === s.mtimeNs;
}

function sameCloudContent(c: CloudMeta, s: SyncedEntry): boolean {
  if (c.kind !== s.kind) return false;
  if (c.kind === 'dir') return true;
  if (c.hash !== undefined && s.hash !== undefined) return c.hash === s.hash && c.size === s.size;
  return c.id === s.cloudId && c.version === s.cloudVersion;
}

function sameContent(l: LocalMeta, c: CloudMeta): boolean {
  if (l.kind !== c.kind) return false;
  if (l.kind === 'dir') return true;
  return l.hash !== undefined && l.hash === c.hash && l.size === c.size;
}

/** Strict ancestors of a path, deepest first, root excluded. */
function ancestors(path: RelPath): RelPath[] {
  const out: RelPath[] = [];
  for (let p = parentOf(path); p !== ''; p = parentOf(p)) out.push(p);
  return out;
}

/** The path `path` ends at once the subtree moves in `moves` (keyed by source) are applied. */
function rewrite(moves: ReadonlyMap<RelPath, RelPath>, path: RelPath): RelPath {
  if (moves.size === 0) return path;
  for (let q = path; ; q = parentOf(q)) {
    const to = moves.get(q);
    if (to !== undefined) return to + path.slice(q.length);
    if (q === '') return path;
  }
}

/**
 * A set of paths for a plan's created and final paths. Most of its additions come in ascending
 * order (every item decided in place adds its own path, items in canonical order): those are kept
 * in a sorted array, answered by binary search; any other addition goes to a `Set`. A 10,000-path
 * plan then makes no 20,000 set insertions (about 5 ms), and asking stays cheap (ADR 0011).
 * Answers like a `Set`; iterates over each path once, in no particular order.
 */
export class PathSet {
  // One instance that lives as long as the module: a class instance's hidden class is reachable
  // only through its instances and a weak transition, so when a plan's sets die the next plan's
  // get a new one, and the compiled code of `add` and `has` (and of their callers) is thrown away
  // ("weak objects", then "wrong map") at the start of every plan (ADR 0011, fifth round).
  private static readonly keepShape = new PathSet();

  // Ascending in code-unit order, no repeats; no path is in both `run` and `rest`.
  private readonly run: RelPath[] = referenceList<RelPath>();
  private readonly rest = new Set<RelPath>();

  add(p: RelPath): void {
    const run = this.run;
    const n = run.length;
    // A path after the run's last is in neither part: every path in `rest` sorts before it.
    if (n === 0 || (run[n - 1] as RelPath) < p) run.push(p);
    else if (!this.inRun(p)) this.rest.add(p);
  }

  has(p: RelPath): boolean {
    return this.inRun(p) || (this.rest.size !== 0 && this.rest.has(p));
  }

  private inRun(p: RelPath): boolean {
    const run = this.run;
    let lo = 0;
    let hi = run.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = run[mid] as RelPath;
      if (x === p) return true;
      if (x < p) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  *[Symbol.iterator](): IterableIterator<RelPath> {
    yield* this.run;
    yield* this.rest;
  }
}

/** The moves found among the candidates: local and cloud, each keyed by source and by destination. */
interface Moves {
  readonly lm: Map<RelPath, RelPath>;
  readonly lmInv: Map<RelPath, RelPath>;
  readonly cm: Map<RelPath, RelPath>;
  readonly cmInv: Map<RelPath, RelPath>;
}

/** Move detection by identity among the candidates (both ends of a move are dirty). */
function detectMoves(cands: readonly RelPath[], candEntries: readonly Entries[], upload: boolean, getS: (p: RelPath) => SyncedEntry | undefined, summary: number): Moves {
  // No synced identity gone from where it was: the first loop would find no end to match.
  if ((summary & HAS_GONE) === 0) return { lm: new Map(), lmInv: new Map(), cm: new Map(), cmInv: new Map() };
  const goneLocal = new Map<string, RelPath>();
  const goneCloud = new Map<string, RelPath>();
  for (let i = 0; i < cands.length; i++) {
    const a = cands[i] as RelPath;
    const { l, c, s } = candEntries[i] as Entries;
    if (s === undefined) continue;
    if (s.fileId !== undefined && (l === undefined || l.kind !== s.kind || l.fileId !== s.fileId) && !goneLocal.has(s.fileId)) goneLocal.set(s.fileId, a);
    if (s.cloudId !== undefined && (c === undefined || c.kind !== s.kind || c.id !== s.cloudId) && !goneCloud.has(s.cloudId)) goneCloud.set(s.cloudId, a);
  }
  const lm = new Map<RelPath, RelPath>();
  const lmInv = new Map<RelPath, RelPath>();
  const cm = new Map<RelPath, RelPath>();
  const cmInv = new Map<RelPath, RelPath>();
  for (let i = 0; i < cands.length; i++) {
    const b = cands[i] as RelPath;
    const { l, c, s: sb } = candEntries[i] as Entries;
    if (l !== undefined && (sb === undefined || sb.fileId !== l.fileId)) {
      const a = goneLocal.get(l.fileId);
      const s = a === undefined ? undefined : getS(a);
      // A reused inode is not a move: confirm by kind, and for files by size and mtime (or hash).
      const confirmed =
        s !== undefined && s.kind === l.kind && (l.kind === 'dir' || (l.size === s.size && (l.mtimeNs === s.mtimeNs || (l.hash !== undefined && l.hash === s.hash))));
      if (a !== undefined && confirmed && !lm.has(a)) {
        lm.set(a, b);
        lmInv.set(b, a);
      }
    }
    if (!upload && c !== undefined && (sb === undefined || sb.cloudId !== c.id)) {
      const a = goneCloud.get(c.id);
      const s = a === undefined ? undefined : getS(a);
      if (a !== undefined && s !== undefined && s.kind === c.kind && !cm.has(a)) {
        cm.set(a, b);
        cmInv.set(b, a);
      }
    }
  }
  return { lm, lmInv, cm, cmInv };
}

/** Appends to `items` the synced entry of each candidate, followed to where each side has it now. */
function buildItems(
  items: Item[],
  cands: readonly RelPath[],
  candEntries: readonly Entries[],
  moves: Moves,
  upload: boolean,
  trees: TreeView,
  getL: (p: RelPath) => LocalMeta | undefined,
  getC: (p: RelPath) => CloudMeta | undefined,
): void {
  for (let i = 0; i < cands.length; i++) {
    const e = candEntries[i] as Entries;
    if (e.s !== undefined) items.push(buildItem(cands[i] as RelPath, e, e.s, moves, upload, trees, getL, getC));
  }
}

/**
 * The item of the synced entry `s` of candidate `a` (entries `e`). A function per item, called
 * for every item of every plan (a full plan's too): its compiled code then serves the next plan
 * from its first item, where a loop's own code is compiled again each plan (ADR 0011, fifth round).
 */
function buildItem(
  a: RelPath,
  e: Entries,
  s: SyncedEntry,
  { lm, lmInv, cm, cmInv }: Moves,
  upload: boolean,
  trees: TreeView,
  getL: (p: RelPath) => LocalMeta | undefined,
  getC: (p: RelPath) => CloudMeta | undefined,
): Item {
  let lp: RelPath | null = lm.size === 0 ? null : (lm.get(a) ?? null);
  let l: LocalMeta | null = lp === null ? null : (getL(lp) ?? null);
  if (lp === null) {
    const here = e.l;
    if (here !== undefined && here.kind === s.kind && (lmInv.size === 0 || !lmInv.has(a))) {
      lp = a;
      l = here;
    }
  }
  let cp: RelPath | null = cm.size === 0 ? null : (cm.get(a) ?? null);
  let c: CloudMeta | null = cp === null ? null : (getC(cp) ?? null);
  if (cp === null) {
    if (upload) {
      // Upload mode follows the item this task uploaded, wherever the cloud moved it.
      const here = e.c;
      const where = here !== undefined && here.id === s.cloudId ? a : s.cloudId === undefined ? undefined : trees.cloudPathOfId(s.cloudId);
      const there = where === undefined ? undefined : getC(where);
      if (where !== undefined && there !== undefined && there.kind === s.kind) {
        cp = where;
        c = there;
      }
    } else {
      const here = e.c;
      if (here !== undefined && here.kind === s.kind && (cmInv.size === 0 || !cmInv.has(a))) {
        cp = a;
        c = here;
      }
    }
  }
  const ls: Content = l === null ? 'gone' : sameLocalContent(l, s) ? 'same' : 'changed';
  const cs: Content = c === null ? 'gone' : sameCloudContent(c, s) ? 'same' : 'changed';
  return { a, s, lp, l, cp, c, lMoved: lp !== null && lp !== a, cMoved: !upload && cp !== null && cp !== a, ls, cs, keepLocal: l !== null, keepCloud: c !== null, state: 'new', t: a };
}

/**
 * Decides a two-way item the common way, without the plan's closures, when it is a file held on
 * both sides at its synced path, changed on at most one side, at a plain path (valid as it is):
 * the caller has checked that nothing can move it (no candidate folder, no move planned, no name
 * limits but Linux's). Plans exactly what `decideTwoWay` plans for such an item (ADR 0011): its
 * final path is its path; an upload or a download of the changed side, or nothing. Returns false,
 * having done nothing, for any other item.
 */
function decideInPlace(it: Item, ends: PathSet, creates: Record<Side, PathSet>, late: Action[]): boolean {
  const { a, s, l, c, ls, cs } = it;
  if (it.state !== 'new' || s.kind !== 'file' || l === null || c === null || it.lp !== a || it.cp !== a) return false;
  if (ls === 'changed' && cs === 'changed') return false;
  const changed = ls === 'changed' || cs === 'changed';
  if (changed && !isPlainPath(a)) return false;
  ends.add(a);
  it.t = a;
  if (ls === 'changed') {
    creates.cloud.add(a);
    late.push({ op: 'upload', path: a, local: l, cloudId: c.id, baseVersion: c.version, rule: 'two-way/modify/local' });
  } else if (cs === 'changed') {
    creates.local.add(a);
    late.push({ op: 'download', path: a, cloud: c, expectLocal: l, rule: 'two-way/modify/cloud' });
  }
  it.state = 'done';
  return true;
}

/**
 * Decides `items` from `from` on with {@link decideInPlace} while no move is planned; returns the
 * index of the first item it leaves to the rules (`items.length` when none).
 */
function decideInPlaceRun(
  items: readonly Item[],
  from: number,
  plannedMoves: Record<Side, ReadonlyMap<RelPath, RelPath>>,
  ends: PathSet,
  creates: Record<Side, PathSet>,
  late: Action[],
): number {
  for (let i = from; i < items.length; i++) {
    if (plannedMoves.local.size !== 0 || plannedMoves.cloud.size !== 0 || !decideInPlace(items[i] as Item, ends, creates, late)) return i;
  }
  return items.length;
}

/**
 * Plans the actions that bring the two sides into agreement (two-way) or back the local side up
 * (upload), for the dirty paths only. Same inputs in any order give the same output.
 *
 * @example
 * const plan = planActions({ trees, dirty: trees.takeDirty(), mode: 'two-way', options: DEFAULT_OPTIONS, terminal: 'laptop', now });
 */
export function planActions(input: PlanInput): Plan {
  const { trees, mode, options } = input;
  const firstSync = input.firstSync ?? (trees.syncedFileCount() === 0 && trees.children('synced', '').length === 0);
  const upload = mode === 'upload';

  // Reads are memoized for the plan: each path's three entries are decoded once, with one lookup.
  const read = trees.entries === undefined ? (p: RelPath): Entries => ({ l: trees.local(p), c: trees.cloud(p), s: trees.synced(p) }) : trees.entries.bind(trees);
  // Paths read again after the candidates' loop (parents, conflict names, move ends); the
  // candidates' own entries are indexed in `candEntries`. Not seeded with them: most incremental
  // plans read few other paths, and a map of every candidate path cost each of them a lookup and
  // an insertion (ADR 0011). A candidate read again here is decoded again: the same values.
  const memo = new Map<RelPath, Entries>();
  const at = (p: RelPath): Entries => {
    let e = memo.get(p);
    if (e === undefined) {
      e = read(p);
      memo.set(p, e);
    }
    return e;
  };
  const getL = (p: RelPath): LocalMeta | undefined => at(p).l;
  const getC = (p: RelPath): CloudMeta | undefined => at(p).c;
  const getS = (p: RelPath): SyncedEntry | undefined => at(p).s;

  // ---- candidates: dirty, not in sync already, not ignored on any side (filters apply
  // identically to both sides).
  const builtInOnly = builtInMatcher(options.filters);
  // The gitignore engine is built only when user patterns need it.
  const rules: IgnoreRules = { maxSize: options.filters.maxFileSize, builtIn: builtInOnly, filter: builtInOnly === null ? createPathFilter(options.filters) : null };
  const ignored = (p: RelPath): boolean => ignoredEntries(rules, p, at(p));
  // Each candidate's entries, read once: the loops below index these instead of looking paths up.
  const { cands, candEntries, summary } = pickCandidates(trees, input.dirty, rules);
  // The candidate paths as a set, built on first use (only a new folder's check asks).
  let candSet: Set<RelPath> | null = null;
  const isCandidate = (p: RelPath): boolean => {
    candSet ??= new Set(cands);
    return candSet.has(p);
  };
  // Whether any candidate is a folder on some tree: only then can a candidate be an ancestor of another path.
  const candidateDirs = (summary & HAS_DIR) !== 0;

  // ---- move detection by identity among the dirty paths (both ends of a move are dirty).
  const { lm, lmInv, cm, cmInv } = detectMoves(cands, candEntries, upload, getS, summary);

  // ---- output collections
  const early: Action[] = referenceList<Action>();
  const structural: Structural[] = referenceList<Structural>();
  const late: Action[] = referenceList<Action>();
  const plannedMoves: Record<Side, Map<RelPath, RelPath>> = { local: new Map(), cloud: new Map() };
  const plannedMovesInv: Record<Side, Map<RelPath, RelPath>> = { local: new Map(), cloud: new Map() };
  const creates: Record<Side, PathSet> = { local: new PathSet(), cloud: new PathSet() };
  // The strict ancestors of `creates`, built on first use (only a kept-alive folder check needs
  // them), then kept up to date.
  let createAnc: Record<Side, Set<RelPath>> | null = null;
  const leaving: Record<Side, Set<RelPath>> = { local: new Set(), cloud: new Set() };
  const usedNames = new Set<RelPath>();

  const rootLength = input.rootLength ?? 0;
  const fullLength = (path: RelPath): number => (rootLength > 0 ? rootLength + 1 + path.length : path.length);
  const segmentProblems = new Map<string, ReturnType<typeof nameProblem>>();
  const segmentProblem = (seg: string): ReturnType<typeof nameProblem> => {
    // Plain ASCII names are valid on Linux whatever they hold (but '.', '..' and NUL): skip the full check.
    if (options.pathLimit === 'none' && seg.length > 0 && seg.length <= 255 && seg !== '.' && seg !== '..' && PLAIN_ASCII.test(seg)) return null;
    let p = segmentProblems.get(seg);
    if (p === undefined) {
      p = nameProblem(seg, options.pathLimit);
      segmentProblems.set(seg, p);
    }
    return p;
  };
  const problem = (path: RelPath): { reason: 'bad-name' | 'path-too-long'; message: string } | null => {
    if (options.pathLimit === 'none' && isPlainPath(path)) return null;
    for (const seg of path.split('/')) {
      const p = segmentProblem(seg);
      if (p !== null) return { reason: 'bad-name', message: `The name "${seg}" cannot be held on the other side (${p}); rename it.` };
    }
    if (options.pathLimit === 'windows' && fullLength(path) > WINDOWS_PATH_LIMIT) {
      return { reason: 'path-too-long', message: `The full path is ${fullLength(path)} characters, longer than ${WINDOWS_PATH_LIMIT}; shorten it.` };
    }
    return null;
  };
  /** Records a reject and returns false when `path` cannot be created on the other side of `origin`. */
  const creatable = (path: RelPath, origin: Side): boolean => {
    const p = problem(path);
    if (p === null) return true;
    late.push({ op: 'reject', path, side: origin, reason: p.reason, message: p.message, rule: `limits/${p.reason}` });
    return false;
  };
  const noteCreate = (side: Side, path: RelPath): void => {
    creates[side].add(path);
    if (createAnc !== null) for (const q of ancestors(path)) createAnc[side].add(q);
  };
  const existsFinally = (side: Side, path: RelPath): boolean => {
    if (creates[side].has(path)) return true;
    let pre = path;
    for (let q = path; q !== ''; q = parentOf(q)) {
      const from = plannedMovesInv[side].get(q);
      if (from !== undefined) {
        pre = from + path.slice(q.length);
        break;
      }
    }
    const here = side === 'local' ? getL(pre) : getC(pre);
    return here !== undefined && here.kind === 'dir' && !leaving[side].has(pre);
  };
  /** Plans the folders a create at `path` on `side` needs, top down. */
  const ensureParents = (side: Side, path: RelPath, rule: string): void => {
    const missing: RelPath[] = [];
    for (const q of ancestors(path)) {
      if (existsFinally(side, q)) break;
      missing.push(q);
    }
    // A file (or a stale entry) where a needed folder goes steps aside: both are kept.
    for (const q of missing) {
      const here = side === 'local' ? getL(q) : getC(q);
      if (here === undefined || here.kind === 'dir' || leaving[side].has(q)) continue;
      // A synced item there may be moving away: place it first.
      const holder = itemsAt(side).get(q);
      if (holder !== undefined && holder.state === 'new') decide(holder);
      if (!leaving[side].has(q)) stepAsideSynced(side, q, rule);
    }
    for (const q of missing.reverse()) {
      structural.push({ kind: 'mkdir', side, path: q, rule });
      noteCreate(side, q);
    }
  };
  const taken = (p: RelPath): boolean => usedNames.has(p) || getL(p) !== undefined || getC(p) !== undefined;
  const conflictName = (p: RelPath): RelPath => {
    const name = conflictPath(p, input.terminal, input.now, taken);
    usedNames.add(name);
    return name;
  };

  const pushUpload = (path: RelPath, l: LocalMeta, c: CloudMeta | null, rule: string, source?: RelPath): void => {
    if (!creatable(path, 'local')) return;
    if (l.kind === 'dir') {
      if (c === null) {
        ensureParents('cloud', path, rule);
        structural.push({ kind: 'mkdir', side: 'cloud', path, rule });
        noteCreate('cloud', path);
      }
      return;
    }
    if (c === null) ensureParents('cloud', path, rule);
    noteCreate('cloud', path);
    const base = { op: 'upload' as const, path, local: l, cloudId: c === null ? null : c.id, baseVersion: c === null ? null : c.version, rule };
    late.push(source === undefined || source === path ? base : { ...base, source });
  };
  const pushDownload = (path: RelPath, c: CloudMeta, expectLocal: LocalMeta | null, rule: string): void => {
    if (!creatable(path, 'cloud')) return;
    if (expectLocal === null) ensureParents('local', path, rule);
    noteCreate('local', path);
    if (c.kind === 'dir') {
      structural.push({ kind: 'mkdir', side: 'local', path, rule });
      return;
    }
    late.push({ op: 'download', path, cloud: c, expectLocal, rule });
  };
  const pushDelete = (side: Side, pre: RelPath, l: LocalMeta | null, c: CloudMeta | null, rule: string): void => {
    leaving[side].add(pre);
    const kind = side === 'local' ? l?.kind : c?.kind;
    if (kind === 'dir') {
      structural.push({ kind: 'rmdir', side, pre, local: l, cloud: c, rule });
      return;
    }
    if (side === 'local' && l !== null) early.push({ op: 'local-delete', path: pre, expect: l, how: options.cloudDeletes, rule });
    if (side === 'cloud' && c !== null) early.push({ op: 'cloud-delete', path: pre, id: c.id, version: c.version, rule });
  };
  const pushMove = (side: Side, pre: RelPath, to: RelPath, ident: string, rule: string): boolean => {
    if (!creatable(to, side === 'local' ? 'cloud' : 'local')) return false;
    structural.push({ kind: 'move', side, pre, to, ident, rule });
    plannedMoves[side].set(pre, to);
    plannedMovesInv[side].set(to, pre);
    leaving[side].add(pre);
    noteCreate(side, to);
    return true;
  };

  const stepped = new Map<string, RelPath>();
  const stepAside = (side: Side, from: RelPath, rule: string): RelPath | null => {
    const key = `${side}\u0000${from}`;
    const done = stepped.get(key);
    if (done !== undefined) return done;
    const aside = conflictName(from);
    if (!creatable(aside, side)) return null;
    stepped.set(key, aside);
    early.push({ op: 'conflict-rename', side, from, to: aside, rule });
    leaving[side].add(from);
    // Entries below a folder that stepped aside follow it.
    plannedMoves[side].set(from, aside);
    plannedMovesInv[side].set(aside, from);
    return aside;
  };
  /** Steps an entry aside once and, in two-way mode, syncs it under its new name. */
  const stepAsideSynced = (side: Side, from: RelPath, rule: string): void => {
    if (stepped.has(`${side}\u0000${from}`)) return;
    const aside = stepAside(side, from, rule);
    if (aside === null || upload) return;
    // Synced where the renamed entry ends once its folder's planned moves are done.
    if (side === 'local') {
      const l = getL(from);
      if (l !== undefined) pushUpload(finalPath('local', aside), l, null, rule);
    } else {
      const c = getC(from);
      if (c !== undefined) pushDownload(finalPath('cloud', aside), c, null, rule);
    }
  };
  /** Whether the pre-plan entry at `path` on `side` is neither leaving nor inside something leaving. */
  const stays = (side: Side, path: RelPath): boolean => {
    for (let q = path; q !== ''; q = parentOf(q)) if (leaving[side].has(q)) return false;
    return true;
  };
  /** What `side` holds at final path `t` once the planned moves and removals are done (pre-plan entries only). */
  const occupantAt = (side: Side, t: RelPath): { pre: RelPath; kind: 'file' | 'dir'; id: string } | null => {
    let pre = t;
    let root: RelPath | null = null;
    for (let q = t; q !== ''; q = parentOf(q)) {
      const from = plannedMovesInv[side].get(q);
      if (from !== undefined) {
        pre = from + t.slice(q.length);
        root = from;
        break;
      }
    }
    for (let q = pre; q !== '' && q !== root; q = parentOf(q)) if (leaving[side].has(q)) return null;
    if (root === null && leaving[side].has('')) return null;
    const here = side === 'local' ? getL(pre) : getC(pre);
    if (here === undefined) return null;
    return { pre, kind: here.kind, id: side === 'local' ? (here as LocalMeta).fileId : (here as CloudMeta).id };
  };

  // ---- items: the synced entries of dirty paths, followed to where each side has them now.
  const items: Item[] = referenceList<Item>();
  // Where each item is now on each side. Built on first use, once every item is known (every use
  // comes after the items loop; an item's `lp` and `cp` never change): most incremental plans
  // (files changed in place) never ask, and two maps of every candidate path cost them ~10%.
  let bySide: Record<Side, Map<RelPath, Item>> | null = null;
  const itemsAt = (side: Side): Map<RelPath, Item> => {
    if (bySide === null) {
      bySide = { local: new Map(), cloud: new Map() };
      for (const it of items) {
        if (it.lp !== null) bySide.local.set(it.lp, it);
        if (it.cp !== null) bySide.cloud.set(it.cp, it);
      }
    }
    return bySide[side];
  };
  buildItems(items, cands, candEntries, { lm, lmInv, cm, cmInv }, upload, trees, getL, getC);

  // The final path of an item depends on the moves planned for its ancestors: decide those first.
  // Set when a final path depends on an item still being decided: the two sides moved items into
  // each other (local b into a, cloud a into b), which no single layout satisfies.
  let sawCycle = false;
  // Read through a call: the flag is set inside finalPath, which flow analysis does not follow.
  const cycleSeen = (): boolean => sawCycle;
  const finalPath = (side: Side, path: RelPath): RelPath => {
    // Only a candidate folder can own an ancestor (decide it, or step a new one aside), and only a
    // planned move changes where a path ends: with neither, the path ends where it is.
    if (!candidateDirs && plannedMoves[side].size === 0) return path;
    const parent = parentOf(path);
    const owners = itemsAt(side);
    for (let q = candidateDirs ? parent : ''; q !== ''; q = parentOf(q)) {
      const owner = owners.get(q);
      if (owner !== undefined && owner.state === 'new') decide(owner);
      else if (owner !== undefined && owner.state === 'busy') sawCycle = true;
      else if (owner === undefined && !upload) freshAncestor(side, q);
    }
    return joinRel(rewrite(plannedMoves[side], parent), baseName(path));
  };
  /**
   * A new folder on `side` that a synced item moved on the other side will claim steps aside now,
   * before anything inside it is placed: what it holds goes with it (it would otherwise be placed
   * inside the moved item).
   */
  const freshAncestor = (side: Side, q: RelPath): void => {
    // A new entry is a changed path: anything not dirty is not new.
    if (!isCandidate(q)) return;
    const e = at(q);
    const here = side === 'local' ? e.l : e.c;
    if (here === undefined) return;
    const moves = side === 'local' ? lm : cm;
    const movesInv = side === 'local' ? lmInv : cmInv;
    if (movesInv.has(q) || (e.s !== undefined && e.s.kind === here.kind && !moves.has(q))) return;
    const claimant = itemsAt(side === 'local' ? 'cloud' : 'local').get(q);
    if (claimant === undefined) return;
    if (claimant.state === 'new') decide(claimant);
    if (ends.has(q) && (claimant.keepLocal || claimant.keepCloud) && claimant.t === q) stepAsideSynced(side, q, 'two-way/concurrent/created-vs-moved');
  };

  // Upload-mode new versions whose cloud path is final only after the new entries are handled.
  const afterFresh: (() => void)[] = [];
  const conflictPolicy = options.conflicts;
  const ends = new PathSet();
  const decide = (it: Item): void => {
    if (it.state !== 'new') return;
    it.state = 'busy';
    if (upload) decideUpload(it);
    else decideTwoWay(it);
    it.state = 'done';
  };

  // Upload mode keeps the synced tree keyed by local path and puts new and moved entries at their
  // local path; only an existing item's content follows the cloud item by id (ADR 0010).
  const uploadTarget = (lp: RelPath): RelPath => {
    // Decide the local ancestors first: their cloud moves change what lands on this path.
    for (let q = parentOf(lp); q !== ''; q = parentOf(q)) {
      const owner = itemsAt('local').get(q);
      if (owner !== undefined && owner.state === 'new') decide(owner);
    }
    return lp;
  };
  const decideUpload = (it: Item): void => {
    const { a, lp, l, cp, c } = it;
    if (l === null || lp === null) {
      // SPEC 2.2: a local delete does nothing, unless deleteInCloud.
      if (options.deleteInCloud && c !== null && cp !== null) {
        pushDelete('cloud', cp, null, c, 'upload/delete/delete-in-cloud');
        if (cp !== a) early.push({ op: 'forget', path: a, rule: 'upload/delete/delete-in-cloud' });
      }
      return;
    }
    if (c === null || cp === null) {
      // SPEC 2.2: the cloud deleted an item this task uploaded: upload it again.
      const t = uploadTarget(lp);
      // An item the cloud holds here may be moving away (decided later in canonical order).
      const mover = itemsAt('cloud').get(t);
      if (mover !== undefined && mover.state === 'new') decide(mover);
      const at = occupantAt('cloud', t);
      const live = at === null ? null : (getC(at.pre) ?? null);
      // Something else now holds (or moves to) the path in the cloud: a file in place takes a new
      // version, anything else steps aside.
      const holder = itemsAt('cloud').get(t);
      // Never a new version of an item another local entry is backed up to.
      const inPlace = live !== null && at !== null && at.pre === t && live.kind === l.kind && (holder === undefined || holder === it);
      if (live !== null && at !== null && !inPlace) stepAside('cloud', at.pre, 'upload/cloud-deleted/reupload');
      pushUpload(t, l, inPlace ? live : null, 'upload/cloud-deleted/reupload');
      if (t !== a) early.push({ op: 'forget', path: a, rule: 'upload/cloud-deleted/reupload' });
      it.t = t;
      return;
    }
    // The backup follows the cloud item: a local move moves it, otherwise it stays where the cloud put it.
    let where = cp;
    if (it.lMoved) {
      const to = uploadTarget(lp);
      const moving = occupantAt('cloud', to);
      // An entry the cloud carries here inside a moved folder steps aside too.
      if (moving !== null && moving.pre !== to && moving.id !== c.id) stepAside('cloud', moving.pre, 'upload/move');
      const occupant = getC(to);
      // A cloud entry this task does not follow holds the destination: it steps aside (never the local side).
      // So does a followed item whose local file is gone (its backup stays, under a conflict name).
      const holder = itemsAt('cloud').get(to);
      if (holder !== undefined && holder.state === 'new') decide(holder);
      if (to !== cp && occupant !== undefined && occupant.id !== c.id && stays('cloud', to) && (holder === undefined || holder.l === null)) {
        stepAside('cloud', to, 'upload/move');
      }
      // The local parent may hold nothing in the cloud (its item was moved elsewhere there).
      // The moving item itself is not in the way of those folders (it leaves, parked if need be).
      if (to !== cp && problem(to) === null) {
        leaving.cloud.add(cp);
        ensureParents('cloud', to, 'upload/move');
      }
      if (to !== cp && pushMove('cloud', cp, to, c.id, 'upload/move')) where = to;
    } else {
      where = finalPath('cloud', cp);
      // The cloud moved the item onto a path the local side uses for something else: that path
      // must hold the local entry's backup, so the followed item steps aside (still followed by id).
      let pre = cp;
      if (where !== lp && getL(where) !== undefined) {
        // Renamed where it is now (before the moves of its folders), named by its pre-plan path.
        const aside = stepAside('cloud', cp, 'upload/cloud-moved-onto-local-path');
        if (aside !== null) {
          where = finalPath('cloud', aside);
          pre = aside;
        }
      }
      it.t = where;
      if (it.ls === 'changed') {
        // A new version where the followed item is once every step aside is known: a new local
        // entry handled later may still move one of its cloud folders aside.
        const pinned = pre;
        noteCreate('cloud', where);
        afterFresh.push(() => {
          pushUpload(finalPath('cloud', pinned), l, c, 'upload/modify', lp);
        });
      }
      return;
    }
    it.t = where;
    if (cp === a && where !== cp) {
      // The move re-keys the record at `a` only if it still starts there: a cloud folder above it
      // that steps aside (decided later, for a new local entry) renames the source first.
      const moved = where;
      afterFresh.push(() => {
        let renamed = false;
        for (let q = parentOf(cp); q !== '' && !renamed; q = parentOf(q)) renamed = stepped.has(`cloud\u0000${q}`);
        if (!renamed) return;
        early.push({ op: 'forget', path: a, rule: 'upload/move' });
        if (it.ls !== 'changed') late.push({ op: 'link', path: moved, local: l, cloud: c, rule: 'upload/move' });
      });
    }
    if (it.ls === 'changed') {
      pushUpload(where, l, c, 'upload/modify', lp);
      if (lp !== a && where === lp) return;
    }
    // Keep the synced record keyed by the local path when the move re-keyed it elsewhere.
    if (where !== lp && it.ls !== 'changed') {
      early.push({ op: 'forget', path: a, rule: 'upload/move' });
    }
    if (cp !== a && it.ls !== 'changed') {
      early.push({ op: 'forget', path: a, rule: 'upload/move' });
      late.push({ op: 'link', path: where, local: l, cloud: c, rule: 'upload/move' });
    }
  };

  const decideTwoWay = (it: Item): void => {
    const { a, s, lp, l, cp, c, ls, cs } = it;
    const isDir = s.kind === 'dir';
    if (l === null && c === null) {
      early.push({ op: 'forget', path: a, rule: 'two-way/concurrent/deleted-both' });
      return;
    }
    if (l === null || lp === null) {
      if (c === null || cp === null) return;
      if (cs === 'changed') {
        // SPEC 2.1: deleted vs modified: the modification wins, restored locally.
        let t = finalPath('cloud', cp);
        // An item the local side holds at that path is placed first (it may stay, or move away).
        const occupant = itemsAt('local').get(t);
        if (occupant !== undefined && occupant.state === 'new') decide(occupant);
        // Another item ends here, or a folder stays here locally (SPEC 2.1 file | folder: the file
        // is renamed): this one steps aside in the cloud and is restored under that name.
        const folder = !ends.has(t) && s.kind === 'file' && getL(t)?.kind === 'dir' && stays('local', t);
        const rule = folder ? 'two-way/concurrent/file-vs-folder' : 'two-way/concurrent/deleted-vs-modified';
        if (ends.has(t) || folder) {
          const aside = stepAside('cloud', cp, rule);
          if (aside === null) return;
          t = finalPath('cloud', aside);
        }
        ends.add(t);
        it.t = t;
        pushDownload(t, c, null, rule);
        if (t !== a) early.push({ op: 'forget', path: a, rule });
        return;
      }
      it.keepCloud = false;
      pushDelete('cloud', cp, null, c, isDir ? 'two-way/delete/local-folder' : 'two-way/delete/local');
      if (cp !== a) early.push({ op: 'forget', path: a, rule: 'two-way/delete/local' });
      return;
    }
    if (c === null || cp === null) {
      if (ls === 'changed') {
        // SPEC 2.1: modified vs deleted: the local content is uploaded again.
        let t = finalPath('local', lp);
        const occupant = itemsAt('cloud').get(t);
        if (occupant !== undefined && occupant.state === 'new') decide(occupant);
        // As above: another item ends here, or a folder stays here in the cloud (the file steps aside).
        const folder = !ends.has(t) && s.kind === 'file' && getC(t)?.kind === 'dir' && stays('cloud', t);
        const rule = folder ? 'two-way/concurrent/file-vs-folder' : 'two-way/concurrent/modified-vs-deleted';
        if (ends.has(t) || folder) {
          const aside = stepAside('local', lp, rule);
          if (aside === null) return;
          t = finalPath('local', aside);
        }
        ends.add(t);
        it.t = t;
        pushUpload(t, l, null, rule);
        if (t !== a) early.push({ op: 'forget', path: a, rule });
        return;
      }
      it.keepLocal = false;
      pushDelete('local', lp, l, null, isDir ? 'two-way/delete/cloud-folder' : 'two-way/delete/cloud');
      if (lp !== a) early.push({ op: 'forget', path: a, rule: 'two-way/delete/cloud' });
      return;
    }
    // Both sides still hold the item. Which content wins?
    const bothChanged = ls === 'changed' && cs === 'changed';
    const identical = bothChanged && sameContent(l, c);
    const keepBoth = bothChanged && !identical && conflictPolicy === 'keep-both';
    const cloudWins = bothChanged && !identical && conflictPolicy === 'cloud-wins';
    // Where it ends: the cloud's move wins over the local one (SPEC 2.1 moved to A / moved to B).
    sawCycle = false;
    let t = it.cMoved || !it.lMoved ? finalPath('cloud', cp) : finalPath('local', lp);
    // In a cycle the cloud's layout wins, as for two moves of one item (SPEC 2.1).
    if (cycleSeen() && !it.cMoved) t = finalPath('cloud', cp);
    // Two items moved onto one path from different sides: the later (canonical order) takes a conflict name.
    if ((it.lMoved || it.cMoved) && ends.has(t)) t = conflictName(t);
    ends.add(t);
    it.t = t;
    const moveRule = it.cMoved && it.lMoved ? 'two-way/concurrent/moved-vs-moved' : 'two-way/move';
    let syncedAt: RelPath | null = a;
    if (keepBoth || cloudWins) {
      // The local copy steps aside (renamed, or trashed): it does not move.
      if (keepBoth) {
        const aside = conflictName(lp);
        if (creatable(aside, 'local')) {
          early.push({ op: 'conflict-rename', side: 'local', from: lp, to: aside, rule: 'two-way/concurrent/modified-differently/keep-both' });
          pushUpload(finalPath('local', aside), l, null, 'two-way/concurrent/modified-differently/keep-both');
        }
      } else {
        early.push({ op: 'local-delete', path: lp, expect: l, how: 'trash', rule: 'two-way/concurrent/modified-differently/cloud-wins' });
      }
      leaving.local.add(lp);
      it.keepLocal = false;
      const rule = keepBoth ? 'two-way/concurrent/modified-differently/keep-both' : 'two-way/concurrent/modified-differently/cloud-wins';
      if (finalPath('cloud', cp) !== t && pushMove('cloud', cp, t, c.id, moveRule) && cp === a) syncedAt = t;
      pushDownload(t, c, null, rule);
      if (t !== a && syncedAt !== t) early.push({ op: 'forget', path: a, rule });
      return;
    }
    if (finalPath('local', lp) !== t && pushMove('local', lp, t, l.fileId, moveRule) && lp === a) syncedAt = t;
    if (finalPath('cloud', cp) !== t && pushMove('cloud', cp, t, c.id, moveRule) && cp === a) syncedAt = t;
    if (t !== a && syncedAt === a && ancestorRekeys(a, t)) syncedAt = t;
    const moved = it.lMoved || it.cMoved;
    const contentRule = moved ? 'two-way/concurrent/moved-vs-modified' : null;
    if (identical) {
      late.push({ op: 'link', path: t, local: l, cloud: c, rule: 'two-way/concurrent/modified-identically' });
    } else if (bothChanged) {
      // local-wins: the cloud's content stays in its version history.
      pushUpload(t, l, c, 'two-way/concurrent/modified-differently/local-wins');
    } else if (ls === 'changed') {
      pushUpload(t, l, c, contentRule ?? 'two-way/modify/local');
    } else if (cs === 'changed') {
      pushDownload(t, c, l, contentRule ?? 'two-way/modify/cloud');
    } else if (t !== a && syncedAt !== t) {
      // Both sides already agree on the new place: record it there.
      late.push({ op: 'link', path: t, local: l, cloud: c, rule: moveRule });
    }
    if (t !== a && syncedAt !== t) early.push({ op: 'forget', path: a, rule: moveRule });
  };

  /** True when a planned move of an ancestor re-keys the synced entry at `a` to `t`. */
  const ancestorRekeys = (a: RelPath, t: RelPath): boolean => {
    for (const q of ancestors(a)) {
      for (const side of ['local', 'cloud'] as const) {
        const to = plannedMoves[side].get(q);
        if (to !== undefined && getS(q) !== undefined && to + a.slice(q.length) === t) return true;
      }
    }
    return false;
  };

  // Most items of an incremental plan are files changed on one side, in place, with nothing moved
  // around them: decided by a function of this module (its compiled code serves every plan), the
  // rest by the rules below.
  // (`createAnc` is still unbuilt here: only the kept-alive folder check below builds it.) The run
  // of items decided in place loops in that function too, not here: this loop turns only once per
  // item left to the rules, and no per-path loop of the plan's own code has to be compiled (ADR 0011).
  const inPlace = !upload && options.pathLimit === 'none' && !candidateDirs;
  for (let i = 0; i < items.length; i++) {
    if (inPlace) i = decideInPlaceRun(items, i, plannedMoves, ends, creates, late);
    if (i < items.length) decide(items[i] as Item);
  }
  // Where synced items end: a fresh entry landing on one of these paths must step aside.
  // Built on first use (only a fresh entry asks), from the items as decided above (every item is
  // decided by now, and only deciding changes `t`, `keepLocal` and `keepCloud`) and `keptFolders`.
  let claims: Set<RelPath> | null = null;
  const keptFolders: RelPath[] = [];
  const claimed = (t: RelPath): boolean => {
    if (claims === null) {
      claims = new Set();
      for (const it of items) if (!upload && (it.keepLocal || it.keepCloud)) claims.add(it.t);
      for (const p of keptFolders) claims.add(p);
    }
    return claims.has(t);
  };

  // ---- a deleted folder survives where the other side still keeps something in it (SPEC 2.1).
  const rmdirs = structural.filter((x): x is Extract<Structural, { kind: 'rmdir' }> => x.kind === 'rmdir');
  rmdirs.sort((x, y) => compareRelPaths(y.pre, x.pre));
  const cancelled = new Set<Structural>();
  const keepsSomething = (side: Side, dir: RelPath): boolean => {
    if (createAnc === null) {
      createAnc = { local: new Set(), cloud: new Set() };
      for (const sd of ['local', 'cloud'] as const) for (const path of creates[sd]) for (const q of ancestors(path)) createAnc[sd].add(q);
    }
    if (createAnc[side].has(dir)) return true;
    for (const child of trees.children(side, dir)) {
      if (!leaving[side].has(child) && !ignored(child)) return true;
    }
    return false;
  };
  for (const r of rmdirs) {
    if (keepsSomething(r.side, r.pre)) {
      cancelled.add(r);
      leaving[r.side].delete(r.pre);
      const other: Side = r.side === 'local' ? 'cloud' : 'local';
      const rule = 'two-way/concurrent/deleted-folder-vs-added-inside';
      if (upload) {
        // Upload mode never creates anything locally: the cloud folder stays, no longer a backup.
        if (getS(r.pre) !== undefined) early.push({ op: 'forget', path: r.pre, rule: 'upload/delete/delete-in-cloud' });
        // A local entry moved onto its path is backed up there: the kept cloud folder steps aside.
        if (plannedMovesInv.cloud.has(r.pre) || creates.cloud.has(r.pre)) stepAside('cloud', r.pre, 'upload/delete/delete-in-cloud');
      } else if (ends.has(r.pre)) {
        // Another item now ends at this path on the other side: the surviving folder steps aside.
        stepAsideSynced(r.side, r.pre, rule);
      } else if (!existsFinally(other, r.pre)) {
        ensureParents(other, r.pre, rule);
        structural.push({ kind: 'mkdir', side: other, path: r.pre, rule });
        noteCreate(other, r.pre);
      }
      keptFolders.push(r.pre);
    }
  }


  // ---- new entries: present on a side, not the continuation of a synced entry.
  interface Fresh {
    l: LocalMeta | null;
    lp: RelPath | null;
    c: CloudMeta | null;
    cp: RelPath | null;
  }
  const fresh = new Map<RelPath, Fresh>();
  const freshAt = (t: RelPath): Fresh => {
    let f = fresh.get(t);
    if (f === undefined) {
      f = { l: null, lp: null, c: null, cp: null };
      fresh.set(t, f);
    }
    return f;
  };
  // Without moves, a fresh entry is one the summary saw: with none, this loop would find nothing.
  const mayBeFresh = (summary & HAS_FRESH) !== 0 || lm.size !== 0 || cm.size !== 0;
  for (let i = 0; mayBeFresh && i < cands.length; i++) {
    const p = cands[i] as RelPath;
    const { l, c, s } = candEntries[i] as Entries;
    if (l !== undefined && (lmInv.size === 0 || !lmInv.has(p)) && (s === undefined || s.kind !== l.kind || (lm.size !== 0 && lm.has(p)))) {
      const f = freshAt(upload ? uploadTarget(p) : finalPath('local', p));
      f.l = l;
      f.lp = p;
    }
    if (!upload && c !== undefined && (cmInv.size === 0 || !cmInv.has(p)) && (s === undefined || s.kind !== c.kind || (cm.size !== 0 && cm.has(p)))) {
      const f = freshAt(finalPath('cloud', p));
      f.c = c;
      f.cp = p;
    }
  }
  const handleFresh = (t: RelPath, l: LocalMeta | null, lp: RelPath | null, c: CloudMeta | null, cp: RelPath | null): void => {
    if (!upload && claimed(t)) {
      // A synced item ends here (e.g. moved here on the other side): the fresh entry steps aside.
      if (l !== null && lp !== null) stepAsideSynced('local', lp, 'two-way/concurrent/created-vs-moved');
      if (c !== null && cp !== null) stepAsideSynced('cloud', cp, 'two-way/concurrent/created-vs-moved');
      return;
    }
    if (upload) {
      if (l === null || lp === null) return;
      const at = occupantAt('cloud', t);
      const occupant = at === null ? undefined : getC(at.pre);
      if (at === null || occupant === undefined) {
        pushUpload(t, l, null, 'upload/create', lp);
      } else if (at.pre !== t) {
        // Something moves in where this entry goes: it steps aside first.
        stepAside('cloud', at.pre, 'upload/create');
        pushUpload(t, l, null, 'upload/create', lp);
      } else if (occupant.kind === l.kind) {
        if (sameContent(l, occupant)) late.push({ op: 'link', path: t, local: l, cloud: occupant, rule: 'first-sync/same-content' });
        else if (l.kind === 'file') pushUpload(t, l, occupant, 'first-sync/different-content');
        else late.push({ op: 'link', path: t, local: l, cloud: occupant, rule: 'first-sync/folder-folder' });
      } else {
        // Upload mode never touches the local side: the cloud entry steps aside (with what is in it).
        if (stepAside('cloud', t, 'first-sync/file-vs-folder') !== null) pushUpload(t, l, null, 'first-sync/file-vs-folder');
      }
      return;
    }
    // A fresh entry may land where a synced item now ends (e.g. it was deleted there on this side).
    if (l !== null && lp !== null && c !== null && cp !== null) {
      if (l.kind === 'dir' && c.kind === 'dir') {
        late.push({ op: 'link', path: t, local: l, cloud: c, rule: firstSync ? 'first-sync/folder-folder' : 'two-way/concurrent/created-both' });
      } else if (l.kind === 'file' && c.kind === 'file') {
        if (sameContent(l, c)) {
          late.push({ op: 'link', path: t, local: l, cloud: c, rule: firstSync ? 'first-sync/same-content' : 'two-way/concurrent/modified-identically' });
        } else if (firstSync || conflictPolicy === 'local-wins') {
          pushUpload(t, l, c, firstSync ? 'first-sync/different-content' : 'two-way/concurrent/modified-differently/local-wins');
        } else if (conflictPolicy === 'cloud-wins') {
          early.push({ op: 'local-delete', path: lp, expect: l, how: 'trash', rule: 'two-way/concurrent/modified-differently/cloud-wins' });
          leaving.local.add(lp);
          pushDownload(t, c, null, 'two-way/concurrent/modified-differently/cloud-wins');
        } else {
          const aside = conflictName(lp);
          if (creatable(aside, 'local')) {
            early.push({ op: 'conflict-rename', side: 'local', from: lp, to: aside, rule: 'two-way/concurrent/modified-differently/keep-both' });
            leaving.local.add(lp);
            pushUpload(finalPath('local', aside), l, null, 'two-way/concurrent/modified-differently/keep-both');
            pushDownload(t, c, null, 'two-way/concurrent/modified-differently/keep-both');
          }
        }
      } else {
        // SPEC 2.1 / 3: file vs folder: the file is renamed with a conflict suffix, both kept on both sides.
        const rule = firstSync ? 'first-sync/file-vs-folder' : 'two-way/concurrent/file-vs-folder';
        if (l.kind === 'file') {
          const aside = conflictName(lp);
          if (creatable(aside, 'local')) {
            early.push({ op: 'conflict-rename', side: 'local', from: lp, to: aside, rule });
            leaving.local.add(lp);
            pushUpload(finalPath('local', aside), l, null, rule);
            pushDownload(t, c, null, rule);
          }
        } else {
          const aside = conflictName(cp);
          if (creatable(aside, 'cloud')) {
            early.push({ op: 'conflict-rename', side: 'cloud', from: cp, to: aside, rule });
            leaving.cloud.add(cp);
            pushDownload(finalPath('cloud', aside), c, null, rule);
            pushUpload(t, l, null, rule);
          }
        }
      }
      return;
    }
    if (l !== null && lp !== null) {
      const occupant = getC(t);
      if (occupant !== undefined && stays('cloud', t) && occupant.kind !== l.kind && occupant.kind === 'file' && l.kind === 'dir') {
        // A synced cloud file the other side kept (e.g. modified) where a local folder now is.
        const aside = conflictName(t);
        early.push({ op: 'conflict-rename', side: 'cloud', from: t, to: aside, rule: 'two-way/concurrent/file-vs-folder' });
        leaving.cloud.add(t);
        pushDownload(aside, occupant, null, 'two-way/concurrent/file-vs-folder');
      }
      pushUpload(t, l, null, l.kind === 'dir' ? 'two-way/create/local-folder' : 'two-way/create/local');
      return;
    }
    if (c !== null && cp !== null) {
      const occupant = getL(t);
      if (occupant !== undefined && stays('local', t) && occupant.kind !== c.kind && occupant.kind === 'file' && c.kind === 'dir') {
        const aside = conflictName(t);
        early.push({ op: 'conflict-rename', side: 'local', from: t, to: aside, rule: 'two-way/concurrent/file-vs-folder' });
        leaving.local.add(t);
        pushUpload(aside, occupant, null, 'two-way/concurrent/file-vs-folder');
      }
      pushDownload(t, c, null, c.kind === 'dir' ? 'two-way/create/cloud-folder' : 'two-way/create/cloud');
    }
  };
  for (const key of [...fresh.keys()].sort(compareRelPaths)) {
    const f = fresh.get(key) as Fresh;
    // Recomputed: a parent may have stepped aside since the grouping.
    const tl = f.lp === null ? null : upload ? uploadTarget(f.lp) : finalPath('local', f.lp);
    const tc = f.cp === null ? null : finalPath('cloud', f.cp);
    if (tl !== null && tc !== null && tl !== tc) {
      handleFresh(tl, f.l, f.lp, null, null);
      handleFresh(tc, null, null, f.c, f.cp);
    } else {
      handleFresh(tl ?? tc ?? key, f.l, f.lp, f.c, f.cp);
    }
  }

  for (const f of afterFresh) f();

  // ---- mass-delete guard (SPEC 5).
  const liveStructural = structural.filter((x) => !cancelled.has(x));
  const fileDeletes = new Set<Action>(early.filter((x) => (x.op === 'cloud-delete' || x.op === 'local-delete') && x.rule.includes('/delete/')));
  const gone = fileDeletes.size;
  const synced = trees.syncedFileCount();
  let guard: Plan['guard'] = null;
  const held: RelPath[] = [];
  let keepEarly = early;
  let keepStructural = liveStructural;
  if (!input.allowMassDelete && gone >= options.massDeleteMinFiles && gone > options.massDeleteThreshold * synced) {
    guard = { reason: 'mass-delete', gone, synced };
    const isHeld = (x: Action): boolean => fileDeletes.has(x);
    for (const x of early) if (isHeld(x) && (x.op === 'cloud-delete' || x.op === 'local-delete')) held.push(x.path);
    keepEarly = early.filter((x) => !isHeld(x));
    keepStructural = liveStructural.filter((x) => {
      if (x.kind === 'rmdir') held.push(x.pre);
      return x.kind !== 'rmdir';
    });
  }

  // The long list first: its comparisons then run in the code the full plan compiled, before the
  // early list's first conflict rename (an action shape a full plan may never meet) deoptimizes it.
  const late2 = sortActions(late);
  const early2 = sortActions(keepEarly);
  const actions = [...early2, ...orderStructural(keepStructural, early2), ...late2];
  return { actions: dedupe(actions), guard, held: [...new Set(held)].sort(compareRelPaths) };
}

function actionKey(a: Action): RelPath {
  switch (a.op) {
    case 'upload':
    case 'download':
    case 'cloud-mkdir':
    case 'local-mkdir':
    case 'cloud-delete':
    case 'local-delete':
    case 'link':
    case 'reject':
    case 'forget':
      return a.path;
    case 'cloud-move':
    case 'local-move':
      return a.to;
    case 'conflict-rename':
      return a.from;
    default:
      return unreachable(a, 'action');
  }
}

/** The order `sortActions` gives, compared in place (no key built): rank, path, op, then the whole action. */
function compareActions(x: Action, y: Action): number {
  const r = RANK[x.op] - RANK[y.op];
  if (r !== 0) return r;
  const xk = actionKey(x);
  const yk = actionKey(y);
  const k = x.op === 'conflict-rename' ? childrenFirstPaths(xk, yk) : compareSegments(xk, yk);
  return k || cmpStr(x.op, y.op) || cmpStr(JSON.stringify(x), JSON.stringify(y));
}

/**
 * Canonical order with every path after the paths below it: conflict renames name pre-plan paths,
 * so an entry inside a folder that also steps aside is renamed first.
 */
function childrenFirstPaths(x: RelPath, y: RelPath): number {
  if (y.length > x.length && y.charCodeAt(x.length) === 47 && y.startsWith(x)) return 1;
  if (x.length > y.length && x.charCodeAt(y.length) === 47 && x.startsWith(y)) return -1;
  return compareSegments(x, y);
}

function sortActions(list: readonly Action[]): Action[] {
  // Most lists are built in canonical order already (each candidate's actions, candidates in
  // order): one pass that finds every neighbouring pair in order returns them as they are, with no
  // sort key built (ADR 0011). A tie compares the whole actions, so equal actions are identical.
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = compareActions(list[i - 1] as Action, list[i] as Action) <= 0;
  return ordered ? list.slice() : list.slice().sort(compareActions);
}

function cmpStr(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Keeps the phase order already built, dropping repeated bookkeeping (one forget or link a path). */
function dedupe(list: readonly Action[]): Action[] {
  const seen = new Set<string>();
  const out: Action[] = [];
  for (const a of list) {
    if (a.op === 'forget' || a.op === 'link') {
      const k = `${a.op}\u0000${a.path}`;
      if (seen.has(k)) continue;
      seen.add(k);
    }
    out.push(a);
  }
  return out;
}

/**
 * Orders moves, folder creations and folder deletes so that each finds its parent and its
 * destination free: a step waits while its destination's parent is still to be created, while a
 * pending move or delete still occupies its destination, and (deletes) while something below it
 * is still to leave. Each pass emits the ready steps in canonical order; a cycle (a swap) falls
 * back to canonical order. A move's source is resolved through the moves already emitted.
 */
function orderStructural(steps: readonly Structural[], before: readonly Action[]): Action[] {
  const emitted: Record<Side, Map<RelPath, RelPath>> = { local: new Map(), cloud: new Map() };
  // Entries renamed aside earlier in the plan carry their subtrees with them.
  for (const a of before) if (a.op === 'conflict-rename') emitted[a.side].set(a.from, a.to);
  const key = (x: Structural): RelPath => (x.kind === 'move' ? x.to : x.kind === 'mkdir' ? x.path : x.pre);
  const order = (x: Structural): number => (x.kind === 'rmdir' ? 0 : x.kind === 'move' ? 1 : 2);
  let pending = [...steps].sort((x, y) => compareRelPaths(key(x), key(y)) || order(x) - order(y) || cmpStr(x.side, y.side) || cmpStr(JSON.stringify(x), JSON.stringify(y)));
  const seenMkdir = new Set<string>();
  pending = pending.filter((x) => {
    if (x.kind !== 'mkdir') return true;
    const k = `${x.side}\u0000${x.path}`;
    if (seenMkdir.has(k)) return false;
    seenMkdir.add(k);
    return true;
  });
  const out: Action[] = [];
  const current = (side: Side, pre: RelPath): RelPath => rewrite(emitted[side], pre);
  const emit = (x: Structural): void => {
    switch (x.kind) {
      case 'move': {
        const from = current(x.side, x.pre);
        emitted[x.side].set(x.pre, x.to);
        if (from === x.to) return;
        out.push(x.side === 'local' ? { op: 'local-move', fileId: x.ident, from, to: x.to, rule: x.rule } : { op: 'cloud-move', id: x.ident, from, to: x.to, rule: x.rule });
        return;
      }
      case 'mkdir':
        out.push({ op: x.side === 'local' ? 'local-mkdir' : 'cloud-mkdir', path: x.path, rule: x.rule });
        return;
      case 'rmdir': {
        const path = current(x.side, x.pre);
        if (x.side === 'local' && x.local !== null) out.push({ op: 'local-delete', path, expect: x.local, how: 'trash', rule: x.rule });
        if (x.side === 'cloud' && x.cloud !== null) out.push({ op: 'cloud-delete', path, id: x.cloud.id, version: x.cloud.version, rule: x.rule });
        return;
      }
      default:
        unreachable(x, 'step');
    }
  };
  const parked = new Set<Structural>();
  while (pending.length > 0) {
    const creating: Record<Side, Set<RelPath>> = { local: new Set(), cloud: new Set() };
    const freeing: Record<Side, Set<RelPath>> = { local: new Set(), cloud: new Set() };
    const freeingBelow: Record<Side, Set<RelPath>> = { local: new Set(), cloud: new Set() };
    const movingTo: Record<Side, Set<RelPath>> = { local: new Set(), cloud: new Set() };
    for (const x of pending) {
      if (x.kind === 'mkdir') creating[x.side].add(x.path);
      else {
        const src = current(x.side, x.pre);
        freeing[x.side].add(src);
        for (const q of ancestors(src)) freeingBelow[x.side].add(q);
        if (x.kind === 'move') {
          creating[x.side].add(x.to);
          movingTo[x.side].add(x.to);
        }
      }
    }
    const ready = (x: Structural): boolean => {
      switch (x.kind) {
        case 'mkdir': {
          if (freeing[x.side].has(x.path)) return false;
          // Waits while any folder above it is still to be made or moved there.
          for (let q = parentOf(x.path); q !== ''; q = parentOf(q)) if (creating[x.side].has(q)) return false;
          // A folder mirrored from the other side waits until that side's moves put it in place,
          // so that it is recorded as synced with both sides' entries.
          const other: Side = x.side === 'local' ? 'cloud' : 'local';
          for (let q = parentOf(x.path); q !== ''; q = parentOf(q)) if (movingTo[other].has(q)) return false;
          return true;
        }
        case 'move': {
          // Waits while any folder above the destination is still to be made or moved there.
          for (let q = parentOf(x.to); q !== ''; q = parentOf(q)) if (creating[x.side].has(q)) return false;
          return !(freeing[x.side].has(x.to) && current(x.side, x.pre) !== x.to);
        }
        case 'rmdir':
          return !freeingBelow[x.side].has(current(x.side, x.pre));
        default:
          return unreachable(x, 'step');
      }
    };
    const now = pending.filter(ready);
    if (now.length === 0) {
      // A cycle (a swap, or an entry moving below where another must first leave): park one
      // blocking move under a temporary name, then go on.
      const blocker = pending.find((x) => x.kind === 'move' && !parked.has(x) && (creating[x.side].has(current(x.side, x.pre)) || pending.some((y) => y !== x && y.kind === 'move' && y.side === x.side && parentOf(y.to) === current(x.side, x.pre))));
      if (blocker !== undefined && blocker.kind === 'move') {
        parked.add(blocker);
        const from = current(blocker.side, blocker.pre);
        const tmp = joinRel(parentOf(from), `${TEMP_PREFIX}move-${baseName(from)}`);
        emitted[blocker.side].set(blocker.pre, tmp);
        out.push(blocker.side === 'local' ? { op: 'local-move', fileId: blocker.ident, from, to: tmp, rule: blocker.rule } : { op: 'cloud-move', id: blocker.ident, from, to: tmp, rule: blocker.rule });
        continue;
      }
    }
    const batch = now.length > 0 ? now : pending;
    const inBatch = new Set(batch);
    for (const x of batch) emit(x);
    pending = pending.filter((x) => !inBatch.has(x));
  }
  return out;
}
