import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, verifyFile } from '../../src/engine/manifest.ts';
import type { TensorRange } from '../../src/kernels/frame-tensor/frame-tensor.ts';
import { randomFloats } from '../../src/shared/random.ts';
import { buildPack, packName, SCALES } from './convert.ts';
import { readLayersModel } from './layers-model.ts';
import { esrganSource, SIZES } from './sources.ts';

ort.env.wasm.numThreads = 1;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SPAN: Record<TensorRange, [number, number]> = {
  '0,255': [0, 255],
  '0,1': [0, 1],
  '-1,1': [-1, 1],
};

// Small and non-square so a transposed H/W or a wrong upsample shows; thick on TF.js's cpu
// backend is the slow part (~15 MFLOP per pixel through plain JS loops).
const H = 12;
const W = 16;

describe.each(SIZES.flatMap((size) => SCALES.map((scale) => [size, scale] as const)))(
  'esrgan-%s x%i',
  (size, scale) => {
    const src = esrganSource(size, scale);
    const name = packName(size, scale);

    it('matches the TF.js model it was converted from', async () => {
      const [lo, hi] = SPAN[src.inputRange];
      const [outLo, outHi] = SPAN[src.outputRange];
      const nhwc = randomFloats(H * W * 3, 1000 + scale, lo, hi);

      // TF.js's own model, with the custom layers registered by the package's own setup().
      src.definition.setup?.(tf);
      const layers = await readLayersModel(src.modelJson);
      const tfModel = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: layers.modelTopology as tf.io.ModelJSON['modelTopology'],
          weightSpecs: layers.weightSpecs as tf.io.WeightsManifestEntry[],
          weightData: layers.weightData,
        }),
      );
      const expected = tf.tidy(() => {
        const y = tfModel.predict(tf.tensor4d(nhwc, [1, H, W, 3])) as tf.Tensor4D;
        return tf.transpose(y, [0, 3, 1, 2]);
      });
      expect(expected.shape).toEqual([1, 3, H * scale, W * scale]);
      const want = expected.dataSync() as Float32Array;
      expected.dispose();
      tfModel.dispose();

      const { manifest, model } = await buildPack(src, undefined);
      const nchw = new Float32Array(nhwc.length);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < 3; c++) nchw[(c * H + y) * W + x] = nhwc[(y * W + x) * 3 + c]!;
      const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
      let got: Float32Array;
      try {
        const input = manifest.inputs[0]!.name;
        const output = manifest.outputs[0]!.name;
        const out = await session.run({ [input]: new ort.Tensor('float32', nchw, [1, 3, H, W]) });
        expect(out[output]?.dims).toEqual([1, 3, H * scale, W * scale]);
        got = out[output]!.data as Float32Array;
      } finally {
        await session.release();
      }

      let maxErr = 0;
      let maxOut = 0;
      for (let i = 0; i < want.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
        maxOut = Math.max(maxOut, Math.abs(want[i]!));
      }
      // A model that does something (not all zeros) and agrees to 1e-3 of its output range.
      expect(maxOut).toBeGreaterThan(0.1 * (outHi - outLo));
      expect(maxErr).toBeLessThan(1e-3 * (outHi - outLo));
      console.log(
        `${name}: max |onnx - tfjs| = ${maxErr.toExponential(2)} (range ${outHi - outLo})`,
      );
    });

    it('writes a manifest the engine accepts, with a matching sha256', async () => {
      const { manifest, model } = await buildPack(src, undefined);
      const parsed = parseManifest(JSON.parse(JSON.stringify(manifest)), name);
      expect(parsed.name).toBe(name);
      expect(parsed.scale).toBe(scale);
      expect(parsed.source).toBe(`@upscalerjs/esrgan-${size}@1.0.0 models/x${scale}`);
      expect(parsed.licence).toBe('MIT');
      // UpscalerJS declares [0, 255] for its RDN models (slim, medium) and [0, 1] for RRDN (thick).
      expect(parsed.inputs[0]!.range).toBe(size === 'thick' ? '0,1' : '0,255');
      expect(parsed.outputs[0]!.shape).toEqual([1, 3, `h*${scale}`, `w*${scale}`]);
      const file = parsed.files[0]!;
      await verifyFile(model.slice().buffer, file);
      const tampered = model.slice();
      tampered[tampered.length >> 1]! ^= 1;
      await expect(verifyFile(tampered.buffer, file)).rejects.toThrow(
        'model.onnx: sha256 mismatch',
      );
    });
  },
);
