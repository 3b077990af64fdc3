/**
 * The finished file's size at the rate the part grows, and what the render still needs on disk:
 * the rest of the part, then the whole file again (the join writes it while the parts are still
 * there). The part grows a fragment at a time (a header first), so the rate is taken between the
 * first size seen and the last change, over whole fragments, once one has landed. Rough: the rate
 * changes with the pictures.
 */
export class PartSize {
  private first: { frames: number; bytes: number } | null = null;
  private last: { frames: number; bytes: number } | null = null;

  observe(
    p: { framesDone: number; framesTotal: number; framesThisRun: number },
    partBytes: number,
  ): { size?: { outputBytes: number; bytesNeeded: number } } {
    const now = { frames: p.framesThisRun, bytes: partBytes };
    if (!this.first) this.first = now;
    else if (partBytes !== (this.last ?? this.first).bytes) this.last = now;
    const { first, last } = this;
    if (!last || last.frames <= first.frames) return {};
    const perFrame = (last.bytes - first.bytes) / (last.frames - first.frames);
    const outputBytes = Math.round(perFrame * p.framesTotal);
    const rest = Math.round(perFrame * Math.max(0, p.framesTotal - p.framesDone));
    return { size: { outputBytes, bytesNeeded: rest + outputBytes } };
  }
}
