import { UpframeError } from './errors.ts';

/** Internal invariant: a failure here is a bug in Upframe, never bad user input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new UpframeError('INTERNAL', `Internal error: ${message}`);
}

export function assertNever(value: never, what = 'value'): never {
  throw new UpframeError('INTERNAL', `Internal error: unexpected ${what} ${JSON.stringify(value)}`);
}
