import type { AudioTrackInfo, ContainerKind, EncodedSample, VideoTrackInfo } from './types.ts';

/** Decode-order packet indices, `to` exclusive. */
export interface ReadRange {
  readonly from: number;
  readonly to: number;
}

/**
 * One opened file (mediabunny's "Input"): its tracks, and a packet reader per track. Two
 * implementations: mp4box for MP4/MOV/M4V, mediabunny for WebM/MKV and fragmented MP4.
 */
export interface MediaInput {
  readonly blob: Blob;
  readonly container: ContainerKind;
  readonly video: VideoTrackInfo | null;
  readonly audio: AudioTrackInfo | null;
  readonly warnings: readonly string[];
  /** Packets with their bytes in decode order, read from the file as they are asked for. */
  read(kind: 'video' | 'audio', range?: ReadRange): AsyncGenerator<EncodedSample>;
  close(): void;
}
