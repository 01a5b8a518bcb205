/**
 * The embedded cloud server's thread (ADR 0097). Started by {@link startEmbeddedCloud}: it starts
 * the reference server on the data folder, makes the `local` user when asked, says where it
 * listens, and closes the server when told to. SQLite is synchronous, so the server's commits
 * (each an fsync) stop whatever thread runs them: here they stop this thread, not the engine's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isFoldsyncError } from '../lib/errors.js';
import { startCloudServer, type CloudServer } from './server.js';
import type { EmbeddedReply, EmbeddedRequest, EmbeddedStart } from './embedded.js';

const port = parentPort;
if (port === null) throw new Error('embedded-worker.js runs as a worker thread only');
const start = workerData as EmbeddedStart;
const reply = (message: EmbeddedReply): void => {
  port.postMessage(message);
};
const failure = (error: unknown): EmbeddedReply => ({
  type: 'error',
  name: error instanceof Error ? error.name : 'Error',
  code: isFoldsyncError(error) ? error.code : null,
  message: error instanceof Error ? error.message : String(error),
});

let server: CloudServer | null = null;
try {
  server = await startCloudServer({ dataDir: start.dataDir, port: 0 });
  const token = start.addUser === null ? null : (await server.data.core.addUser(start.addUser)).token;
  reply({ type: 'ready', url: server.url, token });
} catch (error) {
  reply(failure(error));
  await server?.close();
  port.close();
}

// The one request there is: close.
port.on('message', (_close: EmbeddedRequest) => {
  if (server === null) return;
  const running = server;
  server = null;
  void (async () => {
    try {
      await running.close();
      reply({ type: 'closed' });
    } catch (error) {
      reply(failure(error));
    } finally {
      port.close();
    }
  })();
});
