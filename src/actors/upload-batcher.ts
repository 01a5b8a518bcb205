/**
 * Small uploads, batched (ADR 0008): one HTTP request per file costs more than the file itself, so
 * the small uploads a plan runs side by side are gathered into `RemoteDrive.uploadMany` requests.
 * Each file keeps its own condition, hash and outcome; a batch is one transfer of the task's pool.
 */
import type { OnFeed, RemoteDrive, RemoteEntry, UploadItem } from '../io/remote-drive.js';
import type { TransferPool } from './transfer-limits.js';

/** Files a batch carries at most (the server takes up to `BATCH_LIMITS.maxItems`). */
export const BATCH_MAX_ITEMS = 1000;
/** Bytes a batch carries at most. */
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Uploads one small file as part of a batch; resolves with its entry or rejects with its own error.
 * `onFeed` is told where the file's changes are in the feed, when the cloud says (ADR 0100).
 */
export type SmallUpload = (item: UploadItem, onFeed?: OnFeed) => Promise<RemoteEntry>;

/**
 * Creates the batcher of a drive that has `uploadMany`. Items handed over in the same turn of the
 * event loop go together. While a batch of ours is in flight and the pool has no free place, the
 * next batch keeps gathering (up to the limits) instead of queueing small: a first sync of many
 * small files then sends few large batches, and the server commits them in few transactions
 * (ADR 0008 update); a lone edit still goes at once.
 */
export function createUploadBatcher(uploadMany: NonNullable<RemoteDrive['uploadMany']>, space: string, pool: TransferPool): SmallUpload {
  type Waiting = { readonly item: UploadItem; readonly onFeed: OnFeed | undefined; readonly resolve: (e: RemoteEntry) => void; readonly reject: (e: unknown) => void };
  let forming: Waiting[] = [];
  let bytes = 0;
  let scheduled = false;
  /** Batches of ours sent and not yet answered. */
  let inFlight = 0;

  const send = (batch: Waiting[]): void => {
    inFlight += 1;
    void (async () => {
      try {
        const results: unknown = await pool.run(() => uploadMany(space, batch.map((w) => w.item)));
        // An adapter that answers something else than a list fails each file, not the process.
        const list = Array.isArray(results) ? (results as (Awaited<ReturnType<typeof uploadMany>>[number] | undefined)[]) : [];
        batch.forEach((w, i) => {
          const r = list[i];
          if (r === undefined) w.reject(new Error('the batched upload answered fewer results than files'));
          else if (r.ok) {
            if (r.feed !== undefined) w.onFeed?.(r.feed);
            w.resolve(r.entry);
          }
          else w.reject(r.error);
        });
      } catch (error) {
        for (const w of batch) w.reject(error);
      } finally {
        inFlight -= 1;
        // After the pool has freed this batch's place (its bookkeeping runs after our answer).
        schedule();
      }
    })();
  };
  const take = (): void => {
    const batch = forming;
    forming = [];
    bytes = 0;
    send(batch);
  };
  /** Sends what has gathered, unless a batch of ours is in flight and would only queue behind the pool. */
  const flush = (): void => {
    scheduled = false;
    if (forming.length === 0) return;
    if (inFlight > 0 && pool.active + pool.waiting >= pool.limit) return;
    take();
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (item, onFeed) =>
    new Promise<RemoteEntry>((resolve, reject) => {
      if (forming.length > 0 && (forming.length >= BATCH_MAX_ITEMS || bytes + item.body.length > BATCH_MAX_BYTES)) take();
      forming.push({ item, onFeed, resolve, reject });
      bytes += item.body.length;
      schedule();
    });
}
