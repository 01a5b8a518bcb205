import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedQuery } from './fixed-queries.js';

interface DB {
  t: { id: string; n: number; note: string | null };
}

const open: Kysely<DB>[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.destroy();
});
async function database(): Promise<Kysely<DB>> {
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  open.push(db);
  await db.schema.createTable('t').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('n', 'integer').addColumn('note', 'text').execute();
  return db;
}

describe('fixed queries', () => {
  it('compile once and bind each run by name, whatever the order of the values; constants of the query stay', async () => {
    const db = await database();
    let builds = 0;
    const insert = fixedQuery(db, (d, p) => {
      builds++;
      return d.insertInto('t').values({ id: p('id'), n: p('n'), note: p('note') });
    });
    const newest = fixedQuery(db, (d, p) => d.selectFrom('t').selectAll().where('n', '>=', p('min')).orderBy('n', 'desc').limit(1));
    await insert(db, { note: 'first', n: 1, id: 'a' });
    await db.transaction().execute(async (trx) => {
      await insert(trx, { id: 'b', n: 2, note: null });
      await insert(trx, { n: 3, id: 'c', note: 'third' });
    });
    expect(builds).toBe(1);
    expect(await db.selectFrom('t').selectAll().orderBy('id').execute()).toEqual([
      { id: 'a', n: 1, note: 'first' },
      { id: 'b', n: 2, note: null },
      { id: 'c', n: 3, note: 'third' },
    ]);
    expect((await newest(db, { min: 0 })).rows).toEqual([{ id: 'c', n: 3, note: 'third' }]);
    expect((await newest(db, { min: 4 })).rows).toEqual([]);
  });

  it('refuses a run without one of its values', async () => {
    const db = await database();
    const insert = fixedQuery(db, (d, p) => d.insertInto('t').values({ id: p('id'), n: p('n'), note: p('note') }));
    await expect(insert(db, { id: 'a', n: 1 })).rejects.toThrow('without its value "note"');
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([]);
  });
});
