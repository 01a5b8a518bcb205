/**
 * Replay (SPEC.md section 7) through the command line, in-process: a log written by real syncs is
 * exported, imported into another data folder and replayed there with identical views; `replay
 * --verify` re-runs every decision, catches a deliberately altered one, says which v1 decisions it
 * cannot check; a corrupt line is reported by its position.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCloudServer, type CloudServer } from '../../src/cloud/server.js';
import { main } from '../../src/cli/main.js';

let dir: string;
let server: CloudServer;
let token: string;
let taskA: string;
let taskB: string;

async function foldsync(data: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += chunk.toString();
    return true;
  });
  try {
    const code = await main(['node', 'foldsync', '--data', join(dir, data), ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
const json = async <T>(data: string, ...args: string[]): Promise<T> => JSON.parse((await foldsync(data, ...args, '--json')).out) as T;
const cloud = (): string[] => ['--cloud-url', server.url, '--token', token];
const file = (name: string): string => join(dir, name);
const lines = (name: string): string[] => readFileSync(file(name), 'utf8').trimEnd().split('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-replay-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  token = (await server.data.core.addUser('ada')).token;
  const a = file('a');
  mkdirSync(join(a, 'sub'), { recursive: true });
  writeFileSync(join(a, 'one.txt'), 'one');
  writeFileSync(join(a, 'sub', 'two.txt'), 'two');
  writeFileSync(join(a, 'big.bin'), 'x'.repeat(500));
  const b = file('b');
  mkdirSync(b);
  writeFileSync(join(b, 'b.txt'), 'bee');
  taskA = (await json<{ taskId: string }>('home', 'task', 'create', '--local', a, '--cloud', 'personal:/A', ...cloud())).taskId;
  taskB = (await json<{ taskId: string }>('home', 'task', 'create', '--local', b, '--cloud', 'personal:/B', '--mode', 'upload', ...cloud())).taskId;
  await server.data.core.setQuota('personal:ada', 100);
  await foldsync('home', 'run', '--once', ...cloud());
  await server.data.core.setQuota('personal:ada', null);
  // A local change and a move, then a cloud-side edit, so that later plans rest on earlier outcomes.
  writeFileSync(join(a, 'one.txt'), 'one, edited');
  rmSync(join(a, 'sub', 'two.txt'));
  writeFileSync(join(a, 'three.txt'), 'three');
  expect((await foldsync('home', 'retry', taskA, ...cloud())).code).toBe(0);
  expect((await foldsync('home', 'run', '--once', ...cloud())).code).toBe(0);
  expect((await foldsync('home', 'log', 'export', file('all.jsonl'))).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('log export and import', () => {
  it('a log exported, imported elsewhere and replayed gives identical views', async () => {
    expect((await foldsync('elsewhere', 'log', 'import', file('all.jsonl'))).code).toBe(0);
    expect(await json('elsewhere', 'details')).toEqual(await json('home', 'details'));
    for (const id of [taskA, taskB]) expect(await json('elsewhere', 'task', 'files', id)).toEqual(await json('home', 'task', 'files', id));
    expect(await json('elsewhere', 'task', 'failures', taskA)).toEqual(await json('home', 'task', 'failures', taskA));
    expect(await json('elsewhere', 'replay')).toEqual(await json('home', 'replay'));
    expect(await json('home', 'replay', file('all.jsonl'))).toEqual(await json('home', 'replay'));
    // Export, import, export: the same bytes.
    await foldsync('elsewhere', 'log', 'export', file('again.jsonl'));
    expect(readFileSync(file('again.jsonl'), 'utf8')).toBe(readFileSync(file('all.jsonl'), 'utf8'));
    // A log that holds events is never imported into.
    expect((await foldsync('elsewhere', 'log', 'import', file('all.jsonl'))).err).toMatch(/already holds/);
  });

  it('--task exports one task (and the terminal) only, gap-free', async () => {
    expect((await foldsync('home', 'log', 'export', file('a.jsonl'), '--task', taskA)).code).toBe(0);
    expect((await foldsync('only-a', 'log', 'import', file('a.jsonl'))).code).toBe(0);
    const home = await json<{ taskId: string }[]>('home', 'details');
    expect(await json('only-a', 'details')).toEqual(home.filter((t) => t.taskId === taskA));
    expect(await json('only-a', 'task', 'files', taskA)).toEqual(await json('home', 'task', 'files', taskA));
  });
});

describe('foldsync replay', () => {
  it("prints the task machine's status over time, and stops at --until", async () => {
    const full = await json<{ statuses: { position: number; taskId: string; status: string }[]; position: number }>('home', 'replay', '--task', taskA);
    expect(full.statuses.map((s) => s.status)).toEqual(expect.arrayContaining(['scanning', 'synchronizing', 'completed']));
    expect(new Set(full.statuses.map((s) => s.taskId))).toEqual(new Set([taskA]));
    const cut = full.statuses[1]!.position;
    const early = await json<{ statuses: unknown[]; position: number }>('home', 'replay', '--until', String(cut), '--task', taskA);
    expect(early.position).toBe(cut);
    expect(early.statuses).toEqual(full.statuses.slice(0, 2));
    expect((await foldsync('home', 'replay')).out).toMatch(/task status over time/);
  });

  it("--path tells that path's story: observed, decided under which SPEC rule, failed, retried, done", async () => {
    const { story } = await json<{ story: { what: string; rule: string | null; detail: string }[] }>('home', 'replay', '--task', taskA, '--path', 'big.bin');
    const whats = story.map((s) => s.what);
    expect(whats[0]).toBe('observed');
    expect(whats).toEqual(expect.arrayContaining(['decided', 'failed', 'done']));
    expect(whats.indexOf('failed')).toBeLessThan(whats.lastIndexOf('done'));
    expect(story.find((s) => s.what === 'decided')?.rule).toMatch(/\S/);
    expect((await foldsync('home', 'replay', '--task', taskA, '--path', 'big.bin')).out).toMatch(/story of big\.bin/);
  });

  it('--verify re-runs every recorded decision and finds them all the same (exit 0)', async () => {
    const r = await foldsync('home', 'replay', '--verify', '--json');
    const { verification } = JSON.parse(r.out) as { verification: { checked: number; unverifiable: unknown[]; mismatch: unknown } };
    expect(verification.mismatch).toBeNull();
    expect(verification.unverifiable).toEqual([]);
    expect(verification.checked).toBeGreaterThanOrEqual(3);
    expect(r.code).toBe(0);
    expect((await foldsync('elsewhere', 'replay', '--verify')).code).toBe(0);
  });

  it('--verify catches a deliberately altered decision and names its position (exit 1)', async () => {
    const all = lines('all.jsonl');
    const at = all.findIndex((l) => l.includes('"type":"PlanMade"') && l.includes('"op":"upload"'));
    expect(at).toBeGreaterThan(0);
    const event = JSON.parse(all[at]!) as { position: number; data: { actions: { action: { rule: string } }[] } };
    event.data.actions[0]!.action.rule = 'made up';
    all[at] = JSON.stringify(event);
    writeFileSync(file('altered.jsonl'), `${all.join('\n')}\n`);
    const r = await foldsync('home', 'replay', file('altered.jsonl'), '--verify');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`FIRST DIFFERENCE: plan \\S+ of task ${taskA} at position ${event.position}, action 0`));
  });

  it('--verify says which v1 decisions (older foldsync) it cannot check, and replays them', async () => {
    const all = lines('all.jsonl');
    const at = all.findIndex((l) => l.includes('"type":"PlanMade"'));
    const event = JSON.parse(all[at]!) as { position: number; v: number; data: Record<string, unknown> };
    event.v = 1;
    const { now: _n, allowMassDelete: _a, dirty: _d, ...v1data } = event.data;
    event.data = v1data;
    all[at] = JSON.stringify(event);
    writeFileSync(file('v1.jsonl'), `${all.join('\n')}\n`);
    const r = await foldsync('home', 'replay', file('v1.jsonl'), '--verify');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`cannot check plan \\S+ of task \\S+ at position ${event.position}: .*v1`));
    expect(await json('home', 'replay', file('v1.jsonl'))).toEqual(await json('home', 'replay'));
  });

  it('a corrupt line is reported by its position, in an export file and in a SQLite log', async () => {
    const all = lines('all.jsonl');
    all[5] = '{"position":5,"stream":"engine" this is not JSON';
    writeFileSync(file('corrupt.jsonl'), `${all.join('\n')}\n`);
    const r = await foldsync('home', 'replay', file('corrupt.jsonl'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/line 6 \(event at position 5\)/);

    const Database = (await import('better-sqlite3')).default;
    const copy = file('copy');
    expect((await foldsync('copy', 'log', 'import', file('all.jsonl'))).code).toBe(0);
    const db = new Database(join(copy, 'events.sqlite'));
    db.prepare("UPDATE events SET data = '{broken' WHERE position = 7").run();
    db.close();
    const s = await foldsync('home', 'replay', join(copy, 'events.sqlite'));
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/position 7/);
  });
});
