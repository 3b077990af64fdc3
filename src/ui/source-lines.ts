/** The source panel's lines about a clip's audio and subtitles, as plain text. */

/** The audio as the file has it: the track a player picks, then how many others come along. */
export function audioLine(audio: {
  readonly codecName: string;
  readonly channels: number;
  readonly sampleRate: number;
  readonly copyable: boolean;
  readonly keptAs?: string;
  readonly label: string | null;
  readonly others: readonly string[];
}): string {
  const first =
    `${audio.codecName}, ${audio.channels} ch, ${audio.sampleRate} Hz` +
    (audio.label ? ` (${audio.label})` : '');
  const others = audio.others.length;
  // audio no output container holds (DTS, MP3 in AVI, 8-bit PCM ...) is left out at render
  if (!audio.copyable) {
    const lost = `${first} (left out: Upframe cannot copy this format)`;
    return others === 0
      ? lost
      : `${lost}, and ${others === 1 ? 'another track' : `${others} more tracks`}: ` +
          `${audio.others.join('; ')}`;
  }
  if (others === 0) return `${first} (kept ${audio.keptAs ? `as ${audio.keptAs}` : 'as is'})`;
  return (
    `${first}, and ${others === 1 ? 'another track' : `${others} more tracks`}: ` +
    `${audio.others.join('; ')} (kept as they are)`
  );
}

/**
 * The text subtitle tracks, by language: "2 tracks: English, Français (French) (kept, as SRT in
 * MKV)": not for a rotated clip, which stays MP4 (MKV cannot store its rotation), nor when the
 * person leaves them out (`wanted`).
 */
export function subtitleLine(
  labels: readonly string[],
  unrotated: boolean,
  wanted: boolean,
): string {
  const named = labels.map((l) => l || 'no language given');
  const count = labels.length === 1 ? 'a track' : `${labels.length} tracks`;
  const fate = !unrotated
    ? "left out: MKV cannot store this clip's rotation"
    : wanted
      ? 'kept, as SRT in MKV'
      : 'left out, as the settings say';
  return `${count}: ${named.join(', ')} (${fate})`;
}
