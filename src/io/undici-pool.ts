/**
 * undici's `Pool` without undici's index (ADR 0013): the index also loads fetch, WebSocket,
 * EventSource, caches and mocks, about 0.2 s at every start, and foldsync uses only a pool and
 * its `request`. This is what the index does for these two: the request API goes on the
 * dispatcher's prototype. undici is pinned in package.json; its own tests over HTTP
 * (`http-remote-drive.int.test.ts`) fail if these paths or that set-up change.
 */
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import api from 'undici/lib/api/index.js';
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';

Object.assign(DispatcherClass.prototype, api);

/** undici's connection pool, with `request`. */
export const Pool: typeof UndiciPool = PoolClass;
export type Pool = UndiciPool;
export type { Dispatcher };
