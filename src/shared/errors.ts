/**
 * The one error type that crosses every boundary (worker, CLI, UI). The code is a closed union so
 * the UI can map every failure to a sentence and a next step; the message is for people.
 */
export const ERROR_CODES = [
  'UNSUPPORTED_CONTAINER',
  'UNSUPPORTED_CODEC',
  'CORRUPT_INPUT',
  'NO_VIDEO_TRACK',
  'EMPTY_FILE',
  'RESOLUTION_TOO_LARGE',
  'WEBGPU_UNAVAILABLE',
  'DEVICE_LOST',
  'OUT_OF_MEMORY',
  'MODEL_LOAD_FAILED',
  'MODEL_INTEGRITY',
  'EXPORT_CANCELED',
  'DISK_FULL',
  'ENCODER_FAILED',
  'INVALID_OPTION',
  'SOURCE_UNAVAILABLE',
  'STALLED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

export class UpframeError extends Error implements ErrorInfo {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpframeError';
    this.code = code;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into an ErrorInfo; unknown failures become INTERNAL with their text. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof UpframeError) return err.toInfo();
  if (typeof err === 'object' && err !== null) {
    const rec = err as { code?: unknown; message?: unknown; name?: unknown };
    if (isErrorCode(rec.code) && typeof rec.message === 'string') {
      return { code: rec.code, message: rec.message };
    }
    if (rec.name === 'QuotaExceededError') return diskFull().toInfo();
    if (typeof rec.message === 'string') return { code: 'INTERNAL', message: rec.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}

/** The browser's storage quota or the disk itself ran out while writing. */
export function diskFull(): UpframeError {
  return new UpframeError('DISK_FULL', 'The disk is full: free some space and try again.');
}

export function fromErrorInfo(info: ErrorInfo): UpframeError {
  return new UpframeError(info.code, info.message);
}
