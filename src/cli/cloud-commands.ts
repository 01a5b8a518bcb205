/**
 * `foldsync cloud ...`: run the reference cloud server and administer its data folder (users,
 * spaces, members, received shares and transfers, quotas). Admin commands work on the data folder
 * directly, and may run while the server does.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CloudError } from '../cloud/cloud-error.js';
import { openCloudData, type CloudData } from '../cloud/open-data.js';
import { startCloudServer } from '../cloud/server.js';
import { SPACE_ROLES, type SpaceRole } from '../lib/cloud-api.js';
import type { SpaceType } from '../lib/model.js';

/** The cloud data folder: `--data DIR`, else `$FOLDSYNC_HOME/cloud`, else `~/.foldsync/cloud`. */
export function cloudDataDir(command: Command): string {
  const given = command.optsWithGlobals<{ data?: string }>().data;
  if (given !== undefined) return given;
  return join(process.env['FOLDSYNC_HOME'] ?? join(homedir(), '.foldsync'), 'cloud');
}

/** Parses a byte count: `1048576`, `10K`, `5M`, `2G`, `1T` (powers of 1024), or `none`. */
export function parseBytes(text: string): number | null {
  if (text === 'none') return null;
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(text.trim());
  if (m === null) throw new CloudError('bad-request', `${JSON.stringify(text)} is not a size: use bytes, or a number with K, M, G or T`);
  const power = ' KMGT'.indexOf((m[2] ?? '').toUpperCase() || ' ');
  return Number(m[1]) * 1024 ** power;
}

function role(text: string): SpaceRole {
  if (!(SPACE_ROLES as readonly string[]).includes(text)) throw new CloudError('bad-request', `role must be one of ${SPACE_ROLES.join(', ')}`);
  return text as SpaceRole;
}

async function withData<T>(command: Command, fn: (data: CloudData) => Promise<T>): Promise<T> {
  const data = await openCloudData({ dataDir: cloudDataDir(command) });
  try {
    return await fn(data);
  } finally {
    await data.close();
  }
}

/** Adds the `cloud` command group to `program`. */
export function registerCloudCommands(program: Command): void {
  const cloud = program.command('cloud').description('run and administer the reference cloud server (data folder: --data DIR)');

  cloud
    .command('serve')
    .description('serve the cloud API; prints "listening on http://HOST:PORT"; stops cleanly on SIGINT/SIGTERM')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '8420')
    .action(async (opts: { host: string; port: string }, command: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CloudError('bad-request', `--port ${opts.port} is not a port number`);
      const server = await startCloudServer({
        dataDir: cloudDataDir(command),
        host: opts.host,
        port,
        onError: (error) => {
          process.stderr.write(`foldsync cloud: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        },
      });
      process.stdout.write(`listening on ${server.url}\n`);
      // Resolve only once closed: every acknowledged write is committed before the answer is sent,
      // and close lets requests in flight finish first.
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  const user = cloud.command('user').description('users and their tokens');
  user
    .command('add')
    .argument('<name>', 'user name: letters, digits, ".", "_" or "-"')
    .description('add a user with a personal space; prints the bearer token (shown once)')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { token } = await withData(command, (data) => data.core.addUser(name));
      process.stdout.write(`${token}\n`);
    });
  user
    .command('token')
    .argument('<name>')
    .description('issue a new token for a user (the old one stops working); prints it')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const token = await withData(command, (data) => data.core.resetToken(name));
      process.stdout.write(`${token}\n`);
    });

  cloud
    .command('space')
    .description('spaces')
    .command('add')
    .argument('<name>')
    .requiredOption('--type <type>', 'team, received-share or received-transfer')
    .option('--quota <bytes>', 'quota (e.g. 10G); default none')
    .option('--to <user>', 'the recipient of a received share or transfer')
    .option('--role <role>', 'the recipient role for a received share (synchronizer or backer)', 'synchronizer')
    .description('add a space')
    .action(async (name: string, opts: { type: string; quota?: string; to?: string; role: string }, command: Command) => {
      const type = opts.type as SpaceType;
      if (type !== 'team' && opts.to === undefined) throw new CloudError('bad-request', `a ${type} space needs its recipient: --to USER`);
      const recipient = opts.to === undefined ? undefined : { user: opts.to, role: type === 'received-transfer' ? ('owner' as const) : role(opts.role) };
      await withData(command, (data) => data.core.addSpace(name, type, opts.quota === undefined ? null : parseBytes(opts.quota), recipient));
      process.stdout.write(`added ${type} space ${name}\n`);
    });

  cloud
    .command('member')
    .description('members of team spaces and received shares')
    .command('add')
    .argument('<space>')
    .argument('<user>')
    .requiredOption('--role <role>', 'synchronizer, backer or member')
    .description('give a user a role in a space (replacing any previous role)')
    .action(async (space: string, userName: string, opts: { role: string }, command: Command) => {
      await withData(command, (data) => data.core.setMember(space, userName, role(opts.role)));
      process.stdout.write(`${userName} is ${opts.role} of ${space}\n`);
    });

  cloud
    .command('share')
    .description('received shares')
    .command('add')
    .argument('<name>')
    .requiredOption('--to <user>', 'the user who receives the share')
    .option('--role <role>', 'synchronizer or backer', 'synchronizer')
    .option('--quota <bytes>', 'quota (e.g. 10G)')
    .description('create a folder shared with a user (a received-share space)')
    .action(async (name: string, opts: { to: string; role: string; quota?: string }, command: Command) => {
      await withData(command, (data) => data.core.addSpace(name, 'received-share', opts.quota === undefined ? null : parseBytes(opts.quota), { user: opts.to, role: role(opts.role) }));
      process.stdout.write(`shared ${name} with ${opts.to} as ${opts.role}\n`);
    });

  cloud
    .command('transfer')
    .description('received transfers')
    .command('add')
    .argument('<name>')
    .requiredOption('--to <user>', 'the user who receives the transfer and owns it from then on')
    .option('--quota <bytes>', 'quota (e.g. 10G)')
    .description('create a folder transferred to a user (a received-transfer space they own)')
    .action(async (name: string, opts: { to: string; quota?: string }, command: Command) => {
      await withData(command, (data) => data.core.addSpace(name, 'received-transfer', opts.quota === undefined ? null : parseBytes(opts.quota), { user: opts.to, role: 'owner' }));
      process.stdout.write(`transferred ${name} to ${opts.to}\n`);
    });

  cloud
    .command('quota')
    .description('space quotas')
    .command('set')
    .argument('<space>', 'a space name; personal:USER for a personal space')
    .argument('<bytes>', 'e.g. 10G, or none')
    .action(async (space: string, bytes: string, _opts: unknown, command: Command) => {
      await withData(command, (data) => data.core.setQuota(space, parseBytes(bytes)));
      process.stdout.write(`quota of ${space}: ${bytes}\n`);
    });
}
