/**
 * Starting the embedded reference cloud of an engine data folder, and its credentials. Light on
 * purpose (node built-ins and the worker's starter only): `bin/foldsync.js` calls
 * {@link prestartEmbedded} before it loads the rest of foldsync, so that the cloud's thread starts
 * while the engine's modules load (the two took turns before, ~0.6 s of every `run` and `sync`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedCloud, type EmbeddedCloud } from './cloud/embedded.js';
import { resolveDataDir } from './io/data-dir.js';

/** The tokens an engine data folder keeps (never in the event log). */
export interface Credentials {
  embedded?: { user: string; token: string };
  tokens: Record<string, string>;
}

/** An embedded cloud started for a data folder, with the credentials it was started with. */
export interface StartedEmbedded {
  readonly cloud: EmbeddedCloud;
  readonly token: string;
  readonly credentials: Credentials;
}

export function readCredentials(dataDir: string): Credentials {
  const file = join(dataDir, 'credentials.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Credentials) : { tokens: {} };
}

export function writeCredentials(dataDir: string, credentials: Credentials): void {
  writeFileSync(join(dataDir, 'credentials.json'), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

/** Starts the embedded cloud of `dataDir` (in its own thread), making its `local` user the first time. */
export async function startEmbedded(dataDir: string): Promise<StartedEmbedded> {
  mkdirSync(dataDir, { recursive: true });
  const credentials = readCredentials(dataDir);
  const cloud = await startEmbeddedCloud({ dataDir: join(dataDir, 'cloud'), addUser: credentials.embedded === undefined ? 'local' : null });
  if (credentials.embedded === undefined) {
    if (cloud.token === null) {
      await cloud.close();
      throw new Error('the embedded cloud made no user');
    }
    credentials.embedded = { user: 'local', token: cloud.token };
    try {
      writeCredentials(dataDir, credentials);
    } catch (error) {
      await cloud.close();
      throw error;
    }
  }
  return { cloud, token: credentials.embedded.token, credentials };
}

const early = new Map<string, Promise<StartedEmbedded>>();

/** Starts the embedded cloud of `dataDir` now, for the engine that {@link takePrestarted} it later. */
export function prestartEmbedded(dataDir: string): void {
  if (early.has(dataDir)) return;
  const started = startEmbedded(dataDir);
  // Whoever takes it sees the failure; one never taken must not be an unhandled rejection.
  started.catch(() => undefined);
  early.set(dataDir, started);
}

/** The embedded cloud started early for `dataDir`, now this caller's to close; null when none was. */
export function takePrestarted(dataDir: string): Promise<StartedEmbedded> | null {
  const started = early.get(dataDir) ?? null;
  early.delete(dataDir);
  return started;
}

/** Closes every embedded cloud started early that no engine took (the command did not need it). */
export async function releasePrestarted(): Promise<void> {
  const left = [...early.values()];
  early.clear();
  await Promise.all(left.map((p) => p.then((s) => s.cloud.close()).catch(() => undefined)));
}

/** What the early start reads from a command line: the command, `--data`, and whether a cloud URL or help was asked for. */
function startLine(argv: readonly string[]): { command: string | undefined; data: string | undefined; cloudUrl: boolean; help: boolean } {
  const args = argv.slice(2);
  const line: { command: string | undefined; data: string | undefined; cloudUrl: boolean; help: boolean } = { command: undefined, data: undefined, cloudUrl: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--help' || a === '-h') line.help = true;
    else if (a === '--cloud-url' || a.startsWith('--cloud-url=')) {
      line.cloudUrl = true;
      if (a === '--cloud-url') i++;
    } else if (a === '--data') {
      line.data = args[i + 1];
      i++;
    } else if (a.startsWith('--data=')) {
      line.data = a.slice('--data='.length);
    } else if (a === '--token') {
      i++;
    } else if (line.command === undefined && !a.startsWith('-')) {
      line.command = a;
    }
  }
  return line;
}

/**
 * The engine data folder and whether the embedded cloud will be wanted, guessed from the command
 * line the way the CLI reads it (`--data DIR`, else `$FOLDSYNC_HOME`, else `~/.foldsync`; no
 * `--cloud-url` nor `FOLDSYNC_CLOUD`), for `run` and `sync` only; null otherwise. A wrong guess
 * costs only a start that {@link releasePrestarted} undoes.
 */
export function embeddedWanted(argv: readonly string[], env: NodeJS.ProcessEnv): string | null {
  const { command, data, cloudUrl, help } = startLine(argv);
  if (cloudUrl || help || (command !== 'run' && command !== 'sync') || (env['FOLDSYNC_CLOUD'] ?? '') !== '') return null;
  return resolveDataDir(data, env);
}

/**
 * The snapshots folder of the engine data folder a `run` will restore every task from (whatever
 * its cloud), guessed from the command line as {@link embeddedWanted} does; null for any other
 * command. `bin/foldsync.js` reads those snapshots ahead (snapshot-preread.ts).
 */
export function snapshotsWanted(argv: readonly string[], env: NodeJS.ProcessEnv): string | null {
  const { command, data, help } = startLine(argv);
  return command === 'run' && !help ? join(resolveDataDir(data, env), 'snapshots') : null;
}

export { prereadSnapshots } from './io/snapshot-preread.js';
