/**
 * Starts the real cloud server on 127.0.0.1, port 0, in a fresh temporary data folder, and hands
 * out HTTP drives for its users. Used by the integration tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudServer, type CloudServer, type CloudServerOptions } from '../src/cloud/server.js';
import { createHttpRemoteDrive, type HttpRemoteDriveOptions } from '../src/io/http-remote-drive.js';
import type { RemoteDrive } from '../src/io/remote-drive.js';
import type { SyncMode } from '../src/lib/model.js';
import type { ContractFixture } from './remote-drive-contract.js';

/** A running server with helpers. */
export interface ServerFixture extends ContractFixture {
  readonly server: CloudServer;
  readonly dataDir: string;
  readonly tokens: Map<string, string>;
}

/** Starts a server; `close` stops it and removes its folder. */
export async function startServerFixture(
  options: Partial<CloudServerOptions> = {},
  driveOptions: Partial<HttpRemoteDriveOptions> = {},
): Promise<ServerFixture> {
  // The data folder sits in a folder of its own, so a test can check that nothing is written beside it
  // (the shared temporary folder changes under other tests' feet).
  const home = await mkdtemp(join(tmpdir(), 'foldsync-cloud-'));
  const dataDir = join(home, 'data');
  const server = await startCloudServer({ dataDir, host: '127.0.0.1', port: 0, retainVersions: 3, ...options });
  const tokens = new Map<string, string>();
  const drives: RemoteDrive[] = [];
  const { core } = server.data;
  return {
    server,
    dataDir,
    tokens,
    addUser: async (name) => {
      tokens.set(name, (await core.addUser(name)).token);
    },
    drive: (user: string, mode?: SyncMode) => {
      const d = createHttpRemoteDrive({
        baseUrl: server.url,
        token: tokens.get(user) ?? 'no-such-token',
        resumableThreshold: 64 * 1024,
        chunkSize: 16 * 1024,
        backoffMs: 10,
        ...(mode === undefined ? {} : { mode }),
        ...driveOptions,
      });
      drives.push(d);
      return d;
    },
    addSpace: (name, type, recipient) => core.addSpace(name, type, null, recipient),
    setMember: (space, user, role) => core.setMember(space, user, role),
    setQuota: (space, quota) => core.setQuota(space, quota),
    close: async () => {
      await Promise.all(drives.map((d) => d.close()));
      await server.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
