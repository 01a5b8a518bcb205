/**
 * `foldsync remote ...`: act on the cloud side directly, as the source product's web console
 * would. Locations are `SPACE:/path` (`personal:/docs/a.txt`); the server is `--cloud-url` or
 * `$FOLDSYNC_CLOUD`, the token `--token` or `$FOLDSYNC_TOKEN`; `--json` prints JSON for scripts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { openEmbeddedCloud } from '../engine.js';
import { resolveDataDir } from '../io/data-dir.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { RemoteError, type RemoteDrive, type RemoteEntry } from '../io/remote-drive.js';

interface RemoteOptions {
  cloudUrl?: string;
  token?: string;
  json?: boolean;
  mode?: string;
}

/** A parsed `SPACE:/path`. */
export interface Location {
  readonly space: string;
  readonly path: string;
}

/** Parses `SPACE:/path` (or `SPACE:` / `SPACE` for the root). The space ends at the first ':/'. */
export function parseLocation(text: string): Location {
  const at = text.indexOf(':/');
  if (at > 0) return { space: text.slice(0, at), path: text.slice(at + 2).replace(/^\/+/, '').replace(/\/+$/, '') };
  if (text.endsWith(':') && text.length > 1) return { space: text.slice(0, -1), path: '' };
  if (text.length > 0 && !text.includes('/')) return { space: text, path: '' };
  throw new RemoteError('bad-request', `${JSON.stringify(text)} is not a cloud location: write SPACE:/path, e.g. personal:/docs/a.txt`);
}

async function connect(command: Command): Promise<{ drive: RemoteDrive; opts: RemoteOptions; release: () => Promise<void> }> {
  const opts = command.optsWithGlobals<RemoteOptions & { data?: string }>();
  const mode = opts.mode ?? 'two-way';
  if (mode !== 'two-way' && mode !== 'upload') throw new RemoteError('bad-request', '--mode must be two-way or upload');
  let baseUrl = opts.cloudUrl ?? process.env['FOLDSYNC_CLOUD'];
  let token = opts.token ?? process.env['FOLDSYNC_TOKEN'];
  let release = (): Promise<void> => Promise.resolve();
  if ((baseUrl === undefined || baseUrl === '') && (token === undefined || token === '')) {
    // No cloud named: the embedded one of the engine data folder (SPEC's default cloud).
    const embedded = await openEmbeddedCloud(resolveDataDir(opts.data));
    baseUrl = embedded.url;
    token = embedded.token;
    release = () => embedded.close();
  }
  if (baseUrl === undefined || baseUrl === '') throw new RemoteError('bad-request', 'which cloud? pass --cloud-url URL or set FOLDSYNC_CLOUD');
  if (token === undefined || token === '') throw new RemoteError('unauthorized', 'no token: pass --token T or set FOLDSYNC_TOKEN (from `foldsync cloud user add`)');
  return { drive: createHttpRemoteDrive({ baseUrl, token, mode: mode }), opts, release };
}

async function run(command: Command, fn: (drive: RemoteDrive, opts: RemoteOptions) => Promise<unknown>, human?: (value: never) => string): Promise<void> {
  const { drive, opts, release } = await connect(command);
  try {
    const value = await fn(drive, opts);
    if (value === undefined) return;
    if (opts.json === true || human === undefined) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(human(value as never));
  } finally {
    await drive.close();
    await release();
  }
}

async function mustStat(drive: RemoteDrive, loc: Location): Promise<RemoteEntry> {
  const entry = await drive.stat(loc.space, loc.path);
  if (entry === null) throw new RemoteError('not-found', `nothing at ${loc.space}:/${loc.path}`);
  return entry;
}

function sameSpace(a: Location, b: Location): void {
  if (a.space !== b.space) throw new RemoteError('bad-request', 'moves and copies stay within one space');
}

const line = (e: RemoteEntry): string => `${e.kind === 'dir' ? 'd' : '-'} ${String(e.size).padStart(12)}  ${new Date(e.modifiedAt).toISOString()}  ${e.path}${e.kind === 'dir' ? '/' : ''}`;

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Adds the `remote` command group to `program`. */
export function registerRemoteCommands(program: Command): void {
  const remote = program
    .command('remote')
    .description('act on the cloud directly: SPACE:/path locations (e.g. personal:/docs)')
    .option('--cloud-url <url>', 'the cloud server (default $FOLDSYNC_CLOUD)')
    .option('--token <token>', 'your bearer token (default $FOLDSYNC_TOKEN)')
    .option('--mode <mode>', 'the task mode writes are checked against: two-way or upload', 'two-way')
    .option('--json', 'print JSON');

  remote
    .command('spaces')
    .description('list your spaces')
    .action(async (_opts: unknown, command: Command) => {
      await run(command, (d) => d.spaces(), (spaces: { name: string; type: string; role: string; used: number; quota: number | null }[]) =>
        spaces.map((s) => `${s.name}\t${s.type}\t${s.role}\t${s.used}${s.quota === null ? '' : `/${s.quota}`} bytes\n`).join(''),
      );
    });

  remote
    .command('ls')
    .argument('<location>', 'SPACE:/folder')
    .option('-r, --recursive', 'the whole subtree')
    .description('list a folder')
    .action(async (location: string, opts: { recursive?: boolean }, command: Command) => {
      const loc = parseLocation(location);
      await run(command, (d) => d.list(loc.space, loc.path, { recursive: opts.recursive === true }), (entries: RemoteEntry[]) => entries.map((e) => `${line(e)}\n`).join(''));
    });

  remote
    .command('cat')
    .argument('<location>', 'SPACE:/file')
    .option('--version-id <id>', 'a version id (see `remote versions`)')
    .description('write a file (or one of its versions) to standard output')
    .action(async (location: string, opts: { versionId?: string }, command: Command) => {
      const loc = parseLocation(location);
      await run(command, async (d) => {
        const entry = await mustStat(d, loc);
        const body = await d.download(loc.space, entry.id, opts.versionId === undefined ? {} : { version: opts.versionId });
        await pipeline(body, process.stdout, { end: false });
        return undefined;
      });
    });

  remote
    .command('put')
    .argument('<file>', 'a local file')
    .argument('<location>', 'SPACE:/path of the file to create or update')
    .description('upload a file: a new file, or a new version of the file there')
    .action(async (file: string, location: string, _opts: unknown, command: Command) => {
      const loc = parseLocation(location);
      const size = statSync(file).size;
      const hash = await hashFile(file);
      await run(command, async (d) => {
        const existing = await d.stat(loc.space, loc.path);
        return d.upload(loc.space, { path: loc.path }, (start, end) => createReadStream(file, { start, end: Math.max(start, end - 1) }) as AsyncIterable<Uint8Array>, {
          size,
          hash,
          baseVersion: existing?.kind === 'file' ? existing.version : null,
        });
      }, (e: RemoteEntry) => `${e.path}\tversion ${e.version}\t${e.size} bytes\n`);
    });

  remote
    .command('mkdir')
    .argument('<location>', 'SPACE:/folder')
    .description('create a folder (and missing parents)')
    .action(async (location: string, _opts: unknown, command: Command) => {
      const loc = parseLocation(location);
      await run(command, (d) => d.mkdir(loc.space, loc.path), (e: RemoteEntry) => `${e.path}/\n`);
    });

  remote
    .command('mv')
    .argument('<from>', 'SPACE:/path')
    .argument('<to>', 'SPACE:/new path')
    .description('move or rename a file or folder')
    .action(async (from: string, to: string, _opts: unknown, command: Command) => {
      const a = parseLocation(from);
      const b = parseLocation(to);
      sameSpace(a, b);
      await run(command, async (d) => d.move(a.space, (await mustStat(d, a)).id, b.path), (e: RemoteEntry) => `${e.path}\n`);
    });

  remote
    .command('cp')
    .argument('<from>', 'SPACE:/path')
    .argument('<to>', 'SPACE:/path of the copy')
    .description('copy a file or folder')
    .action(async (from: string, to: string, _opts: unknown, command: Command) => {
      const a = parseLocation(from);
      const b = parseLocation(to);
      sameSpace(a, b);
      await run(command, async (d) => d.copy(a.space, (await mustStat(d, a)).id, b.path), (e: RemoteEntry) => `${e.path}\n`);
    });

  remote
    .command('rm')
    .argument('<location>', 'SPACE:/path')
    .description('send a file or folder to the recycle bin')
    .action(async (location: string, _opts: unknown, command: Command) => {
      const loc = parseLocation(location);
      await run(command, async (d) => {
        const entry = await mustStat(d, loc);
        return d.delete(loc.space, entry.id, entry.version);
      }, (b: { id: string; path: string }) => `${b.path} -> recycle bin entry ${b.id}\n`);
    });

  remote
    .command('versions')
    .argument('<location>', 'SPACE:/file')
    .description("list a file's versions, newest first")
    .action(async (location: string, _opts: unknown, command: Command) => {
      const loc = parseLocation(location);
      await run(command, async (d) => d.versions(loc.space, (await mustStat(d, loc)).id), (vs: { id: string; size: number; createdAt: number; current: boolean; hash: string }[]) =>
        vs.map((v) => `${v.current ? '*' : ' '} ${v.id}  ${String(v.size).padStart(12)}  ${new Date(v.createdAt).toISOString()}  ${v.hash.slice(0, 12)}\n`).join(''),
      );
    });

  remote
    .command('bin')
    .argument('<space>', 'SPACE')
    .option('--purge <id>', 'delete this entry for good')
    .description('list the recycle bin (or purge an entry)')
    .action(async (space: string, opts: { purge?: string }, command: Command) => {
      const name = parseLocation(space).space;
      if (opts.purge !== undefined) {
        const id = opts.purge;
        await run(command, async (d) => {
          await d.purge(name, id);
          return { purged: id };
        }, () => `purged ${id}\n`);
        return;
      }
      await run(command, (d) => d.bin(name), (entries: { id: string; kind: string; path: string; size: number; deletedAt: number }[]) =>
        entries.map((b) => `${b.id}  ${b.kind === 'dir' ? 'd' : '-'} ${String(b.size).padStart(12)}  ${new Date(b.deletedAt).toISOString()}  ${b.path}\n`).join(''),
      );
    });

  remote
    .command('restore')
    .argument('<location>', 'SPACE:/file (with --version-id) or SPACE (with --bin)')
    .option('--version-id <id>', 'make this version of the file current again')
    .option('--bin <id>', 'restore this recycle bin entry to its original path')
    .description('restore an old version of a file, or an entry from the recycle bin')
    .action(async (location: string, opts: { versionId?: string; bin?: string }, command: Command) => {
      const loc = parseLocation(location);
      const { versionId: version, bin } = opts;
      if ((version === undefined) === (bin === undefined)) throw new RemoteError('bad-request', 'say what to restore: --version-id ID or --bin ID');
      await run(command, async (d) => {
        if (bin !== undefined) return d.restoreFromBin(loc.space, bin);
        const entry = await mustStat(d, loc);
        return d.restoreVersion(loc.space, entry.id, version ?? '', { ifVersion: entry.version });
      }, (e: RemoteEntry) => `${e.path}\tversion ${e.version}\n`);
    });

  remote
    .command('changes')
    .argument('<space>', 'SPACE')
    .option('--cursor <c>', 'changes after this cursor (default: all)', '0')
    .option('--wait <seconds>', 'wait this long for a change', '0')
    .description('read the change feed')
    .action(async (space: string, opts: { cursor: string; wait: string }, command: Command) => {
      const name = parseLocation(space).space;
      await run(command, (d) => d.changes(name, opts.cursor, { waitSeconds: Number(opts.wait) }), (b: { changes: { cursor: string; op: string; path: string; fromPath?: string }[]; cursor: string }) =>
        `${b.changes.map((c) => `${c.cursor}\t${c.op}\t${c.fromPath === undefined ? '' : `${c.fromPath} -> `}${c.path}\n`).join('')}cursor ${b.cursor}\n`,
      );
    });
}
