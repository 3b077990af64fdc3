/** The colour space a video track is decoded with: container tags, stream tags, then a guess. */
import { av1CColour } from './av1-seq.ts';
import { avcCColour } from './h264-sps.ts';
import { resolveColorSpace, type StreamColour } from './stream-colour.ts';
import { vp9FrameColour, vpcCColour } from './vp9-header.ts';

/**
 * For H.264 (avcC), AV1 (av1C) and VP9 (vpcC and its first key frame's header) the stream's own
 * header is read, so an untagged picture is told from a tagged one and decoded as players decode
 * it (stream-colour.ts). Other codecs, and a header that cannot be read, keep the container's tags
 * and Chromium's defaults (HEVC does not decode here).
 *
 * `description` is the codec configuration record (avcC, av1C or vpcC payload); `keyFrame` the
 * start of the first frame, read only for VP9.
 */
export function decodeColorSpace(
  codec: string,
  container: VideoColorSpaceInit | null,
  description: Uint8Array | undefined,
  width: number,
  height: number,
  keyFrame?: Uint8Array,
): VideoColorSpaceInit | null {
  const fourcc = codec.slice(0, 4);
  let stream: StreamColour | null = null;
  if (fourcc === 'vp09') {
    // vpcC when it says something, else the key frame (a muxer may write vpcC unspecified while
    // the stream names its matrix), else vpcC's "unspecified"
    const record = description ? vpcCColour(description) : null;
    const frame = keyFrame ? vp9FrameColour(keyFrame) : null;
    stream = record?.described ? record : (frame ?? record);
  } else if (description) {
    stream =
      fourcc === 'avc1' || fourcc === 'avc3'
        ? avcCColour(description)
        : fourcc === 'av01'
          ? av1CColour(description)
          : null;
  }
  return resolveColorSpace(container, stream, width, height);
}
