"""Exports a trained Upframe-lite checkpoint to the pack format (models/lite/pack/ for x4,
models/lite/pack-x2/ for x2; the scale comes from the checkpoint):
encoder.onnx, generator.onnx (opset 17, float32, NCHW, dynamic h/w), cfr.json + cfr.bin
(format upframe-cfr-1, read by src/kernels/cfr-attention/cfr-weights.ts) and manifest.json
(upframe-pack-1, kind "lite"). Also writes models/lite/reference.{json,bin} (x2:
reference-x2.{json,bin}): one small input and what PyTorch computes at every step, for
models/lite/check-manifest.test.ts.

Usage: /usr/bin/python3 models/lite/export.py [--ckpt .cache/lite/run/last.pt]
"""

import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import model as M  # noqa: E402

CFR_NAMES = ['q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'tau.weight',
             'tau.bias', 'out.weight', 'out.bias']


class GeneratorExport(torch.nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.gen = gen

    def forward(self, fused, lq):
        return self.gen(fused, lq).clamp(0.0, 1.0)


def cfr_tensors(cfr):
    c = M.HEADS * M.HEAD_DIM
    t = {
        'q.weight': cfr.q.weight.reshape(c, M.FEAT), 'q.bias': cfr.q.bias,
        'k.weight': cfr.k.weight.reshape(c, M.FEAT), 'k.bias': cfr.k.bias,
        'v.weight': cfr.v.weight.reshape(c, M.FEAT), 'v.bias': cfr.v.bias,
        'tau.weight': cfr.tau.weight.reshape(1, M.HEAD_DIM), 'tau.bias': cfr.tau.bias,
        'out.weight': cfr.out.weight.reshape(M.FEAT, c), 'out.bias': cfr.out.bias,
    }
    return {k: v.detach().float().contiguous().numpy() for k, v in t.items()}


def write_cfr(cfr, folder, recurrent):
    tensors = cfr_tensors(cfr)
    desc, chunks, offset = {}, [], 0
    for name in CFR_NAMES:
        arr = tensors[name].astype('<f4')
        desc[name] = {'offset': offset, 'shape': list(arr.shape)}
        chunks.append(arr.tobytes())
        offset += arr.nbytes
    meta = {
        'format': 'upframe-cfr-1', 'inChannels': M.FEAT, 'heads': M.HEADS,
        'headDim': M.HEAD_DIM, 'temperature': M.TEMPERATURE, 'dtype': 'float32',
        'topK': M.TOP_K, 'radius': M.RADIUS,
        'reference': 'fused' if recurrent else 'features', 'tensors': desc,
    }
    with open(os.path.join(folder, 'cfr.json'), 'w') as fh:
        json.dump(meta, fh, indent=2)
        fh.write('\n')
    with open(os.path.join(folder, 'cfr.bin'), 'wb') as fh:
        fh.write(b''.join(chunks))


def export_onnx(module, args, path, inputs, outputs, axes):
    torch.onnx.export(module, args, path, opset_version=17, input_names=inputs,
                      output_names=outputs, dynamic_axes=axes, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)


def file_entry(folder, name, role):
    raw = open(os.path.join(folder, name), 'rb').read()
    return {'path': name, 'bytes': len(raw), 'sha256': hashlib.sha256(raw).hexdigest(),
            'role': role}


def suffix(scale):
    return '' if scale == 4 else f'-x{scale}'


def write_reference(net, folder, data_dir):
    """Two LQ frames from a held-out clip (non-square on purpose), the GT flow, and every
    intermediate PyTorch computes for frame 1. Frame 1 warps frame 0's features, or (recurrent)
    fusedPrevious: frame 0's fused features, the CFR of its features with themselves."""
    val = np.load(os.path.join(data_dir, 'val.npz'))
    h, w = 20, 28
    lq = torch.from_numpy(val['lq'][3, :2, 10:10 + h, 6:6 + w]).permute(0, 3, 1, 2).float() / 255
    flow = torch.from_numpy(val['flow'][3, 1, :, 10:10 + h, 6:6 + w]).float()[None]
    with torch.no_grad():
        feats = net.encoder(lq)
        prev, cur = feats[:1], feats[1:]
        fused_prev = net.cfr(prev, prev)
        warped = M.warp(fused_prev if net.recurrent else prev, flow)
        fused = net.cfr(cur, warped)
        hr = GeneratorExport(net.generator)(fused, lq[1:])
    arrays = [('lqPrevious', lq[:1]), ('lq', lq[1:]), ('flow', flow), ('featuresPrevious', prev),
              ('fusedPrevious', fused_prev), ('features', cur), ('warpedReference', warped),
              ('fused', fused), ('hr', hr)]
    desc, chunks, offset = {}, [], 0
    for name, t in arrays:
        arr = t.numpy().astype('<f4')
        desc[name] = {'offset': offset, 'shape': list(arr.shape)}
        chunks.append(arr.tobytes())
        offset += arr.nbytes
    name = f'reference{suffix(net.scale)}'
    with open(os.path.join(folder, f'{name}.json'), 'w') as fh:
        json.dump({'width': w, 'height': h, 'scale': net.scale, 'tensors': desc}, fh, indent=1)
        fh.write('\n')
    with open(os.path.join(folder, f'{name}.bin'), 'wb') as fh:
        fh.write(b''.join(chunks))


def flops_per_input_pixel(net):
    """Multiply-adds x2 per LQ pixel: convs at input resolution, CFR's projections, window
    similarity over (2r+1)^2 keys, top-k weighted sum, bilinear residual ignored."""
    macs = 0
    for mod in list(net.encoder.modules()) + list(net.generator.modules()):
        if isinstance(mod, torch.nn.Conv2d):
            macs += mod.weight.numel()
    c = M.HEADS * M.HEAD_DIM
    win = (2 * M.RADIUS + 1) ** 2
    macs += 3 * c * M.FEAT + M.HEADS * M.HEAD_DIM + win * c + M.TOP_K * c + M.FEAT * c
    return 2 * macs


def data_args(data_dir):
    """The options data.py wrote its set with (data-args.json; absent for sets made before it
    recorded them, which were all made without --augment)."""
    path = os.path.join(data_dir, 'data-args.json')
    return json.load(open(path)) if os.path.exists(path) else {}


def command(a):
    scale = a.get('scale', 4)
    flag = '' if scale == 4 else f' --scale {scale}'
    data = a.get('data') or '.cache/lite'
    default_data = '.cache/lite' if scale == 4 else f'.cache/lite-x{scale}'
    d = data_args(data)
    data_flags = flag + (' --augment' if d.get('augment') else '') + (
        ' --extra-photos' if d.get('extra_photos') else '') + (
        ' --es-photos' if d.get('es_photos') else '') + (
        f" --train-clips {d['train_clips']}" if d.get('train_clips', 2400) != 2400 else '')
    train_flags = flag + (' --recurrent' if a.get('recurrent') else '')
    if list(a.get('cons', (0.3, 0.1))) != [0.3, 0.1]:
        train_flags += ' --cons {} {}'.format(*a['cons'])
    if a.get('grad', 0.5) != 0.5:
        train_flags += f" --grad {a['grad']}"
    if a.get('cfr_radius', 2) != 2:
        train_flags += f" --cfr-radius {a['cfr_radius']}"
    if a.get('cfr_topk', 8) != 8:
        train_flags += f" --cfr-topk {a['cfr_topk']}"
    if a.get('flow_noise', 0.5) != 0.5:
        train_flags += f" --flow-noise {a['flow_noise']:g}"
    if a.get('threads', 2) != 2:
        train_flags += f" --threads {a['threads']}"
    if a.get('gen_hidden', 32) != 32:
        train_flags += f" --gen-hidden {a['gen_hidden']}"
    if a.get('gen_blocks', 6) != 6:
        train_flags += f" --gen-blocks {a['gen_blocks']}"
    if a.get('freeze', 'encoder+cfr') != 'encoder+cfr':
        train_flags += f" --freeze {a['freeze']}"
    if os.path.normpath(data) != default_data:
        data_flags += f' --out {data}'
        train_flags += f' --data {data}'
    out = a.get('out') or os.path.join(data, 'run')
    if os.path.normpath(out) != os.path.normpath(os.path.join(data, 'run')):
        train_flags += f' --out {out}'
    run = os.path.join(out, 'last.pt')
    train = (f"/usr/bin/python3 models/lite/train.py --seed {a.get('seed', 0)} "
             f"--iters {a.get('iters')} --max-minutes {a.get('max_minutes')}{train_flags}")
    return (f"/usr/bin/python3 models/lite/data.py --seed {d.get('seed', 0)}{data_flags} && "
            f"{train} && "
            f"/usr/bin/python3 models/lite/evaluate.py --ckpt {run} && "
            f"/usr/bin/python3 models/lite/export.py --ckpt {run}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default='.cache/lite/run/last.pt')
    ap.add_argument('--eval', default=None, help='default models/lite/eval-results[-x2].json')
    args = ap.parse_args()
    torch.set_num_threads(2)
    state = torch.load(args.ckpt, map_location='cpu')
    train_args = state.get('args', {})
    if data_args(train_args.get('data') or '.cache/lite').get('gpl_photos'):
        sys.exit('export: this checkpoint was trained with data.py --gpl-photos (GPL-2+ '
                 'photographs), which is for experiments only; the packs ship under MIT.')
    scale = train_args.get('scale', 4)
    args.eval = args.eval or os.path.join(HERE, f'eval-results{suffix(scale)}.json')
    PACK = os.path.join(HERE, f'pack{suffix(scale)}')
    M.configure(state.get('args', {}))
    net = M.Lite(scale, recurrent=bool(train_args.get('recurrent')))
    net.load_state_dict(state['model'])
    net.eval()
    os.makedirs(PACK, exist_ok=True)

    dummy = torch.rand(1, 3, 24, 32)
    export_onnx(net.encoder, (dummy,), os.path.join(PACK, 'encoder.onnx'), ['lq'], ['features'],
                {'lq': {2: 'h', 3: 'w'}, 'features': {2: 'h', 3: 'w'}})
    fused = torch.randn(1, M.FEAT, 24, 32)
    export_onnx(GeneratorExport(net.generator), (fused, dummy),
                os.path.join(PACK, 'generator.onnx'), ['fused', 'lq'], ['hr'],
                {'fused': {2: 'h', 3: 'w'}, 'lq': {2: 'h', 3: 'w'}, 'hr': {2: 'h4', 3: 'w4'}})
    write_cfr(net.cfr, PACK, net.recurrent)
    write_reference(net, HERE, train_args.get('data') or '.cache/lite')

    hist_path = os.path.join(os.path.dirname(args.ckpt), 'history.json')
    hist = json.load(open(hist_path)) if os.path.exists(hist_path) else {}
    evaluation = json.load(open(args.eval)) if os.path.exists(args.eval) else None
    files = [file_entry(PACK, 'encoder.onnx', 'model'), file_entry(PACK, 'generator.onnx', 'model'),
             file_entry(PACK, 'cfr.json', 'data'), file_entry(PACK, 'cfr.bin', 'weights')]
    photos = {**D.TRAIN_PHOTOS, **D.VAL_PHOTOS}
    rec = net.recurrent
    # what frame n + 1 warps: frame n's encoder features, or (recurrent) its fused features
    kept = 'fusedPrevious' if rec else 'featuresPrevious'
    lq_spec = {'name': 'lq', 'dtype': 'float32', 'shape': [1, 3, 'h', 'w'], 'layout': 'NCHW',
               'range': '0,1'}
    manifest = {
        'format': 'upframe-pack-1',
        'name': f'upframe-lite-x{scale}',
        'title': f'Upframe-lite x{scale} (CFR, trained here)',
        'kind': 'lite',
        'scale': scale,
        'licence': 'MIT',
        'source': 'Upframe models/lite (trained by the project: models/lite/train.py)',
        'description': (
            'Compact video SR with DLoRAL\'s structure minus diffusion: a conv encoder on the LQ '
            'frame, Cross-Frame Retrieval against the flow-warped previous frame\'s '
            + ('fused (recurrent) ' if rec else '') + 'features '
            '(run by the WGSL cfr-attention kernel from cfr.json/cfr.bin), and a conv generator '
            f'with a pixel-shuffle x{scale} tail over a bicubic residual. Trained on synthetic clips '
            'with known motion from Debian photos, degraded with blur, resizing, noise, JPEG and '
            'H.264.'),
        'files': files,
        'inputs': [lq_spec],
        'outputs': [{'name': 'hr', 'dtype': 'float32', 'shape': [1, 3, f'h*{scale}', f'w*{scale}'],
                     'layout': 'NCHW', 'range': '0,1'}],
        'tile': {'multiple': 1, 'minSize': 16, 'preferred': 128,
                 'overlap': 16},
        'cost': {'params': M.count_params(net),
                 'flopsPerInputPixel': flops_per_input_pixel(net)},
        'extra': {
            'architecture': 'upframe-lite-1',
            'params': {'encoder': M.count_params(net.encoder), 'cfr': M.count_params(net.cfr),
                       'generator': M.count_params(net.generator)},
            # the engine plans its tiles with widestChannels (src/engine/lite-pack.ts)
            'generator': {'hidden': M.GEN_HIDDEN, 'blocks': M.GEN_BLOCKS,
                          'widestChannels': max(M.GEN_HIDDEN, 3 * scale * scale)},
            'pipeline': [
                {'step': 1, 'what': 'encoder', 'file': 'encoder.onnx',
                 'inputs': {'lq': 'float32 [1, 3, h, w] NCHW, RGB in [0, 1] (the LQ frame)'},
                 'outputs': {'features': f'float32 [1, {M.FEAT}, h, w] NCHW, unbounded'},
                 'note': ('Keep fused (step 4) of frame n as fusedPrevious for frame n + 1.'
                          if rec else
                          'Keep features of frame n as featuresPrevious for frame n + 1.')},
                {'step': 2, 'what': 'flow', 'kernel': 'src/kernels/flow',
                 'outputs': {'flow': 'float32 [2, h, w]: flow(current -> previous) at the LQ '
                             'resolution in LQ pixels, plane 0 = dx, plane 1 = dy'},
                 'note': 'Computed on the LQ frames n and n - 1. Not needed for frame 0.'},
                {'step': 3, 'what': 'warp', 'kernel': 'src/kernels/warp',
                 'inputs': {kept: f'[{M.FEAT}, h, w]', 'flow': '[2, h, w]'},
                 'outputs': {'warpedReference': f'float32 [{M.FEAT}, h, w]'},
                 'note': f'warpedReference[p] = {kept}[p + flow[p]], bilinear, zeros '
                         'outside, grid_sample align_corners=True. Frame 0: warpedReference = '
                         'its own features (no warp).'},
                {'step': 4, 'what': 'cfr', 'kernel': 'src/kernels/cfr-attention',
                 'weights': ['cfr.json', 'cfr.bin'],
                 'inputs': {'current': f'features [{M.FEAT}, h, w]',
                            'reference': f'warpedReference [{M.FEAT}, h, w]'},
                 'outputs': {'fused': f'float32 [{M.FEAT}, h, w]'},
                 'params': {'topK': M.TOP_K, 'radius': M.RADIUS,
                            'temperature': M.TEMPERATURE, 'heads': M.HEADS,
                            'headDim': M.HEAD_DIM},
                 'note': 'fused = current + out(sum over the topK keys of highest sim within '
                         '|dx|, |dy| <= radius of ReLU((sim - tau) / T) * V); sim = <Q, K> / '
                         'sqrt(headDim), tau = Linear(headDim -> 1)(Q) per head.'},
                {'step': 5, 'what': 'generator', 'file': 'generator.onnx',
                 'inputs': {'fused': f'float32 [1, {M.FEAT}, h, w] NCHW',
                            'lq': 'float32 [1, 3, h, w] NCHW, RGB in [0, 1] (same frame as step 1)'},
                 'outputs': {'hr': f'float32 [1, 3, {scale}h, {scale}w] NCHW, RGB in [0, 1] '
                                   '(clamped in the graph)'}},
            ],
            'cfr': {'inChannels': M.FEAT, 'heads': M.HEADS, 'headDim': M.HEAD_DIM,
                    'topK': M.TOP_K, 'radius': M.RADIUS, 'temperature': M.TEMPERATURE,
                    'reference': 'fused' if rec else 'features',
                    'firstFrame': 'reference = its own features (zero flow)'},
            'flow': {'direction': 'current -> previous', 'resolution': 'LQ (input)',
                     'units': 'LQ pixels', 'channels': ['dx', 'dy'],
                     'warp': 'bilinear, zeros outside, align_corners=True',
                     'trainedWith': 'ground-truth flow perturbed: 50% box-blurred 5x5, plus '
                                    'low-frequency noise (sigma up to '
                                    f"{state.get('args', {}).get('flow_noise', 0.5):g} px), "
                                    '5% zero flow'},
            'receptiveRadius': 3 + (1 + M.GEN_BLOCKS + 1) + M.RADIUS,
            'trainingData': {
                'package': D.PHOTO_PACKAGE,
                'photos': [{'file': f'/usr/share/backgrounds/{k}', 'licence': v,
                            'use': 'validation' if k in D.VAL_PHOTOS else 'training'}
                           for k, v in sorted(photos.items())] + (
                    [{'file': f'{D.EXTRA_DIR}/{k}', 'licence': v, 'use': 'training',
                      'package': D.EXTRA_PACKAGE} for k, v in sorted(D.EXTRA_PHOTOS.items())]
                    if data_args(train_args.get('data') or '.cache/lite').get('extra_photos')
                    else []) + (
                    [{'file': f'{D.ES_DIR}/{k}', 'licence': D.es_licence(k), 'use': 'training',
                      'package': D.ES_PACKAGE} for k in D.es_photo_names()]
                    if data_args(train_args.get('data') or '.cache/lite').get('es_photos')
                    else []),
                'clips': 'synthetic: affine pan/zoom/rotation over a photo plus a moving '
                         'object cropped from another photo; exact flow' + (
                             '; training photos at six scales (0.15-0.6) and 80% of training '
                             'clips in new colours (channel order, saturation, gamma per clip)'
                             if data_args(train_args.get('data') or '.cache/lite').get('augment')
                             else ''),
                'degradation': 'second order like Real-ESRGAN, milder, every stage optional: '
                               'Gaussian iso/aniso blur (sigma 0.2-1.8), resize to 25-100 % '
                               '(area/bicubic/bilinear), Gaussian or Poisson noise, JPEG 40-95, '
                               f'for a third of the clips a second blur, resize to x1/{scale} and '
                               'noise, then per-frame JPEG 50-95 or H.264 (libx264 CRF 18-30, '
                               'yuv420p) of the whole clip',
            },
            'training': {
                'command': command(state.get('args', {})),
                'seed': state.get('args', {}).get('seed'),
                'iters': state.get('args', {}).get('iters'),
                'checkpointIter': state.get('iter'),
                'itersDone': hist.get('itersDone'),
                'stoppedEarly': hist.get('stoppedEarly'),
                'seconds': hist.get('seconds'),
                'hardware': '2 shared CPU cores, torch 1.13 (Debian), 2 threads',
                'phases': 'consistency (encoder + CFR + generator; Charbonnier + flow '
                          'consistency) then detail ('
                          + ('encoder + CFR' if train_args.get('freeze', 'encoder+cfr') ==
                             'encoder+cfr' else 'CFR') + ' frozen; Charbonnier + '
                          'gradient L1 + small consistency), weights crossing linearly over '
                          '10% of the run around 45%',
                'valPsnr': state.get('valPsnr'),
                'valBicubicPsnr': state.get('valBicubic'),
            },
            'evaluation': evaluation,
        },
    }
    with open(os.path.join(PACK, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=2)
        fh.write('\n')
    print(json.dumps({f['path']: f['bytes'] for f in files}), 'params', M.count_params(net))


if __name__ == '__main__':
    main()
