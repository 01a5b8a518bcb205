/**
 * foldsync's public API. Named exports only; everything here is documented with TSDoc.
 */
export { VERSION } from './version.js';
export { FoldsyncError, isFoldsyncError } from './lib/errors.js';
export type { Result } from './lib/result.js';
export { ok, fail } from './lib/result.js';
export { unreachable, assert } from './lib/assert.js';
export * from './lib/names.js';
export * from './lib/model.js';
export * from './events/types.js';
export type { Clock, VirtualClock } from './io/clock.js';
export { createSystemClock, createVirtualClock } from './io/clock.js';
export type { Ids } from './io/ids.js';
export { createRandomIds, createSequentialIds } from './io/ids.js';
export { BUILT_IN_IGNORES, TEMP_PREFIX, createPathFilter, isTempName } from './lib/filters.js';
export type { FilterVerdict, PathFilter } from './lib/filters.js';
export * from './lib/cloud-api.js';
export { RemoteError, readAll } from './io/remote-drive.js';
export type { RemoteDrive, RemoteTarget, UploadBody, UploadOptions, DownloadOptions, ChangesOptions } from './io/remote-drive.js';
export { createHttpRemoteDrive } from './io/http-remote-drive.js';
export type { HttpRemoteDriveOptions } from './io/http-remote-drive.js';
export { createSimCloud } from './io/sim-remote-drive.js';
export type { SimCloud, SimCloudOptions } from './io/sim-remote-drive.js';
export { startCloudServer } from './cloud/server.js';
export type { CloudServer, CloudServerOptions } from './cloud/server.js';
export { openCloudData } from './cloud/open-data.js';
export type { CloudData, OpenCloudDataOptions } from './cloud/open-data.js';
export { CloudError, CloudStartError } from './cloud/cloud-error.js';
export type { CloudStartCode } from './cloud/cloud-error.js';
export { createDiskBlobStore } from './cloud/blob-store.js';
export type { BlobStore } from './cloud/blob-store.js';
