import type { SubtitleCopy, SubtitleTrackInfo, TimeWindow } from './subtitle-text.ts';
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
  /** The audio track a player picks first: `audioTracks[0]`, or null without audio. */
  readonly audio: AudioTrackInfo | null;
  /**
   * Every audio track the file has and Upframe can read, the one a player picks first first,
   * then the others in file order (a film's other languages, a commentary). The enhanced file
   * keeps each one its container can hold.
   */
  readonly audioTracks: readonly AudioTrackInfo[];
  /** The text subtitle tracks the enhanced file keeps (Matroska's SRT, WebVTT and ASS). */
  readonly subtitleTracks: readonly SubtitleTrackInfo[];
  readonly warnings: readonly string[];
  /**
   * Each subtitle track's lines that show in the window, in the output's time: the ones with
   * none there are left out. Reads the window's stretch of the file.
   */
  readSubtitles(window: TimeWindow): Promise<SubtitleCopy[]>;
  /**
   * Packets with their bytes in decode order, read from the file as they are asked for;
   * `audioTrack` is an index into `audioTracks` (default the first).
   */
  read(
    kind: 'video' | 'audio',
    range?: ReadRange,
    audioTrack?: number,
  ): AsyncGenerator<EncodedSample>;
  close(): void;
}
