/** Human-readable byte size with binary units, e.g. 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit] ?? 'B'}`;
}

/** Seconds to "h:mm:ss" or "m:ss". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A rough length of time in words, rounded down (it is said as a floor: "at least 14 min"):
 * "0.2 s", "40 s", "14 min", "3 h 5 min", "23 days".
 */
export function formatRoughly(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`;
  if (seconds < 90) return `${Math.floor(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  if (minutes < 48 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  return `${Math.floor(minutes / (24 * 60))} days`;
}

/**
 * A part of a whole, both in seconds: "1.8 s of 2.0 s" under a minute (where "0:02 of 0:02"
 * would hide the difference), "12:40 of 1:30:00" above.
 */
export function formatPartOf(part: number, whole: number): string {
  if (whole < 60) return `${part.toFixed(1)} s of ${whole.toFixed(1)} s`;
  return `${formatDuration(part)} of ${formatDuration(whole)}`;
}

let languages: Intl.DisplayNames | null | undefined;

/**
 * A track's language as people say it ("French" for "fra"; ISO 639-2 codes, the bibliographic
 * ones such as "ger" too), or the code itself where it has no English name ("qaa", reserved).
 */
export function languageName(code: string): string {
  if (languages === undefined) {
    try {
      languages = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });
    } catch {
      languages = null;
    }
  }
  try {
    return languages?.of(code) ?? code;
  } catch {
    return code; // not a well-formed language tag
  }
}
