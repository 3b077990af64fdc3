import type { ErrorCode, ErrorInfo } from '../shared/errors.ts';

/** What a person can do next, for each error code (the message says what happened). */
const NEXT_STEP: Partial<Record<ErrorCode, string>> = {
  EMPTY_FILE: 'Pick the clip again; the file may not have finished copying.',
  UNSUPPORTED_CONTAINER:
    'A video converter (HandBrake, ffmpeg) can rewrite it as an MP4 file, which opens here.',
  UNSUPPORTED_CODEC:
    'A video converter (HandBrake, ffmpeg) can rewrite it as H.264 in MP4, which every browser ' +
    'with WebCodecs decodes.',
  CORRUPT_INPUT:
    'The file looks damaged or incomplete: try the original file again. Where only part of ' +
    'it is damaged, a render keeps the frames before that part.',
  NO_VIDEO_TRACK: 'Pick a file that contains video.',
  RESOLUTION_TOO_LARGE: 'Choose a smaller scale or a smaller frame range.',
  WEBGPU_UNAVAILABLE:
    'Switch the backend to "CPU (wasm)" in the settings: slower, but it works everywhere.',
  DEVICE_LOST:
    'The GPU was reset. Press Render again, or continue the render from the note at the top ' +
    'of the page when it kept frames.',
  OUT_OF_MEMORY: 'Choose a smaller tile size or a smaller model, or close other GPU-heavy tabs.',
  MODEL_LOAD_FAILED: 'Pick another model, or check the model address or folder.',
  MODEL_INTEGRITY: 'The model files do not match their checksums. Download the model pack again.',
  DISK_FULL:
    'Free some disk space, then render again, or continue the render from the note at the top ' +
    'of the page when it kept frames.',
  ENCODER_FAILED: 'Try another output codec (H.264 is the most widely supported).',
  INVALID_OPTION: 'Check the settings and try again.',
  SOURCE_UNAVAILABLE: 'Open the clip again (pick it or drop it on the page), then continue.',
  BUSY: 'Wait until the render in progress is done, or cancel it, then try again.',
  STALLED:
    'Press Render again, or continue the render from the note at the top of the page when it ' +
    'kept frames. If it stops at the same place again, the clip may be damaged there.',
};

export function nextStep(error: ErrorInfo): string {
  return NEXT_STEP[error.code] ?? 'Try again; if it keeps failing, reload the page.';
}
