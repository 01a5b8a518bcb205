/**
 * The embedded cloud: the reference server on a data folder, run in a worker thread of the
 * engine's process (ADR 0097), so that its synchronous SQLite commits and its hashing overlap the
 * engine's work instead of stopping it. It lives and dies with the process, like the in-process
 * server it replaces; errors arrive as the same typed errors `startCloudServer` throws.
 */
import { Worker } from 'node:worker_threads';
import { FoldsyncError } from '../lib/errors.js';
import { CloudStartError, type CloudStartCode } from './cloud-error.js';

/** What the worker is started with. */
export interface EmbeddedStart {
  readonly dataDir: string;
  /** Make this user and return its token (null: make none). */
  readonly addUser: string | null;
}

/** What the engine tells the worker. */
export type EmbeddedRequest = { readonly type: 'close' };

/** What the worker tells the engine. */
export type EmbeddedReply =
  | { readonly type: 'ready'; readonly url: string; readonly token: string | null }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly name: string; readonly code: string | null; readonly message: string };

/** A running embedded cloud. */
export interface EmbeddedCloud {
  readonly url: string;
  /** The token of the user made at start, or null when none was asked for. */
  readonly token: string | null;
  /** Stops the server (requests in flight finish) and its thread. */
  close(): Promise<void>;
}

const errorOf = (reply: Extract<EmbeddedReply, { type: 'error' }>): Error => {
  if (reply.name === 'CloudStartError' && reply.code !== null) return new CloudStartError(reply.code as CloudStartCode, reply.message);
  if (reply.code !== null) return new FoldsyncError(reply.code, reply.message);
  return new Error(reply.message);
};

/** Starts the embedded cloud server on `dataDir` in its own thread. */
export function startEmbeddedCloud(start: EmbeddedStart): Promise<EmbeddedCloud> {
  // From the built package the worker is a .js file; from the sources (tests, benchmarks) it is the
  // .ts file, loaded through tsx as the rest of the sources are.
  const fromSources = import.meta.url.endsWith('.ts');
  const file = new URL(fromSources ? './embedded-worker.ts' : './embedded-worker.js', import.meta.url);
  const worker = fromSources
    ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); });`, { eval: true, workerData: start })
    : new Worker(file, { workerData: start });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const next = (): Promise<EmbeddedReply> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: EmbeddedReply): void => {
        cleanup();
        resolve(message);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onExit = (): void => {
        cleanup();
        reject(new FoldsyncError('cloud-unavailable', 'The embedded cloud server stopped unexpectedly.'));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  return next().then(
    async (ready) => {
      if (ready.type !== 'ready') {
        await exit;
        throw ready.type === 'error' ? errorOf(ready) : new Error(`the embedded cloud answered ${ready.type}`);
      }
      // A server that fails later (its thread dies) must not take the engine down: tasks see an
      // unreachable cloud and say so, as with any other server.
      worker.on('error', () => undefined);
      let closing: Promise<void> | null = null;
      return {
        url: ready.url,
        token: ready.token,
        close: () => {
          closing ??= (async () => {
            if (exited) return;
            const done = next();
            worker.postMessage({ type: 'close' } satisfies EmbeddedRequest);
            const answer = await done.catch(() => ({ type: 'closed' }) as const);
            await exit;
            if (answer.type === 'error') throw errorOf(answer);
          })();
          return closing;
        },
      };
    },
    async (error: unknown) => {
      await worker.terminate();
      throw error;
    },
  );
}
