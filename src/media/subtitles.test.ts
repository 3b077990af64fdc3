import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALL_FORMATS,
  BlobSource,
  BufferTarget,
  EncodedPacketSink,
  EncodedVideoPacketSource,
  Input,
  Mp4OutputFormat,
  Output,
  type EncodedPacket,
} from 'mediabunny';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath } from '../../test/media-fixtures.ts';
import { openInput } from './input.ts';
import { replaceAll } from './mkv-srt.ts';
import { sampleText } from './mp4-text.ts';
import {
  fromIndex,
  readMatroskaSubtitles,
  scanClusters,
  textSubtitleTracks,
  type Found,
} from './mkv-subtitles.ts';
import { matroskaHead, trackEntriesIn } from './mkv-tracks.ts';
import { chooseContainer, preferredContainer, SubtitleWriter } from './output.ts';
import { assembleParts, partExtent } from './parts.ts';
import {
  cueText,
  rangeWindow,
  styleAlignments,
  vttTime,
  webVttDocument,
  windowCues,
} from './subtitle-text.ts';
import { MemoryTarget } from './targets.ts';

let dir = '';
beforeAll(() => {
  ensureMediaFixtures();
  dir = mkdtempSync(join(tmpdir(), 'upframe-subtitles-'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ffmpeg's reading of a file's subtitle track `k`, as SRT (at the file's own times). */
function srtOf(bytes: Uint8Array, k: number): string {
  const path = join(dir, `out-${k}.mkv`);
  writeFileSync(path, bytes);
  const args = ['-v', 'error', '-copyts', '-i', path, '-map', `0:s:${k}`, '-f', 'srt', '-'];
  // (ffmpeg's SRT writer ends a cue's inner lines with CRLF)
  return execFileSync('ffmpeg', args, { encoding: 'utf8' }).replace(/\r\n/g, '\n');
}

function probeStreams(bytes: Uint8Array): string[] {
  const path = join(dir, 'probe.mkv');
  writeFileSync(path, bytes);
  const out = execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-show_entries', 'stream=codec_name:stream_tags=language,title'],
      ...['-show_entries', 'stream_disposition=default', '-of', 'compact=p=0:nk=1', path],
    ],
    { encoding: 'utf8' },
  );
  return out.trim().split('\n');
}

describe('Matroska text subtitles', () => {
  it('reads each text track and its lines as the file stores them, at ffprobe’s times', async () => {
    const blob = await openAsBlob(fixturePath('subtitled.mkv'));
    const head = (await matroskaHead(blob))!;
    const tracks = textSubtitleTracks(head.tracks);
    expect(tracks.map((t) => [t.kind, t.language, t.title, t.isDefault])).toEqual([
      ['srt', 'eng', null, false],
      ['ass', 'fra', 'Français', false],
    ]);
    // the ASS track's style table (its CodecPrivate) places its lines
    expect([tracks[0]!.alignments, tracks[1]!.alignments]).toEqual([undefined, { Default: 2 }]);
    const cues = await readMatroskaSubtitles(blob, head, tracks, -Infinity, Infinity);
    const probed = execFileSync(
      'ffprobe',
      [
        ...['-v', 'error', '-select_streams', 's', '-show_entries'],
        ...['packet=stream_index,pts_time,duration_time', '-of', 'csv=p=0'],
        fixturePath('subtitled.mkv'),
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .map((l) => l.split(',').map(Number));
    const ours = cues.flatMap((list, k) =>
      list.map((c) => [k + 2, c.startUs / 1e6, c.durationUs / 1e6]),
    );
    expect(ours).toEqual(
      probed.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!).map((p) => [p[0], p[1], p[2]]),
    );
    expect(cues[0]!.map((c) => c.text)).toEqual([
      'Hello <i>there</i>',
      'Second & line\r\nwith two rows',
      '{\\an8}Third',
    ]);
    expect(cues[1]![0]!.text).toBe('0,0,Default,,0,0,0,,{\\b1}Bonjour{\\b0}\\Nle monde');
  });

  it('finds the same lines through the index as by walking the clusters, and walks without one', async () => {
    const blob = await openAsBlob(fixturePath('subtitled.mkv'));
    const head = (await matroskaHead(blob))!;
    const wanted = new Set([3, 4]);
    const key = (f: Found) => [
      f.track,
      f.startUs,
      f.durationUs,
      new TextDecoder().decode(f.payload),
    ];
    const indexed = await fromIndex(blob, head, wanted, 1.5e6, 2.6e6);
    const scanned = await scanClusters(blob, head, wanted, 1.5e6, 2.6e6);
    expect(indexed!.map(key)).toEqual(scanned.map(key));
    // the range with its 10 s look-back: every line before 2.6 s
    expect(indexed!.map((f) => f.startUs)).toEqual([
      221_000, 521_000, 1_021_000, 2_021_000, 2_521_000,
    ]);
    // written to a pipe, ffmpeg makes no index (and sizes nothing: a live stream's layout)
    const piped = execFileSync('ffmpeg', [
      ...['-v', 'error', '-i', fixturePath('subtitled.mkv'), '-map', '0', '-c', 'copy'],
      ...['-f', 'matroska', 'pipe:1'],
    ]);
    const live = new Blob([piped]);
    const liveHead = (await matroskaHead(live))!;
    expect(liveHead.cuesAt).toBeNull();
    expect(await fromIndex(live, liveHead, wanted, -Infinity, Infinity)).toBeNull();
    const walked = await scanClusters(live, liveHead, wanted, -Infinity, Infinity);
    expect(walked.map(key)).toEqual(
      (await scanClusters(blob, head, wanted, -Infinity, Infinity)).map(key),
    );
    // an index that lists one subtitle track but not the other is not used
    expect(await fromIndex(blob, head, new Set([3, 9]), -Infinity, Infinity)).toBeNull();
  });

  it('walks the cluster before the look-back too, for a line that still shows when the range starts', async () => {
    // clusters 12 s long (mkvmerge makes 5 s ones), a line from 1.5 s to 11.5 s
    const srt = join(dir, 'long.srt');
    writeFileSync(
      srt,
      '1\n00:00:01,500 --> 00:00:11,500\nLong line\n\n2\n00:00:12,500 --> 00:00:13,000\nLate\n',
    );
    const path = join(dir, 'long-clusters.mkv');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=4', '-i', srt],
      ...['-map', '0', '-map', '1', '-t', '14', '-c:v', 'libx264', '-g', '48', '-c:s', 'srt'],
      ...['-cluster_time_limit', '12000', '-cluster_size_limit', '100000000', path],
    ]);
    const blob = await openAsBlob(path);
    const head = (await matroskaHead(blob))!;
    const lines = await scanClusters(blob, head, new Set([2]), 11e6, 14e6);
    expect(lines.map((f) => f.startUs)).toEqual([1.5e6, 12.5e6]);
    // the index finds it by the line's own time
    const indexed = await fromIndex(blob, head, new Set([2]), 11e6, 14e6);
    expect(indexed!.map((f) => f.startUs)).toEqual([1.5e6, 12.5e6]);
  });

  it('reads only the lines that show in a range, cut to it and moved to its start', async () => {
    const input = await openInput(await openAsBlob(fixturePath('subtitled.mkv')));
    try {
      expect(input.warnings.join(' ')).not.toContain('Left out');
      const copies = await input.readSubtitles({ fromUs: 1.5e6, toUs: 2.6e6, shiftUs: 1.5e6 });
      // SRT: line 2 (1.021-1.821 s) from 1.5 s, line 3 (2.521 s) up to 2.6 s; ASS: line 1 ends
      // at 1.521 s, line 2 is 2.021-3.021 s
      expect(copies.map((c) => c.cues.map((q) => [q.startUs, q.durationUs, q.text]))).toEqual([
        [
          [0, 321_000, 'Second & line\nwith two rows'],
          [1_021_000, 79_000, '{\\an8}Third'],
        ],
        [
          [0, 21_000, 'Bonjour\nle monde'],
          [521_000, 579_000, 'Au revoir, ami'],
        ],
      ]);
      // a range with no line of a track leaves that track out
      const later = await input.readSubtitles({ fromUs: 3.2e6, toUs: 4e6, shiftUs: 3.2e6 });
      expect(later.map((c) => [c.info.kind, c.cues.length])).toEqual([['srt', 1]]);
    } finally {
      input.close();
    }
  });

  it('keeps text tracks, also compressed ones, and leaves pictures (PGS) and encrypted ones', () => {
    const str = (id: number[], text: string) => [...id, 0x80 | text.length, ...Buffer.from(text)];
    const entry = (fields: number[]) => [0xae, 0x80 | fields.length, ...fields];
    // ContentEncodings { ContentEncoding { ContentEncodingType t, ContentCompression { Algo 0 } } }
    const encodings = (type: number) => [
      ...[0x6d, 0x80, 0x8e, 0x62, 0x40, 0x8b, 0x50, 0x33, 0x81, type],
      ...[0x50, 0x34, 0x84, 0x42, 0x54, 0x81, 0x00],
    ];
    const tracks = Uint8Array.from([
      ...entry([0xd7, 0x81, 3, 0x83, 0x81, 0x11, ...str([0x86], 'S_HDMV/PGS')]),
      ...entry([0xd7, 0x81, 4, 0x83, 0x81, 0x11, ...str([0x86], 'S_TEXT/UTF8'), ...encodings(0)]),
      ...entry([0xd7, 0x81, 5, 0x83, 0x81, 0x11, ...str([0x86], 'S_TEXT/ASS'), ...encodings(1)]),
      ...entry([0xd7, 0x81, 6, 0x83, 0x81, 0x11, ...str([0x86], 'S_TEXT/WEBVTT')]),
    ]);
    const entries = trackEntriesIn(tracks);
    expect(entries.map((e) => [e.number, e.codecId, e.encoding.kind, e.language])).toEqual([
      [3, 'S_HDMV/PGS', 'none', 'eng'],
      [4, 'S_TEXT/UTF8', 'zlib', 'eng'],
      [5, 'S_TEXT/ASS', 'other', 'eng'],
      [6, 'S_TEXT/WEBVTT', 'none', 'eng'],
    ]);
    expect(textSubtitleTracks(entries).map((t) => [t.id, t.kind])).toEqual([
      [4, 'srt'],
      [6, 'webvtt'],
    ]);
  });

  it('gives each kind of line the text SRT shows', () => {
    // a position tag, where a converter left it, is kept first (SRT readers take it at the start)
    expect(cueText('srt', '<i>Hi</i> & <font color="red">you</font>\r\n\r\n{\\an8}up')).toBe(
      '{\\an8}<i>Hi</i> & <font color="red">you</font>\nup',
    );
    expect(cueText('srt', '{\\an2}{\\b1}low')).toBe('low');
    expect(cueText('ass', '3,0,Sign,Bob,0,0,0,,{\\pos(1,2)}A, B\\Nnext\\hword')).toBe(
      'A, B\nnext word',
    );
    expect(cueText('webvtt', '<v Bob>Tom &amp; <c.loud>Jerry</c></v> &lt;3\n<I>x</I>')).toBe(
      'Tom & Jerry <3\n<i>x</i>',
    );
    // a blank line would end the cue, and an arrow would start one
    expect(cueText('srt', 'a --> b\n \nc')).toBe('a -> b\nc');
    expect(cueText('ass', '0,0,Default,,0,0,0,,{\\b1}')).toBe('');
    // a drawn shape (a sign's mask) is no text; the words after it are
    expect(cueText('ass', '0,0,Sign,,0,0,0,,{\\an7\\p1}m 0 0 l 100 0 100 100{\\p0}EXIT')).toBe(
      '{\\an7}EXIT',
    );
    expect(cueText('ass', '0,0,Sign,,0,0,0,,{\\p2}m 0 0 l 1 1')).toBe('');
  });

  it('keeps where an ASS line sits: its first alignment tag, else its style’s, bottom centre unsaid', () => {
    const header =
      '[Script Info]\r\nScriptType: v4.00+\r\n\r\n[V4+ Styles]\r\n' +
      'Format: Name, Fontname, Fontsize, Alignment, MarginV\r\n' +
      'Style: Default,Arial,20,2,10\r\nStyle: Top,Arial,20,8,10\r\nStyle: Sign left,Arial,20,4,0\r\n' +
      'Style: Broken,Arial,20,12,0\r\n\r\n[Events]\r\nFormat: Layer, Start, End, Style, Text\r\n';
    const styles = styleAlignments(header);
    expect(styles).toEqual({ Default: 2, Top: 8, 'Sign left': 4 });
    // SSA (v4) counts 1-3 along the bottom, +4 on top, +8 in the middle
    const ssa = styleAlignments(
      '[V4 Styles]\nFormat: Name, Alignment, Fontname\nStyle: Low,1,Arial\nStyle: High,6,Arial\nStyle: Mid,11,Arial\n',
    );
    expect(ssa).toEqual({ Low: 1, High: 8, Mid: 6 });
    const line = (style: string, text: string) =>
      cueText('ass', `1,0,${style},,0,0,0,,${text}`, styles);
    expect(line('Default', 'Low')).toBe('Low');
    expect(line('Top', 'Up\\Nthere')).toBe('{\\an8}Up\nthere');
    expect(line('Sign left', 'Exit')).toBe('{\\an4}Exit');
    // an unknown style is the Default one; the first override wins, SSA's \a too
    expect(line('Nobody', 'x')).toBe('x');
    expect(line('Default', '{\\an9}a{\\an1}b')).toBe('{\\an9}ab');
    expect(line('Top', '{\\a2}y')).toBe('y');
    expect(line('Default', '{\\a6\\alpha&H80&}z')).toBe('{\\an8}z');
    expect(line('Default', '{\\alpha&H80&}w')).toBe('w');
    // the first tag in a block counts too, and a style name is only a name
    expect(line('Default', '{\\a6\\an2}t')).toBe('{\\an8}t');
    expect(line('toString', 'n')).toBe('n');
    expect(cueText('srt', '{\\an8\\i1}up')).toBe('{\\an8}up');
    // without a style table the line is placed by its tags only
    expect(cueText('ass', '1,0,Top,,0,0,0,,v')).toBe('v');
  });

  it('writes times as WebVTT does, and a window of the whole clip keeps the file’s clock and ends with its last frame', () => {
    expect(vttTime(3_723_004_600)).toBe('01:02:03.005');
    expect(vttTime(-5)).toBe('00:00:00.000');
    expect(webVttDocument([{ startUs: 500_000, durationUs: 1_000_000, text: 'a\nb' }])).toBe(
      'WEBVTT\n\n00:00:00.500 --> 00:00:01.500\na\nb\n',
    );
    const timing = { timestampsUs: [0, 40_000, 80_000, 120_000], averageFps: 25 };
    // up to where the last frame ends
    expect(rangeWindow(timing, 0, 4)).toEqual({ fromUs: -Infinity, toUs: 160_000, shiftUs: 0 });
    expect(rangeWindow(timing, 1, 3)).toEqual({ fromUs: 40_000, toUs: 120_000, shiftUs: 40_000 });
    expect(rangeWindow(timing, 2, 4)).toEqual({ fromUs: 80_000, toUs: 160_000, shiftUs: 80_000 });
    // in start order, and a line under a millisecond long goes
    const cues = [
      { startUs: 2e6, durationUs: 1e6, text: 'b' },
      { startUs: 1e6, durationUs: 3e6, text: 'a' },
      { startUs: 3.9996e6, durationUs: 1e6, text: 'c' },
    ];
    expect(
      windowCues('srt', cues, { fromUs: 0, toUs: 4e6, shiftUs: 0 }).map((c) => c.text),
    ).toEqual(['a', 'b']);
    // a sign drawn twice (outline and fill) is one line
    const twice = [
      { startUs: 1e6, durationUs: 1e6, text: '1,1,Sign,,0,0,0,,{\\bord4}EXIT' },
      { startUs: 1e6, durationUs: 1e6, text: '0,0,Sign,,0,0,0,,EXIT' },
    ];
    expect(windowCues('ass', twice, { fromUs: 0, toUs: 4e6, shiftUs: 0 })).toHaveLength(1);
  });

  it('renames WebVTT track headers to SRT without moving a byte', () => {
    const id = [0x86, 0x8d, ...[...'S_TEXT/WEBVTT'].map((c) => c.charCodeAt(0))];
    const data = Uint8Array.from([1, ...id, 2, ...id]);
    const { data: out, count } = replaceAll(
      data,
      Uint8Array.from(id),
      Uint8Array.from([0x86, 0x8d, ...[...'S_TEXT/UTF8'].map((c) => c.charCodeAt(0)), 0, 0]),
    );
    expect(count).toBe(2);
    expect(out.length).toBe(data.length);
    expect(new TextDecoder().decode(out.subarray(3, 16))).toBe('S_TEXT/UTF8\0\0');
    expect(data[3]).toBe('S'.charCodeAt(0)); // the muxer's own buffer is not changed
  });

  it('prefers MKV for a clip with text subtitles, where they are kept', () => {
    expect(chooseContainer(undefined, 'avc', 'aac')).toBe('mp4');
    expect(chooseContainer(undefined, 'avc', 'aac', [], true)).toBe('mkv');
    expect(chooseContainer('mp4', 'avc', 'aac', [], true)).toBe('mp4');
    expect(preferredContainer('vp9', 'opus', 0)).toBe('webm');
    expect(preferredContainer('vp9', 'opus', 0, [], true)).toBe('mkv');
    // MKV cannot store a rotation: a phone's clip stays the right way up, its subtitles go
    expect(preferredContainer('avc', 'aac', 90, [], true)).toBe('mp4');
    const copy = {
      info: {
        id: 2,
        kind: 'text' as const,
        language: 'eng',
        title: null,
        isDefault: true,
        forced: false,
        hearingImpaired: false,
      },
      cues: [{ startUs: 0, durationUs: 1e6, text: 'Hi' }],
    };
    expect(new SubtitleWriter('mp4', [copy], true).warnings).toEqual([
      "The clip's subtitle track was left out: MKV, the one file type Upframe keeps them in, " +
        "cannot store this clip's rotation.",
    ]);
  });
});

describe('MP4 timed text (tx3g)', () => {
  it('reads each track with its language, title and enabled flag, and its lines with their bold and italics', async () => {
    const input = await openInput(await openAsBlob(fixturePath('subtitled.mp4')));
    try {
      expect(input.warnings).toEqual([]);
      const tracks = input.subtitleTracks.map((t) => [t.kind, t.language, t.title, t.isDefault]);
      expect(tracks).toEqual([
        ['text', 'eng', null, false],
        ['text', 'fra', 'Français', true],
      ]);
      // (the gaps between lines go)
      const copies = await input.readSubtitles({ fromUs: 1e6, toUs: Infinity, shiftUs: 1e6 });
      expect(copies.map((c) => c.cues.map((q) => [q.startUs, q.durationUs, q.text]))).toEqual([
        [
          [21_000, 800_000, 'Second & line\nwith two rows'],
          [1_521_000, 1_000_000, 'Third'],
        ],
        [
          [0, 521_000, '<b>Bonjour</b>\nle monde'],
          [1_021_000, 1_000_000, 'Au revoir, ami'],
        ],
      ]);
    } finally {
      input.close();
    }
  });

  it('reads a sample’s text: its length first, UTF-8 or UTF-16 after a byte-order mark', () => {
    expect(sampleText(Uint8Array.from([0, 3, 0x48, 0x69, 0x21, 0, 0, 0, 8]))).toBe('Hi!');
    expect(sampleText(Uint8Array.from([0, 6, 0xfe, 0xff, 0, 0x48, 0, 0xe9]))).toBe('Hé');
    expect(sampleText(Uint8Array.from([0, 0]))).toBe('');
    // a length past the sample reads what is there
    expect(sampleText(Uint8Array.from([0, 9, 0x41]))).toBe('A');
    // a 'styl' box: characters 1-3 bold and italic, 4-5 underlined (offsets in characters: é is
    // two bytes), colours and sizes dropped
    const text = [...new TextEncoder().encode('éabcde')];
    const record = (from: number, to: number, face: number) => [
      0,
      from,
      0,
      to,
      0,
      1,
      face,
      18,
      255,
      255,
      255,
      255,
    ];
    const styl = [
      0,
      0,
      0,
      34,
      ...[...'styl'].map((c) => c.charCodeAt(0)),
      0,
      2,
      ...record(1, 3, 3),
      ...record(4, 5, 4),
    ];
    expect(sampleText(Uint8Array.from([0, text.length, ...text, ...styl]))).toBe(
      'é<b><i>ab</i></b>c<u>d</u>e',
    );
  });
});

/** A render part (fragmented MP4) of the first `n` frames of subtitled.mkv's video. */
async function partOf(n: number): Promise<Blob> {
  const input = new Input({
    source: new BlobSource(await openAsBlob(fixturePath('subtitled.mkv'))),
    formats: ALL_FORMATS,
  });
  const track = (await input.getPrimaryVideoTrack())!;
  const config = (await track.getDecoderConfig())!;
  const packets: EncodedPacket[] = [];
  for await (const p of new EncodedPacketSink(track).packets()) packets.push(p);
  input.dispose();
  const target = new BufferTarget();
  const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'fragmented' }), target });
  const source = new EncodedVideoPacketSource('avc');
  output.addVideoTrack(source);
  await output.start();
  for (const [i, p] of packets.slice(0, n).entries()) {
    await source.add(p, i === 0 ? { decoderConfig: config } : undefined);
  }
  await output.finalize();
  return new Blob([target.buffer!]);
}

describe('the join keeps the subtitles', () => {
  it('as SRT tracks in MKV, with their language, title and flags, cut at the last frame', async () => {
    const input = await openInput(await openAsBlob(fixturePath('subtitled.mkv')));
    const subtitles = await input.readSubtitles({ fromUs: -Infinity, toUs: Infinity, shiftUs: 0 });
    input.close();
    const part = await partOf(96);
    const whole = new MemoryTarget();
    const result = await assembleParts([{ blob: part }], whole, {
      container: null,
      complete: true,
      subtitles,
    });
    expect([result.container, result.subtitleTracks]).toEqual(['mkv', 2]);
    expect(result.warnings).toEqual([
      'The styled (ASS) subtitles keep their words, line breaks and side of the screen, not ' +
        'their fonts, colours or exact position.',
    ]);
    const bytes = whole.bytes();
    expect(probeStreams(bytes)).toEqual(['h264|1', 'subrip|0|eng', 'subrip|0|fra|Français']);
    expect(srtOf(bytes, 0)).toBe(
      '1\n00:00:00,221 --> 00:00:00,921\nHello <i>there</i>\n\n' +
        '2\n00:00:01,021 --> 00:00:01,821\nSecond & line\nwith two rows\n\n' +
        '3\n00:00:02,521 --> 00:00:03,521\n{\\an8}Third\n\n',
    );
    expect(srtOf(bytes, 1)).toBe(
      '1\n00:00:00,521 --> 00:00:01,521\nBonjour\nle monde\n\n' +
        '2\n00:00:02,021 --> 00:00:03,021\nAu revoir, ami\n\n',
    );

    // saved as far as it got (its last frame ends at about 1.1 s): the lines up to there
    const cut = await partOf(26);
    const extent = await partExtent(cut);
    const saved = new MemoryTarget();
    const partial = await assembleParts([{ blob: cut.slice(0, extent.bytes) }], saved, {
      container: 'mkv',
      complete: false,
      subtitles,
    });
    const endMs = Math.round(partial.durationSeconds * 1000) + 21;
    expect(srtOf(saved.bytes(), 0)).toBe(
      '1\n00:00:00,221 --> 00:00:00,921\nHello <i>there</i>\n\n' +
        `2\n00:00:01,021 --> 00:00:01,${String(endMs - 1000).padStart(3, '0')}\n` +
        'Second & line\nwith two rows\n\n',
    );

    // MP4 (asked for) cannot hold them so that players show them: left out, and said
    const mp4 = new MemoryTarget();
    const asMp4 = await assembleParts([{ blob: part }], mp4, {
      container: 'mp4',
      complete: true,
      subtitles,
    });
    expect(asMp4.subtitleTracks).toBe(0);
    expect(asMp4.warnings).toContain(
      "The clip's 2 subtitle tracks were left out: only an MKV file keeps them.",
    );
  });
});
