/** Job settings shared by the UI, the harness and the worker (plain data, cloneable). */
import type {
  FieldOrder,
  OutputContainer,
  QualityChoice,
  VideoCodecChoice,
} from '../media/index.ts';
import type { Backend } from './protocol.ts';

export type { OutputContainer, VideoCodecChoice };

export type ModelChoice =
  | { readonly type: 'none' }
  | { readonly type: 'default' }
  | { readonly type: 'builtin'; readonly name: string }
  // `scale`: what the pack's manifest says it upscales by, where the page has read it (it names
  // the file and asks the encoder for that size); a pack that turns out otherwise is refused
  | { readonly type: 'url'; readonly url: string; readonly scale?: number }
  | { readonly type: 'files'; readonly files: readonly File[]; readonly scale?: number };

export interface JobSettings {
  readonly model: ModelChoice;
  readonly backend: Backend;
  readonly codec: VideoCodecChoice;
  readonly quality: QualityChoice;
  /** Input pixels per tile side; 0 = automatic. */
  readonly tileSize: number;
  /** Shown-frame indices, end exclusive; null = the whole clip. */
  readonly frameRange: { readonly start: number; readonly end: number } | null;
  /** Output container; null = MP4 unless the audio needs WebM/MKV. */
  readonly container: OutputContainer | null;
  /**
   * Temporal fusion: null = on (the default). For `sr` packs it is the training-free CFR of
   * engine/temporal-cfr.ts, for Upframe-lite its learned CFR; DLoRAL always fuses.
   */
  readonly temporal: boolean | null;
  /**
   * Deinterlacing (media/deinterlace.ts): null = when the video may hold fields (H.264 whose
   * SPS allows them), true = always, false = never, a field order = always, keeping that field
   * whatever the stream says (for streams that say nothing, or say it wrongly). Optional for
   * callers from before it.
   */
  readonly deinterlace?: boolean | FieldOrder | null;
}

export const DEFAULT_SETTINGS: JobSettings = {
  model: { type: 'default' },
  backend: 'webgpu',
  codec: 'avc',
  quality: 'high',
  tileSize: 0,
  frameRange: null,
  container: null,
  temporal: null,
  deinterlace: null,
};
