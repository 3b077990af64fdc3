"""A quick probe of what limits Upframe-lite: trains the encoder + generator alone (no CFR, one
frame per clip, pixel loss only) and prints the PSNR gain over bicubic on training clips and on
the held-out validation clips every 100 iterations.

If the training gain rises while the held-out gain falls, the model is learning the training
photos rather than the degradation; with --clean (LQ = an area x4/x2 downscale of the HR frame,
no blur, noise or compression) it shows how far the same model and optimiser get on the easy
problem in the same number of iterations.

--gen-hidden/--gen-blocks try another generator width/depth (the pack's are model.GEN_HIDDEN,
model.GEN_BLOCKS) at the same iterations, to see whether capacity limits the gain.

--train-clips N trains on the first N clips only and --fresh DIR reports the gain on clips of
another data.py set (e.g. one made with another --seed from the same training photos): with both,
a model that fits its crops rather than the photos shows as a gap between training and fresh clips,
and one that fits the photos as a gap between fresh and held-out clips. --all-frames uses every
frame of a clip as a training pair instead of frame 0 only.

--eval-like also reports the gain on frames made as `npm run eval` makes its clips (the
photographs of python3-skimage that scripts/eval uses, blur sigma 1.2, area downscale, uniform
noise, H.264 CRF 28 through ffmpeg with the same filter string): a quick estimate of the eval's
gains for comparing training options. It is never trained on, except by --train-on:
`eval-degradation` trains on the training photos degraded exactly as the eval degrades (does the
degradation's spread cost the gain?), `eval-photos` on other crops of the eval photos themselves
(how much a model gains on pictures it has seen: a memorisation ceiling, never a recipe). --cosine
decays the learning rate over --iters as train.py does.

--temporal-bound prints what plain averaging of flow-aligned LQ frames (exact flow) gains over
bicubic on a data.py set, by codec: the content-independent part a temporal module can add.

Usage: /usr/bin/python3 models/lite/probe.py [--data .cache/lite] [--clean] [--iters 1500]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import model as M  # noqa: E402
import train as T  # noqa: E402


def frame_pairs(d, scale, clean, clips=None, all_frames=False):
    """Frame 0 (or every frame) of the first `clips` clips: HR and LQ as float tensors
    [N, 3, h, w] in [0, 1]."""
    hr, lq = d['hr'][:clips], d['lq'][:clips]
    if all_frames:
        hr, lq = hr.reshape(-1, *hr.shape[2:]), lq.reshape(-1, *lq.shape[2:])
    else:
        hr, lq = hr[:, 0], lq[:, 0]
    if clean:
        s = hr.shape[1] // scale
        lq = np.stack([cv2.resize(h, (s, s), interpolation=cv2.INTER_AREA) for h in hr])
    to = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    return to(hr), to(lq)


SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data'
EVAL_PHOTOS = ('coffee.png', 'rocket.jpg', 'astronaut.png', 'chelsea.png')  # scripts/eval/run.ts


def eval_photos():
    """The photographs scripts/eval/run.ts renders its clips from, as float32 RGB."""
    return [cv2.cvtColor(cv2.imread(os.path.join(SKIMAGE, f), cv2.IMREAD_COLOR),
                         cv2.COLOR_BGR2RGB).astype(np.float32) for f in EVAL_PHOTOS]


def eval_like(scale, photos=None, count=96, size=128, seed=5):
    """`count` single frames cropped from `photos` (default: the eval photos) at random positions
    with a sub-pixel offset and the eval's 2 x 2 bilinear-mean sampling, degraded with
    scripts/eval/run.ts's ffmpeg filter and H.264 settings, in mosaics of 4 frames per clip so the
    encoder sees motion. HR and LQ as float tensors [N, 3, h, w]."""
    rng = np.random.default_rng(seed)
    photos = eval_photos() if photos is None else photos
    frames, clips = 4, count // 4
    hr = np.zeros((clips, frames, size, size, 3), np.uint8)
    for c in range(clips):
        ph = photos[c % len(photos)]
        # up to 4 px per frame over 3 frames: keep every sample inside the photo
        x0 = rng.uniform(14, ph.shape[1] - size - 14)
        y0 = rng.uniform(14, ph.shape[0] - size - 14)
        v = rng.uniform(-4, 4, 2)
        for t in range(frames):
            acc = 0
            for dy in (0.25, 0.75):
                for dx in (0.25, 0.75):
                    m = np.array([[1, 0, x0 + t * v[0] + dx - 0.5], [0, 1, y0 + t * v[1] + dy - 0.5]])
                    acc = acc + cv2.warpAffine(ph, m, (size, size),
                                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
            hr[c, t] = np.clip(acc / 4 + 0.5, 0, 255).astype(np.uint8)
    big = D.tile(hr)
    H, W = big.shape[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'e.mp4')
        subprocess.run([
            'ffmpeg', '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{W}x{H}',
            '-r', '24', '-i', '-', '-vf',
            f'gblur=sigma=1.2,scale={W // scale}:{H // scale}:flags=area,noise=alls=3:allf=t,'
            'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p',
            '-c:v', 'libx264', '-preset', 'medium', '-crf', '28', '-threads', '1', path,
        ], input=big.tobytes(), check=True)
        raw = subprocess.run([
            'ffmpeg', '-v', 'error', '-i', path, '-vf',
            'scale=in_color_matrix=bt709:in_range=tv', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
        ], capture_output=True, check=True).stdout
    lq = D.untile(np.frombuffer(raw, np.uint8).reshape(frames, H // scale, W // scale, 3), clips)
    to = lambda a: torch.from_numpy(np.ascontiguousarray(a.reshape(-1, *a.shape[2:]))).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    return to(hr), to(lq)


@torch.no_grad()
def temporal_bound(d, scale, clips=200):
    """PSNR over bicubic when frame n's LQ is averaged with earlier LQ frames aligned by the exact
    flow before the bicubic upsample (previous frame only, and all earlier frames by chaining the
    flow), per final codec: what plain temporal averaging, with no learning, gains."""
    hr = torch.from_numpy(d['hr'][:clips]).permute(0, 1, 4, 2, 3).float() / 255.0
    lq = torch.from_numpy(d['lq'][:clips]).permute(0, 1, 4, 2, 3).float() / 255.0
    flow = torch.from_numpy(d['flow'][:clips]).float()
    n, t = lq.shape[:2]
    valid = torch.from_numpy(d['valid'][:clips]).float().flatten(0, 1).unsqueeze(1)
    valid = (F.avg_pool2d(valid, scale) > 0.99).float().unflatten(0, (n, t))
    up = lambda x: F.interpolate(x, scale_factor=scale, mode='bicubic', align_corners=False)  # noqa: E731
    for codec, name in ((1, 'H.264 clips'), (0, 'JPEG or uncompressed clips')):
        sel = torch.from_numpy(np.where(d['codec'][:clips] == codec)[0])
        base, two, chain = [], [], []
        for i in range(1, t):
            cur, ok = lq[sel, i], valid[sel, i]
            prev = M.warp(lq[sel, i - 1], flow[sel, i])
            acc, cnt = cur.clone(), torch.ones_like(ok)
            f, okc = flow[sel, i].clone(), ok.clone()
            for j in range(i - 1, -1, -1):
                acc, cnt = acc + M.warp(lq[sel, j], f) * okc, cnt + okc
                if j == 0:
                    break
                f = f + M.warp(flow[sel, j], f)  # compose: where frame j's point sits in j - 1
                okc = okc * (M.warp(valid[sel, j], f) > 0.99).float()
            base.append(T.psnr(up(cur), hr[sel, i]))
            two.append(T.psnr(up(torch.where(ok > 0, 0.5 * (cur + prev), cur)), hr[sel, i]))
            chain.append(T.psnr(up(acc / cnt), hr[sel, i]))
        print(f'{name} ({len(sel)}): bicubic {np.mean(base):.3f} dB; averaged with the previous '
              f'frame {np.mean(two) - np.mean(base):+.3f} dB, with all earlier frames '
              f'{np.mean(chain) - np.mean(base):+.3f} dB', flush=True)


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
    ap.add_argument('--train-clips', type=int, default=None, help='train on the first N clips')
    ap.add_argument('--all-frames', action='store_true', help='every frame of a clip, not frame 0')
    ap.add_argument('--fresh', default=None, help='another data.py set: report the gain on it too')
    ap.add_argument('--eval-like', action='store_true', help="report the gain on eval-like frames")
    ap.add_argument('--train-on', default='data', choices=('data', 'eval-degradation', 'eval-photos'),
                    help="training pairs: the data.py set; the training photos degraded exactly as "
                         "npm run eval degrades (is the degradation the gap?); or other crops of "
                         "the eval photos themselves (a memorisation ceiling, never a recipe)")
    ap.add_argument('--cosine', action='store_true', help='cosine LR decay over --iters')
    ap.add_argument('--temporal-bound', action='store_true',
                    help='print what averaging flow-aligned LQ frames gains, then stop')
    args = ap.parse_args()
    M.GEN_HIDDEN, M.GEN_BLOCKS = args.gen_hidden, args.gen_blocks
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    if args.temporal_bound:
        temporal_bound(np.load(os.path.join(args.data, 'train.npz')), args.scale)
        return
    if args.train_on == 'data':
        hr_t, lq_t = frame_pairs(np.load(os.path.join(args.data, 'train.npz')), args.scale,
                                 args.clean, args.train_clips, args.all_frames)
    else:
        photos = None if args.train_on == 'eval-photos' else [
            p.astype(np.float32) for p in
            D.load_photos(sorted(D.TRAIN_PHOTOS), np.random.default_rng(0), D.SCALES_AUGMENT)]
        hr_t, lq_t = eval_like(args.scale, photos, count=2400, seed=11)
    hr_v, lq_v = frame_pairs(np.load(os.path.join(args.data, 'val.npz')), args.scale, args.clean)
    extra = []
    if args.fresh:
        extra.append(('fresh',) + frame_pairs(np.load(os.path.join(args.fresh, 'train.npz')),
                                              args.scale, args.clean, 400))
    if args.eval_like:
        extra.append(('eval-like',) + eval_like(args.scale))
    print(f'{hr_t.shape[0]} training pairs', flush=True)
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
        if args.cosine:
            for group in opt.param_groups:
                group['lr'] = 2e-3 * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * (it - 1) / args.iters)))
        idx = torch.randint(0, hr_t.shape[0], (args.batch,), generator=g)
        loss = T.charb(run(lq_t[idx]), hr_t[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 100 == 0:
            more = ''.join(f', {name} {gain(h, q):+.3f} dB' for name, h, q in extra)
            print(f'iter {it} ({time.time() - t0:.0f}s): gain over bicubic, training clips '
                  f'{gain(hr_t[:200], lq_t[:200]):+.3f} dB, held-out {gain(hr_v, lq_v):+.3f} dB'
                  + more, flush=True)


if __name__ == '__main__':
    main()
