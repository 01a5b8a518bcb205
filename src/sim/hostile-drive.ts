/**
 * A drive that lies about names: in front of any {@link RemoteDrive}, it adds to every listing
 * entries whose paths a hostile or broken cloud might send (`..`, absolute paths, NUL, overlong or
 * empty segments), and serves their content. The engine must never turn such a name into a path
 * outside its task's root (issue 8, property 6).
 */
import { Readable } from 'node:stream';
import type { RemoteDrive, RemoteEntry } from '../io/remote-drive.js';

/** Paths (relative to the space) a hostile cloud might send, for a task on cloud folder `folder`. */
export function hostilePaths(folder: string): string[] {
  return [
    `${folder}/..`,
    `${folder}/../escape.txt`,
    `${folder}/../../etc/passwd`,
    '/etc/passwd',
    `/${folder}/abs.txt`,
    `${folder}/a\u0000b.txt`,
    `${folder}/${'x'.repeat(300)}`,
    `${folder}//double.txt`,
    `${folder}/./dot.txt`,
    `${folder}/sub/../../up.txt`,
    `${folder}/back\\..\\slash.txt`,
    `${folder}/trailing/`,
    `${folder}/.`,
  ];
}

/** Wraps `drive` so that every listing also holds a file at each of `paths` (ids `hostile-N`). */
export function createHostileDrive(drive: RemoteDrive, paths: readonly string[]): RemoteDrive {
  const entries: RemoteEntry[] = paths.map((path, i) => ({
    kind: 'file',
    id: `hostile-${i}`,
    version: `hv-${i}`,
    size: 5,
    hash: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', // SHA-256 of "hello"
    path,
    name: path.slice(path.lastIndexOf('/') + 1),
    parentId: null,
    modifiedAt: 0,
  }));
  const byId = new Map(entries.map((e) => [e.id, e]));
  return {
    ...drive,
    list: async (space, path, options) => [...(await drive.list(space, path, options)), ...entries],
    stat: async (space, path) => entries.find((e) => e.path === path) ?? drive.stat(space, path),
    statById: async (space, id) => byId.get(id) ?? drive.statById(space, id),
    download: async (space, id, options) => (byId.has(id) ? Readable.from([Buffer.from('hello')]) : drive.download(space, id, options)),
  };
}
