/**
 * The one store, split into slices (source, job, compare, settings). Actions are plain functions
 * that call setState, so they work outside components and in tests.
 */
import { create } from 'zustand';
import type { GpuStatus } from '../worker/protocol.ts';
import type { ErrorInfo } from '../shared/errors.ts';

export interface SourceSlice {
  readonly file: File | null;
  readonly error: ErrorInfo | null;
}

export type JobPhase = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'canceled';

export interface JobSlice {
  readonly phase: JobPhase;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly fps: number;
  readonly error: ErrorInfo | null;
}

export type CompareMode = 'split' | 'side-by-side';

/** One processed frame as the scrubber shows it; both bitmaps are at the enhanced size. */
export interface ComparedFrame {
  readonly frameIndex: number;
  readonly timestampUs: number;
  /** The original scaled to the output size by the browser's smooth filter. */
  readonly beforeScaled: ImageBitmap;
  readonly after: ImageBitmap;
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
  readonly backend: 'webgpu' | 'wasm';
  readonly scale: 2 | 4;
  readonly codec: 'avc' | 'vp9' | 'av1';
}

export interface AppState {
  readonly source: SourceSlice;
  readonly job: JobSlice;
  readonly compare: CompareSlice;
  readonly settings: SettingsSlice;
}

export const initialState: AppState = {
  source: { file: null, error: null },
  job: { phase: 'idle', framesDone: 0, framesTotal: 0, fps: 0, error: null },
  compare: { frames: [], index: 0, mode: 'split', split: 0.5, zoom: 1, panX: 0, panY: 0 },
  settings: { gpu: null, backend: 'webgpu', scale: 4, codec: 'avc' },
};

export const useStore = create<AppState>()(() => initialState);

export function resetStore(): void {
  useStore.setState(initialState, true);
}

export function updateSlice<K extends keyof AppState>(key: K, patch: Partial<AppState[K]>): void {
  useStore.setState((state) => ({ [key]: { ...state[key], ...patch } }));
}
