/** Facts about planned actions that the engine and the views share. Pure. */
import { unreachable } from './assert.js';
import type { Action, Side } from './model.js';
import type { RelPath } from './names.js';

/** The path an action is about, as shown to users: the destination for moves and renames. */
export function actionPath(action: Action): RelPath {
  switch (action.op) {
    case 'upload':
    case 'download':
    case 'cloud-mkdir':
    case 'local-mkdir':
    case 'cloud-delete':
    case 'local-delete':
    case 'link':
    case 'forget':
    case 'reject':
      return action.path;
    case 'cloud-move':
    case 'local-move':
    case 'conflict-rename':
      return action.to;
    default:
      return unreachable(action, 'action');
  }
}

/** Bytes an action transfers: the file's size for uploads and downloads, 0 otherwise. */
export function actionBytes(action: Action): number {
  if (action.op === 'upload') return action.local.size;
  if (action.op === 'download') return action.cloud.size;
  return 0;
}

/** The side an action changes, or null when it changes none (link, forget, reject). */
export function actionSide(action: Action): Side | null {
  switch (action.op) {
    case 'upload':
    case 'cloud-mkdir':
    case 'cloud-move':
    case 'cloud-delete':
      return 'cloud';
    case 'download':
    case 'local-mkdir':
    case 'local-move':
    case 'local-delete':
      return 'local';
    case 'conflict-rename':
      return action.side;
    case 'link':
    case 'forget':
    case 'reject':
      return null;
    default:
      return unreachable(action, 'action');
  }
}
