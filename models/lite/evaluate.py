"""Evaluates Upframe-lite on clips rendered from the HELD-OUT photos (data.VAL_PHOTOS), degraded
exactly as the training clips, with a seed not used for training or validation.

Rows: bicubic; lite with CFR on the GT flow; lite with CFR on an estimated flow (OpenCV DIS on
the LQ frames, a stand-in for the app's Lucas-Kanade flow); lite with CFR disabled (reference =
the current frame's own features). Metrics: PSNR (RGB, 4-px border cropped), SSIM (Y of BT.601,
11x11 Gaussian window, sigma 1.5), and E*warp = mean over consecutive frames of the squared error
between output_n and output_{n-1} warped by the GT flow at HR, on pixels visible in both frames,
x 1e3 (values in [0, 1]); the GT frames' own E*warp is the floor that the bilinear warp leaves.

Usage: /usr/bin/python3 models/lite/evaluate.py [--ckpt .cache/lite/run/last.pt]
Prints a table and writes models/lite/eval-results.json (x2 checkpoints: eval-results-x2.json;
the scale comes from the checkpoint).
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import model as M  # noqa: E402
import train as T  # noqa: E402


def psnr_each(x, y, crop=4):
    x = x[..., crop:-crop, crop:-crop].clamp(0, 1)
    y = y[..., crop:-crop, crop:-crop]
    mse = ((x - y) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1 / mse)


def ssim_each(x, y, crop=4):
    def luma(t):
        return (0.299 * t[:, 0] + 0.587 * t[:, 1] + 0.114 * t[:, 2]).unsqueeze(1)

    x = luma(x[..., crop:-crop, crop:-crop].clamp(0, 1))
    y = luma(y[..., crop:-crop, crop:-crop])
    g = torch.exp(-((torch.arange(11) - 5.0) ** 2) / (2 * 1.5 ** 2))
    g = g / g.sum()
    win = (g[:, None] * g[None, :])[None, None]
    mu_x, mu_y = F.conv2d(x, win), F.conv2d(y, win)
    sxx = F.conv2d(x * x, win) - mu_x ** 2
    syy = F.conv2d(y * y, win) - mu_y ** 2
    sxy = F.conv2d(x * y, win) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def ewarp(out, flow_hr, valid):
    """out [N, T, 3, H, W] -> per clip mean squared warping error x 1e3."""
    border = torch.zeros_like(valid[:, 0])
    border[..., 4:-4, 4:-4] = 1
    errs = []
    for i in range(1, out.shape[1]):
        w = M.warp(out[:, i - 1].clamp(0, 1), flow_hr[:, i])
        m = valid[:, i] * border
        e = (((out[:, i].clamp(0, 1) - w) ** 2) * m).flatten(1).sum(1) / (m.flatten(1).sum(1) * 3)
        errs.append(e)
    return torch.stack(errs, 1).mean(1) * 1e3


def dis_flow(lq):
    """lq [N, T, 3, h, w] float -> flow(n -> n-1) [N, T, 2, h, w] by OpenCV DIS (medium)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    n, t, _, h, w = lq.shape
    out = np.zeros((n, t, 2, h, w), np.float32)
    gray = (lq * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()
    for i in range(n):
        for j in range(1, t):
            cur = cv2.cvtColor(gray[i, j], cv2.COLOR_RGB2GRAY)
            prev = cv2.cvtColor(gray[i, j - 1], cv2.COLOR_RGB2GRAY)
            f = dis.calc(cur, prev, None)
            out[i, j, 0], out[i, j, 1] = f[..., 0], f[..., 1]
    return torch.from_numpy(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default='.cache/lite/run/last.pt')
    ap.add_argument('--seed', type=int, default=2000)
    ap.add_argument('--clips', type=int, default=16)
    ap.add_argument('--frames', type=int, default=5)
    ap.add_argument('--size', type=int, default=None, help='HR side (default 64 x scale)')
    ap.add_argument('--out', default=None)
    args = ap.parse_args()
    state = torch.load(args.ckpt, map_location='cpu')
    scale = state.get('args', {}).get('scale', 4)
    args.size = args.size or 64 * scale
    tag = '' if scale == 4 else f'-x{scale}'
    args.out = args.out or os.path.join(HERE, f'eval-results{tag}.json')
    torch.set_num_threads(2)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(args.seed)
    photos = D.load_photos(sorted(D.VAL_PHOTOS), rng)
    d = D.make_set(rng, photos, args.clips, args.size, args.frames, group=16, scale=scale)
    d = {k: torch.from_numpy(v) for k, v in d.items()}
    M.configure(state.get('args', {}))
    net = M.Lite(scale, recurrent=state.get('args', {}).get('recurrent', False))
    net.load_state_dict(state['model'])
    net.eval()

    rows = {name: {'psnr': [], 'ssim': [], 'ewarp': []} for name in
            ('bicubic', 'lite (CFR, GT flow)', 'lite (CFR, DIS flow)', 'lite (CFR off)', 'GT')}
    by_frame = {name: [] for name in rows}
    counts = {name: 0 for name in rows}
    with torch.no_grad():
        for s in range(0, args.clips, 4):
            idx = torch.arange(s, min(s + 4, args.clips))
            hr, lq, flow, valid = T.to_batch(d, idx)
            n, t = hr.shape[:2]
            fhr = T.hr_flow(flow, scale)
            bic = F.interpolate(lq.flatten(0, 1), scale_factor=scale, mode='bicubic',
                                align_corners=False).unflatten(0, (n, t))
            outs = {
                'bicubic': bic,
                'lite (CFR, GT flow)': net.forward_clip(lq, flow),
                'lite (CFR, DIS flow)': net.forward_clip(lq, dis_flow(lq)),
                'lite (CFR off)': net.forward_clip(lq, flow, use_cfr=False),
                'GT': hr,
            }
            for name, out in outs.items():
                r = rows[name]
                r['psnr'] += psnr_each(out.flatten(0, 1), hr.flatten(0, 1)).tolist()
                r['ssim'] += ssim_each(out.flatten(0, 1), hr.flatten(0, 1)).tolist()
                r['ewarp'] += ewarp(out, fhr, valid).tolist()
                # PSNR per frame index: does a temporal state help more with each frame, or drift?
                by_frame[name].append(psnr_each(out.flatten(0, 1), hr.flatten(0, 1))
                                      .view(n, t).mean(0) * n)
                counts[name] += n
    codec = d['codec'].numpy()
    result = {
        'checkpoint': {'iter': state.get('iter'), 'valPsnr': state.get('valPsnr')},
        'scale': scale,
        'set': {'photos': sorted(D.VAL_PHOTOS), 'seed': args.seed, 'clips': args.clips,
                'frames': args.frames, 'hrSize': args.size, 'h264Clips': int(codec.sum())},
        'rows': {},
    }
    print(f'{"method":24s} {"PSNR":>8s} {"SSIM":>7s} {"E*warp":>8s}   (held-out photos, '
          f'{args.clips} clips x {args.frames} frames, LQ {args.size // scale}px, x{scale})')
    for name, r in rows.items():
        row = {k: float(np.mean(v)) for k, v in r.items()}
        if name == 'GT':
            row = {'ewarp': row['ewarp']}
        result['rows'][name] = row
        ps = f'{row["psnr"]:8.3f}' if 'psnr' in row else f'{"-":>8s}'
        ss = f'{row["ssim"]:7.4f}' if 'ssim' in row else f'{"-":>7s}'
        print(f'{name:24s} {ps} {ss} {row["ewarp"]:8.3f}')
    b = result['rows']['bicubic']['psnr']
    g = result['rows']['lite (CFR, GT flow)']
    off = result['rows']['lite (CFR off)']
    result['goals'] = {
        'psnrGainOverBicubic': g['psnr'] - b,
        'psnrGoalMet': g['psnr'] - b >= 1.0,
        'ewarpLowerWithCfr': g['ewarp'] < off['ewarp'],
    }
    frame_psnr = {name: (torch.stack(v).sum(0) / counts[name]).tolist()
                  for name, v in by_frame.items() if name != 'GT'}
    result['gainByFrame'] = {name: [round(a - b, 4) for a, b in zip(v, frame_psnr['bicubic'])]
                             for name, v in frame_psnr.items() if name != 'bicubic'}
    for name, v in result['gainByFrame'].items():
        print(f'{name:24s} gain over bicubic by frame: ' + ' '.join(f'{x:+.2f}' for x in v))
    print(json.dumps(result['goals']))
    with open(args.out, 'w') as fh:
        json.dump(result, fh, indent=1)
        fh.write('\n')


if __name__ == '__main__':
    main()
