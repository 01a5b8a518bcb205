/** Every persisted projection of the event log, as the projection store keeps them (ADR 0070). */
import { failedFilesProjection } from './failed-files.js';
import { fileStatusProjection } from './file-status.js';
import type { AnyPersistedProjection } from './projection.js';
import { taskRegistryProjection } from './task-registry.js';
import { taskSummariesProjection } from './task-summaries.js';

/** The projections a terminal's view store keeps up to date. */
export const ALL_PROJECTIONS: readonly AnyPersistedProjection[] = [taskRegistryProjection, taskSummariesProjection, failedFilesProjection, fileStatusProjection];
