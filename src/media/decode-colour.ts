/** The colour space a video track is decoded with: container tags, stream tags, then a guess. */
import { av1CColour } from './av1-seq.ts';
import { avcCColour } from './h264-sps.ts';
import { resolveColorSpace } from './stream-colour.ts';

/**
 * For H.264 (avcC) and AV1 (av1C) the stream's own header is read, so an untagged picture is told
 * from a tagged one and decoded as players decode it (stream-colour.ts). Other codecs, and a
 * description that cannot be read, keep the container's tags and Chromium's defaults: Chromium
 * already takes BT.601 for untagged VP9, and HEVC does not decode here.
 */
export function decodeColorSpace(
  codec: string,
  container: VideoColorSpaceInit | null,
  description: Uint8Array | undefined,
  width: number,
  height: number,
): VideoColorSpaceInit | null {
  if (!description) return container;
  const fourcc = codec.slice(0, 4);
  const stream =
    fourcc === 'avc1' || fourcc === 'avc3'
      ? avcCColour(description)
      : fourcc === 'av01'
        ? av1CColour(description)
        : null;
  return resolveColorSpace(container, stream, width, height);
}
