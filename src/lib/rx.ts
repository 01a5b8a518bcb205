/**
 * The few RxJS values foldsync's modules use, imported from the modules that define them: the
 * package's index loads all of RxJS (some 170 ms of every `foldsync` start, ADR 0012). They are the
 * very objects `rxjs` exports (rx.test.ts checks it), so an embedder's operators work on ours.
 * RxJS is pinned to an exact version; a version that moves these paths fails that test.
 */
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
// Only the non-deprecated factory form is used (`throwError(() => error)`); the rule flags the re-export of its deprecated overload.
// eslint-disable-next-line @typescript-eslint/no-deprecated
export { throwError } from 'rxjs/internal/observable/throwError';
