/// <reference lib="webworker" />
/**
 * The probe worker's entry: reads what a clip holds, apart from the job worker, so a clip opens
 * while the job worker is busy (a preview's model run blocks it for seconds) and a reader that
 * hangs can be stopped without stopping a render (worker/client.ts, probeSource).
 */
import { probe } from '../media/index.ts';
import { serve } from './serve.ts';

serve({
  ping(input) {
    return Promise.resolve({ out: { echo: input.echo, at: Date.now() } });
  },
  async 'source.probe'(input) {
    return { out: await probe(input.file, { allowUndecodable: true }) };
  },
});
