/**
 * Child process of src/media/damaged-input.test.ts: opens damaged copies of a fixture (cut
 * and/or overwritten with random bytes, seeded) and reads every video packet of each. Prints one
 * JSON line per copy before opening it (`{"seed":N}`) and one with its outcome after, so a copy
 * that hangs the reader is named by the last line the parent sees when it kills the process.
 * A child because a reader that spins without yielding blocks its thread, timers included.
 *
 * Copy 0 is not random: the file cut at 60 % with its first Matroska Cluster ID zeroed, so a
 * reader that resyncs there has to search to the end of the file for the next element.
 */
import { readFileSync } from 'node:fs';
import { openInput } from '../src/media/input.ts';
import { mulberry32 } from '../src/shared/random.ts';

const [path, first, count] = process.argv.slice(2);
const base = new Uint8Array(readFileSync(path!));
for (let seed = Number(first); seed < Number(first) + Number(count); seed++) {
  const rand = mulberry32(seed);
  const bytes =
    seed === 0
      ? base.slice(0, Math.floor(base.length * 0.6))
      : base.slice(0, rand() < 0.5 ? base.length : Math.floor(base.length * rand()));
  if (seed === 0) {
    const at = bytes.findIndex(
      (b, i) =>
        b === 0x1f && bytes[i + 1] === 0x43 && bytes[i + 2] === 0xb6 && bytes[i + 3] === 0x75,
    );
    if (at >= 0) bytes.fill(0, at, at + 4);
  }
  const hits = seed === 0 ? 0 : 1 + Math.floor(rand() * 4);
  for (let h = 0; h < hits; h++) {
    // half the damage lands in the first 2000 bytes, where the headers are
    const at = Math.floor(rand() * Math.min(bytes.length, rand() < 0.5 ? 2000 : bytes.length));
    const length = 1 + Math.floor(rand() * 8);
    for (let i = at; i < Math.min(bytes.length, at + length); i++) {
      bytes[i] = Math.floor(rand() * 256);
    }
  }
  console.log(JSON.stringify({ seed }));
  let outcome: { seed: number; frames?: number; code?: string; message?: string };
  try {
    const input = await openInput(new Blob([bytes]));
    let frames = 0;
    try {
      for await (const _packet of input.read('video')) frames++;
      outcome = { seed, frames };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      outcome = { seed, frames, code: e.code ?? 'THROWN', message: String(e.message ?? err) };
    }
    input.close();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    outcome = { seed, code: e.code ?? 'THROWN', message: String(e.message ?? err) };
  }
  console.log(JSON.stringify(outcome));
}
