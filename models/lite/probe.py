"""A quick probe of what limits Upframe-lite: trains the encoder + generator alone (no CFR, one
frame per clip, pixel loss only) and prints the PSNR gain over bicubic on training clips and on
the held-out validation clips every 100 iterations.

If the training gain rises while the held-out gain falls, the model is learning the training
photos rather than the degradation; with --clean (LQ = an area x4/x2 downscale of the HR frame,
no blur, noise or compression) it shows how far the same model and optimiser get on the easy
problem in the same number of iterations.

--gen-hidden/--gen-blocks try another generator width/depth (the pack's are model.GEN_HIDDEN,
model.GEN_BLOCKS) at the same iterations, to see whether capacity limits the gain.

Usage: /usr/bin/python3 models/lite/probe.py [--data .cache/lite] [--clean] [--iters 1500]
"""

import argparse
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import train as T  # noqa: E402


def frame_pairs(d, scale, clean):
    """Frame 0 of every clip: HR and LQ as float tensors [N, 3, h, w] in [0, 1]."""
    hr = d['hr'][:, 0]
    if clean:
        s = hr.shape[1] // scale
        lq = np.stack([cv2.resize(h, (s, s), interpolation=cv2.INTER_AREA) for h in hr])
    else:
        lq = d['lq'][:, 0]
    to = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    return to(hr), to(lq)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='.cache/lite')
    ap.add_argument('--scale', type=int, default=4, choices=(2, 4))
    ap.add_argument('--clean', action='store_true')
    ap.add_argument('--iters', type=int, default=1500)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--gen-hidden', type=int, default=M.GEN_HIDDEN)
    ap.add_argument('--gen-blocks', type=int, default=M.GEN_BLOCKS)
    args = ap.parse_args()
    M.GEN_HIDDEN, M.GEN_BLOCKS = args.gen_hidden, args.gen_blocks
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    hr_t, lq_t = frame_pairs(np.load(os.path.join(args.data, 'train.npz')), args.scale, args.clean)
    hr_v, lq_v = frame_pairs(np.load(os.path.join(args.data, 'val.npz')), args.scale, args.clean)
    net = M.Lite(args.scale)
    print(f'generator {args.gen_hidden} x {args.gen_blocks}: '
          f'{M.count_params(net.encoder) + M.count_params(net.generator)} parameters', flush=True)
    opt = torch.optim.Adam(list(net.encoder.parameters()) + list(net.generator.parameters()),
                           lr=2e-3)

    def run(lq):
        return net.generator(net.encoder(lq), lq)

    @torch.no_grad()
    def gain(hr, lq):
        bic = F.interpolate(lq, scale_factor=args.scale, mode='bicubic', align_corners=False)
        return T.psnr(run(lq), hr) - T.psnr(bic, hr)

    t0 = time.time()
    for it in range(1, args.iters + 1):
        idx = torch.randint(0, hr_t.shape[0], (args.batch,), generator=g)
        loss = T.charb(run(lq_t[idx]), hr_t[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 100 == 0:
            print(f'iter {it} ({time.time() - t0:.0f}s): gain over bicubic, training clips '
                  f'{gain(hr_t[:200], lq_t[:200]):+.3f} dB, held-out {gain(hr_v, lq_v):+.3f} dB',
                  flush=True)


if __name__ == '__main__':
    main()
