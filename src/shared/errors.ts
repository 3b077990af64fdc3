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
  'BUSY',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
  /**
   * The frame (0-based) the failure is at, where there is one: for CORRUPT_INPUT from decoding,
   * the first frame that cannot be decoded (the frames before it can).
   */
  readonly frame?: number;
}

export class UpframeError extends Error implements ErrorInfo {
  readonly code: ErrorCode;
  readonly frame?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { readonly cause?: unknown; readonly frame?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpframeError';
    this.code = code;
    if (options?.frame !== undefined) this.frame = options.frame;
  }

  toInfo(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      ...(this.frame !== undefined ? { frame: this.frame } : {}),
    };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into an ErrorInfo; unknown failures become INTERNAL with their text. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof UpframeError) return err.toInfo();
  if (typeof err === 'object' && err !== null) {
    const rec = err as { code?: unknown; message?: unknown; name?: unknown; frame?: unknown };
    if (isErrorCode(rec.code) && typeof rec.message === 'string') {
      return {
        code: rec.code,
        message: rec.message,
        ...(Number.isInteger(rec.frame) ? { frame: rec.frame as number } : {}),
      };
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
  return new UpframeError(
    info.code,
    info.message,
    info.frame !== undefined ? { frame: info.frame } : undefined,
  );
}
