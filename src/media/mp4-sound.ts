/** The sound tracks of an mp4box-parsed MP4/MOV: which ones Upframe reads, in which order, named how. */
import type { ISOFile, Movie, Track } from 'mp4box';
import { trackLanguage } from './codecs.ts';
import { isPcmEntry, parsePcmEntry, type PcmFormat } from './mov-tracks.ts';
import { isSound, playedFirst, sampleEntry, trak, type BoxLike } from './mp4-boxes.ts';

/**
 * A file's sound tracks: those Upframe reads (PCM, whose sample entry is read here from the
 * file's own bytes, and what mp4box knows), the one a player picks first first, then in file
 * order; and how many it cannot read.
 */
export interface SoundTracks {
  readonly readable: readonly Track[];
  readonly pcm: ReadonlyMap<number, PcmFormat | null>;
  readonly unreadable: number;
}

export async function soundTracks(blob: Blob, file: ISOFile, movie: Movie): Promise<SoundTracks> {
  const all = [...movie.audioTracks, ...movie.otherTracks]
    .filter((t) => isSound(file, t))
    .sort((a, b) => a.id - b.id);
  const pcm = new Map<number, PcmFormat | null>();
  for (const track of all) {
    const entry = sampleEntry(file, track.id) as BoxLike | undefined;
    if (!entry?.type || !isPcmEntry(entry.type)) continue;
    const at = entry.start ?? -1;
    const size = entry.size ?? 0;
    const bytes =
      at >= 0 && size >= 8 && at + size <= blob.size
        ? new Uint8Array(await blob.slice(at, at + size).arrayBuffer())
        : new Uint8Array(0);
    pcm.set(track.id, parsePcmEntry(bytes));
  }
  const readable = all.filter((t) => pcm.has(t.id) || movie.audioTracks.includes(t));
  const first = playedFirst(file, readable);
  return {
    readable: first ? [first, ...readable.filter((t) => t !== first)] : [],
    pcm,
    unreadable: all.length - readable.length,
  };
}

/**
 * QuickTime's Macintosh language codes (mdhd values under 0x400, which QuickTime writers and
 * ffmpeg's MOV mode use for the languages that have one), as ISO 639-2/T: from Apple's
 * QuickTime File Format, "Macintosh language codes". 0x7FFF says none.
 */
const MAC_LANGUAGES: Readonly<Record<number, string>> = {
  ...Object.fromEntries(
    (
      'eng fra deu ita nld swe spa dan por nor heb jpn ara fin ell isl mlt tur hrv zho urd hin ' +
      'tha kor lit pol hun est lav sme fao fas rus zho nld gle sqi ron ces slk slv yid srp mkd ' +
      'bul ukr bel uzb kaz aze aze hye kat ron kir tgk tuk mon mon pus kur kas snd bod nep san ' +
      'mar ben asm guj pan ori mal kan tam tel sin mya khm lao vie ind tgl msa msa amh tir orm ' +
      'som swa kin run nya mlg epo'
    )
      .split(' ')
      .map((code, i) => [i, code]),
  ),
  ...Object.fromEntries(
    'cym eus cat lat que grn aym tat uig dzo jav'.split(' ').map((code, i) => [128 + i, code]),
  ),
};

/**
 * The language of the mdhd (a Macintosh code in a QuickTime file, else the packed ISO code
 * mp4box reads; 'und' says none) and the title ffmpeg and other writers keep in the track's
 * udta 'name' box ("Commentary").
 */
export function trackNames(
  file: ISOFile,
  track: Track,
): { language: string | null; title: string | null } {
  const udta = (trak(file, track.id) as unknown as { udta?: { boxes?: unknown[] } } | undefined)
    ?.udta;
  const box = udta?.boxes?.find((b) => (b as { type?: string }).type === 'name') as
    { data?: ArrayLike<number> } | undefined;
  const bytes = box?.data ? Uint8Array.from(box.data) : null;
  const title = bytes ? new TextDecoder().decode(bytes).replace(/\0+$/, '').trim() : '';
  const mdhd = (trak(file, track.id) as unknown as { mdia?: { mdhd?: { language?: number } } })
    ?.mdia?.mdhd;
  const raw = mdhd?.language;
  const language =
    raw !== undefined && raw < 0x400 ? (MAC_LANGUAGES[raw] ?? null) : trackLanguage(track.language);
  return { language, title: title || null };
}
