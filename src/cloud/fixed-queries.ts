/**
 * Queries of a fixed shape, compiled by kysely once per database and then run with new values
 * (ADR 0096). On the per-file path of an upload, building kysely's immutable query tree and
 * compiling it cost more than SQLite took to run the statement; a query compiled once costs a
 * lookup of its values. The SQL is still kysely's, in the database's own dialect.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

/** Stands for the value named `name` while the query is compiled; see {@link fixedQuery}. */
export type Param = (name: string) => never;

const MARK = '\u0000fixed-query-param:';

/**
 * A query compiled once, on first use: `build` makes it with `param(name)` in the place of each
 * value that changes, and every run binds the values of `values` by those names, in the order
 * the compiled SQL wants them; any other value `build` wrote (a `limit(1)`) stays as it was.
 * `build` must always make the same shape (no value may change the SQL).
 */
export function fixedQuery<DB, Row>(db: Kysely<DB>, build: (db: Kysely<DB>, param: Param) => Compilable<Row>): (on: Kysely<DB>, values: Readonly<Record<string, unknown>>) => Promise<QueryResult<Row>> {
  // Each parameter of the compiled SQL: the name of a value, or a constant of the query.
  let compiled: { readonly sql: string; readonly slots: readonly ({ readonly name: string } | { readonly constant: unknown })[] } | null = null;
  return async (on, values) => {
    if (compiled === null) {
      const query = build(db, (name) => `${MARK}${name}` as never).compile();
      const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? { name: p.slice(MARK.length) } : { constant: p }));
      compiled = { sql: query.sql, slots };
    }
    const parameters = compiled.slots.map((slot) => {
      if (!('name' in slot)) return slot.constant;
      if (!(slot.name in values)) throw new Error(`a fixed query was run without its value "${slot.name}"`);
      return values[slot.name];
    });
    return await on.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
  };
}
