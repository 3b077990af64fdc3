/**
 * The one store, split into slices (recovery, source, job, compare, settings). Actions are plain functions
 * that call setState, so they work outside components and in tests.
 */
import { create } from 'zustand';
import type { GpuStatus, JobResult } from '../worker/protocol.ts';
import type { PackIndexEntry, RecoverableRender, SourceSummary } from '../worker/protocol.ts';
import type { ModelChoice } from '../worker/settings.ts';
import type { ErrorInfo } from '../shared/errors.ts';
import type { FieldOrder } from '../shared/deinterlace-rows.ts';

export type { JobSettings } from '../worker/settings.ts';
export type { PackIndexEntry, RecoverableRender };

export interface SourceSlice {
  readonly file: File | null;
  /** Where the file came from when the browser says (a drop or the open picker), else null. */
  readonly handle: FileSystemFileHandle | null;
  readonly summary: SourceSummary | null;
  readonly probing: boolean;
  readonly error: ErrorInfo | null;
  /** The first frame (0-based) a preview found cannot be decoded, or null (none found). */
  readonly undecodableFrom: number | null;
  /** Why a clip just picked or dropped was not opened (a render was in progress), or null. */
  readonly refused: ErrorInfo | null;
}

export type JobPhase =
  'idle' | 'previewing' | 'running' | 'paused' | 'done' | 'failed' | 'canceled';

/** Where a finished render went: a file the person chose, or a download link we offer. */
export type SavedOutput = (
  | { readonly kind: 'file'; readonly name: string }
  | { readonly kind: 'download'; readonly name: string; readonly url: string }
) & {
  /** What the save says of the file (tracks left out), for the stopped render's note. */
  readonly notes?: readonly string[];
};

export interface JobSlice {
  readonly phase: JobPhase;
  readonly jobId: number;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly fps: number;
  /** Seconds left at the current speed, or null before it is known. */
  readonly etaSeconds: number | null;
  readonly result: Omit<JobResult, 'bytes'> | null;
  readonly saved: SavedOutput | null;
  readonly previewMs: number | null;
  /** The speedKey of the settings the preview was made with. */
  readonly previewKey: string | null;
  /** The model file being downloaded, while it is. */
  readonly modelLoad: {
    readonly file: string;
    readonly loaded: number;
    readonly total: number;
  } | null;
  readonly error: ErrorInfo | null;
  /** After the last frame: how much of the file is written (0..1), once known. */
  readonly writing: number | null;
  /**
   * Once the render has written some of its file: the finished file's size at the rate so far,
   * and what it will still write to disk (the rest, then the joined file).
   */
  readonly size: { readonly outputBytes: number; readonly bytesNeeded: number } | null;
  /** Cancel was pressed: the render stops after the frame in progress. */
  readonly canceling: boolean;
  /** Render was pressed and the render has not begun yet (its save dialog may be open). */
  readonly starting: boolean;
}

export type CompareMode = 'split' | 'side-by-side';

/** One processed frame as the scrubber shows it; both bitmaps are at the enhanced size. */
export interface ComparedFrame {
  readonly frameIndex: number;
  readonly timestampUs: number;
  /** The original scaled to the output size by the browser's smooth filter. */
  readonly beforeScaled: ImageBitmap;
  readonly after: ImageBitmap;
  /** What made `after` (outputKey of its settings), or null when not known (a continued render). */
  readonly madeWith: string | null;
  /** A frame of a render (not of a preview): the next render's frames replace them. */
  readonly fromRender: boolean;
}

/** Full-size frames kept for scrubbing; older ones are closed (a long clip must not grow memory). */
export const MAX_COMPARED_FRAMES = 24;

export interface CompareSlice {
  readonly frames: readonly ComparedFrame[];
  /** Which of `frames` is shown. */
  readonly index: number;
  readonly mode: CompareMode;
  /** Divider position as a fraction of the width, 0..1. */
  readonly split: number;
  /** 1 = fit; >1 zooms in. */
  readonly zoom: number;
  readonly panX: number;
  readonly panY: number;
}

export interface SettingsSlice {
  readonly gpu: GpuStatus | null;
  readonly packs: readonly PackIndexEntry[];
  readonly model: ModelChoice;
  readonly backend: 'webgpu' | 'wasm';
  readonly scale: 2 | 4;
  readonly codec: 'avc' | 'vp9' | 'av1';
  readonly quality: 'low' | 'medium' | 'high';
  /** Input pixels per tile side; 0 = automatic. */
  readonly tileSize: number;
  /** First and last frame (1-based, inclusive) as typed; null = whole clip. */
  readonly frameFrom: number | null;
  readonly frameTo: number | null;
  /** 1-based frame the preview enhances. */
  readonly previewFrame: number;
  /** Temporal fusion as the person set it; null = on (the default). */
  readonly temporal: boolean | null;
  /**
   * Keep a clip's subtitles (the file is then MKV); false = leave them out for an MP4 that
   * Apple's players play. Not kept across visits: each clip starts with its subtitles kept.
   */
  readonly keepSubtitles: boolean;
  /**
   * Deinterlacing as the person set it; null = when the clip may be interlaced, keeping the
   * field the stream says comes first; a field order = keeping that one.
   */
  readonly deinterlace: boolean | FieldOrder | null;
  /**
   * Why the scale was lowered when this clip was opened, or that the chosen scale and codec are
   * more than the browser's encoder takes (scale-fit.ts); null when neither.
   */
  readonly scaleNote: ScaleNote | null;
}

export interface ScaleNote {
  readonly kind: 'lowered' | 'misfit';
  readonly text: string;
}

/** Renders that stopped before they finished (the tab closed, the GPU was lost), kept in OPFS. */
export interface RecoverySlice {
  readonly renders: readonly RecoverableRender[];
  /** The render being saved or discarded, while it is. */
  readonly busy: string | null;
  /** Where the frames of a stopped render were saved, by render id. */
  readonly saved: Readonly<Record<string, SavedOutput>>;
  readonly error: ErrorInfo | null;
  /** Renders whose clip this browser can open again by itself (a stored handle), by render id. */
  readonly handles: Readonly<Record<string, FileSystemFileHandle>>;
  /** True once the page has looked for stopped renders (and stale downloads) at its start. */
  readonly checked: boolean;
}

/**
 * Finished renders offered as download links that the page has moved on from (another clip was
 * opened, or another render started): their files stay in OPFS while the tab lives, so their
 * links stay too. Browsers with a save dialog write into the picked file and have none.
 */
export interface DownloadsSlice {
  readonly earlier: readonly { readonly name: string; readonly url: string }[];
}

export interface AppState {
  readonly downloads: DownloadsSlice;
  readonly recovery: RecoverySlice;
  readonly source: SourceSlice;
  readonly job: JobSlice;
  readonly compare: CompareSlice;
  readonly settings: SettingsSlice;
}

export const initialState: AppState = {
  downloads: { earlier: [] },
  recovery: { renders: [], busy: null, saved: {}, error: null, handles: {}, checked: false },
  source: {
    file: null,
    handle: null,
    summary: null,
    probing: false,
    error: null,
    undecodableFrom: null,
    refused: null,
  },
  job: {
    phase: 'idle',
    jobId: 0,
    framesDone: 0,
    framesTotal: 0,
    fps: 0,
    etaSeconds: null,
    result: null,
    saved: null,
    previewMs: null,
    previewKey: null,
    modelLoad: null,
    error: null,
    writing: null,
    size: null,
    canceling: false,
    starting: false,
  },
  compare: { frames: [], index: 0, mode: 'split', split: 0.5, zoom: 1, panX: 0, panY: 0 },
  settings: {
    gpu: null,
    packs: [],
    model: { type: 'default' },
    backend: 'webgpu',
    scale: 4,
    codec: 'avc',
    quality: 'high',
    tileSize: 0,
    frameFrom: null,
    frameTo: null,
    previewFrame: 1,
    temporal: null,
    keepSubtitles: true,
    deinterlace: null,
    scaleNote: null,
  },
};

export const useStore = create<AppState>()(() => initialState);

export function resetStore(): void {
  useStore.setState(initialState, true);
}

export function updateSlice<K extends keyof AppState>(key: K, patch: Partial<AppState[K]>): void {
  useStore.setState((state) => ({ [key]: { ...state[key], ...patch } }));
}
