// Declarations of the undici modules src/io/undici-pool.ts loads directly (undici ships types
// for its index only). They are CommonJS modules: `export =`.
declare module 'undici/lib/api/index.js' {
  const api: Record<string, unknown>;
  export = api;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const Dispatcher: { prototype: object };
  export = Dispatcher;
}
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export = PoolClass;
}
