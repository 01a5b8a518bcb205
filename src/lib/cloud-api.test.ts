import { describe, expect, it } from 'vitest';
import { taskPermission, type SpaceRole } from './cloud-api.js';
import type { SpaceType, SyncMode } from './model.js';

// SPEC.md section 3, "Permissions": one row per role, one column per kind of space.
const table: [SpaceRole | null, SpaceType[], SyncMode[], SyncMode[]][] = [
  ['synchronizer', ['team', 'received-share'], ['two-way', 'upload'], []],
  ['backer', ['team', 'received-share'], ['upload'], ['two-way']],
  ['member', ['team', 'received-share'], [], ['two-way', 'upload']],
  [null, ['team', 'received-share'], [], ['two-way', 'upload']],
  ['owner', ['personal', 'received-transfer'], ['two-way', 'upload'], []],
];

describe('taskPermission (SPEC section 3)', () => {
  for (const [role, types, allowed, refused] of table) {
    for (const type of types) {
      for (const mode of allowed) it(`${role ?? 'neither'} on ${type}: ${mode} allowed`, () => { expect(taskPermission(type, role, mode).allowed).toBe(true); });
      for (const mode of refused) {
        it(`${role ?? 'neither'} on ${type}: ${mode} refused with a message`, () => {
          const verdict = taskPermission(type, role, mode);
          expect(verdict.allowed).toBe(false);
          expect(verdict.allowed ? '' : verdict.message).toMatch(/ask|choose/);
        });
      }
    }
  }
});
