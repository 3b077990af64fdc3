"""Trains Upframe-lite on the clips of data.py in two phases (as DLoRAL):

1. consistency phase: encoder + CFR + generator; Charbonnier pixel loss + flow-consistency loss
   between consecutive OUTPUTS (output_{n-1} warped by the GT flow at HR, compared with output_n
   on pixels visible in both frames, relative to the same difference of the GT frames so the
   bilinear warp's own blur is not penalised);
2. detail phase: encoder and CFR frozen (--freeze cfr: only the CFR); pixel loss + L1 on image
   gradients (sharpness, weight 0.5), with a small consistency weight kept. Loss weights cross over smoothly around the phase boundary.

The CFR is fed a perturbed flow (blurred, low-frequency noise, sometimes zero) so it tolerates the
pyramidal Lucas-Kanade flow the app computes; the consistency loss uses the exact GT flow.

Progress through the schedule (phase boundary, loss weights, cosine LR) is the larger of
iterations done / --iters and wall time / --max-minutes, so on 2 shared cores the run always
completes both phases within the time budget; the iterations actually done are recorded.

Usage: /usr/bin/python3 models/lite/train.py --seed 0 --iters 9000 --max-minutes 40 [--scale 2]
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402


def load(path):
    d = np.load(path)
    return {k: torch.from_numpy(d[k]) for k in d.files}


def to_batch(d, idx):
    hr = d['hr'][idx].permute(0, 1, 4, 2, 3).float() / 255.0
    lq = d['lq'][idx].permute(0, 1, 4, 2, 3).float() / 255.0
    flow = d['flow'][idx].float()
    valid = d['valid'][idx].float().unsqueeze(2)
    return hr, lq, flow, valid


def augment(g, hr, lq, flow, valid):
    """Flips and transpose, with the flow's components transformed to match."""
    if torch.rand(1, generator=g).item() < 0.5:
        hr, lq, flow, valid = (t.flip(-1) for t in (hr, lq, flow, valid))
        flow = torch.cat([-flow[:, :, :1], flow[:, :, 1:]], 2)
    if torch.rand(1, generator=g).item() < 0.5:
        hr, lq, flow, valid = (t.flip(-2) for t in (hr, lq, flow, valid))
        flow = torch.cat([flow[:, :, :1], -flow[:, :, 1:]], 2)
    if torch.rand(1, generator=g).item() < 0.5:
        hr, lq, flow, valid = (t.transpose(-1, -2) for t in (hr, lq, flow, valid))
        flow = flow.flip(2)
    return hr.contiguous(), lq.contiguous(), flow.contiguous(), valid.contiguous()


def perturb_flow(g, flow, max_error=0.5):
    """What an estimated flow looks like: smoothed over motion boundaries, low-frequency error
    of up to `max_error` px, now and then a failure (zero flow)."""
    n, t, _, h, w = flow.shape
    f = flow.flatten(0, 1)
    blur = (torch.rand(n * t, 1, 1, 1, generator=g) < 0.5).float()
    smooth = F.avg_pool2d(f, 5, 1, 2, count_include_pad=False)
    f = blur * smooth + (1 - blur) * f
    sigma = torch.rand(n * t, 1, 1, 1, generator=g) * max_error
    noise = torch.randn(n * t, 2, 4, 4, generator=g)
    f = f + sigma * F.interpolate(noise, size=(h, w), mode='bilinear', align_corners=False)
    fail = (torch.rand(n * t, 1, 1, 1, generator=g) < 0.05).float()
    return (f * (1 - fail)).unflatten(0, (n, t))


def hr_flow(flow, scale):
    """LQ flow -> HR flow (exact for affine motion away from the borders)."""
    n, t = flow.shape[:2]
    f = F.interpolate(flow.flatten(0, 1), scale_factor=scale, mode='bilinear',
                      align_corners=False) * scale
    return f.unflatten(0, (n, t))


def charb(x, y, mask=None):
    e = torch.sqrt((x - y) ** 2 + 1e-6)
    if mask is None:
        return e.mean()
    return (e * mask).sum() / (mask.sum() * x.shape[-3] + 1e-6)


def consistency_loss(out, hr, flow_hr, valid):
    n, t = out.shape[:2]
    border = torch.zeros_like(valid[:, 0])
    border[..., 4:-4, 4:-4] = 1
    total = 0.0
    for i in range(1, t):
        wo = M.warp(out[:, i - 1], flow_hr[:, i])
        wg = M.warp(hr[:, i - 1], flow_hr[:, i])
        total = total + charb(out[:, i] - wo, hr[:, i] - wg, valid[:, i] * border)
    return total / (t - 1)


def grad_loss(out, hr):
    dx = lambda x: x[..., :, 1:] - x[..., :, :-1]  # noqa: E731
    dy = lambda x: x[..., 1:, :] - x[..., :-1, :]  # noqa: E731
    return (dx(out) - dx(hr)).abs().mean() + (dy(out) - dy(hr)).abs().mean()


def psnr(x, y, crop=4):
    x = x[..., crop:-crop, crop:-crop].clamp(0, 1)
    y = y[..., crop:-crop, crop:-crop]
    mse = ((x - y) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse)).mean().item()


@torch.no_grad()
def validate(net, val, chunk=8):
    net.eval()
    ps, pb = [], []
    for s in range(0, val['hr'].shape[0], chunk):
        idx = torch.arange(s, min(s + chunk, val['hr'].shape[0]))
        hr, lq, flow, _ = to_batch(val, idx)
        out = net.forward_clip(lq, flow)
        bic = F.interpolate(lq.flatten(0, 1), scale_factor=net.scale, mode='bicubic',
                            align_corners=False)
        ps.append(psnr(out.flatten(0, 1), hr.flatten(0, 1)))
        pb.append(psnr(bic, hr.flatten(0, 1)))
    net.train()
    return float(np.mean(ps)), float(np.mean(pb))


def weights_at(p, boundary, ramp, cons=(0.3, 0.1), grad=0.5):
    """Loss weights at training progress p in [0, 1]: consistency cons[0] -> cons[1], gradient
    0 -> grad, crossing linearly over `ramp` centred on the phase boundary."""
    a = min(max((p - (boundary - ramp / 2)) / ramp, 0.0), 1.0)
    return cons[0] * (1 - a) + cons[1] * a, grad * a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--iters', type=int, default=2400)
    ap.add_argument('--batch', type=int, default=6)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--boundary', type=float, default=0.45, help='phase 1 -> 2 at this progress')
    ap.add_argument('--ramp', type=float, default=0.1)
    ap.add_argument('--cons', type=float, nargs=2, default=(0.3, 0.1),
                    help='consistency loss weight in phase 1 and in phase 2')
    ap.add_argument('--grad', type=float, default=0.5, help='gradient loss weight in phase 2')
    ap.add_argument('--flow-noise', type=float, default=0.5,
                    help="largest low-frequency error (LQ px) added to the CFR's training flow")
    ap.add_argument('--cfr-radius', type=int, default=M.RADIUS, help='CFR search radius (keys)')
    ap.add_argument('--cfr-topk', type=int, default=M.TOP_K, help='CFR keys kept per query')
    ap.add_argument('--gen-hidden', type=int, default=M.GEN_HIDDEN,
                    help='generator channels (recorded as extra.generator, which plans the tiles)')
    ap.add_argument('--gen-blocks', type=int, default=M.GEN_BLOCKS, help='generator 3x3 blocks')
    ap.add_argument('--freeze', choices=('encoder+cfr', 'cfr'), default='encoder+cfr',
                    help='what the detail phase freezes (the issue requires the CFR; the encoder '
                         'was frozen with it through session 6)')
    ap.add_argument('--recurrent', action='store_true',
                    help="CFR reference = frame n-1's warped fused features (cfr.json "
                    'reference "fused"; both app pipelines run it)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--val-every', type=int, default=100)
    ap.add_argument('--max-minutes', type=float, default=40.0,
                    help='time budget: schedule progress is max(iter / iters, time / budget)')
    ap.add_argument('--scale', type=int, default=M.SCALE, choices=(2, 4))
    ap.add_argument('--data', default=None, help='default .cache/lite (x4), .cache/lite-x2 (x2)')
    ap.add_argument('--out', default=None, help='default <data>/run')
    args = ap.parse_args()
    args.data = args.data or ('.cache/lite' if args.scale == 4 else f'.cache/lite-x{args.scale}')
    args.out = args.out or os.path.join(args.data, 'run')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    M.configure(vars(args))

    train = load(os.path.join(args.data, 'train.npz'))
    val = load(os.path.join(args.data, 'val.npz'))
    n_train = train['hr'].shape[0]
    net = M.Lite(args.scale, recurrent=args.recurrent)
    print(f'params: encoder {M.count_params(net.encoder)}, cfr {M.count_params(net.cfr)}, '
          f'generator {M.count_params(net.generator)}, total {M.count_params(net)}', flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    history = []
    best = -1.0
    t0 = time.time()
    frozen = False
    it = 0
    stopped_early = False
    for it in range(1, args.iters + 1):
        # progress by iterations or by the time budget, whichever is further: on a shared
        # machine the phases and the LR decay then still complete inside --max-minutes
        p = min(max((it - 1) / args.iters, (time.time() - t0) / 60 / args.max_minutes), 1.0)
        if not frozen and p >= args.boundary:
            for mod in (net.encoder, net.cfr) if args.freeze == 'encoder+cfr' else (net.cfr,):
                for q in mod.parameters():
                    q.requires_grad_(False)
                    q.grad = None
            frozen = True
            print(f'iter {it}: detail phase, {args.freeze} frozen', flush=True)
        lr = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * p)))
        for group in opt.param_groups:
            group['lr'] = lr
        idx = torch.randint(0, n_train, (args.batch,), generator=g)
        hr, lq, flow, valid = augment(g, *to_batch(train, idx))
        out = net.forward_clip(lq, perturb_flow(g, flow, args.flow_noise))
        lc, lg = weights_at(p, args.boundary, args.ramp, args.cons, args.grad)
        l_pix = charb(out, hr)
        l_cons = consistency_loss(out, hr, hr_flow(flow, args.scale), valid)
        l_grad = grad_loss(out, hr)
        loss = l_pix + lc * l_cons + lg * l_grad
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 25 == 0 or it == 1:
            el = time.time() - t0
            print(f'iter {it} t={el:.0f}s ({el / it:.2f}s/it) lr={lr:.2e} loss={loss.item():.4f} '
                  f'pix={l_pix.item():.4f} cons={l_cons.item():.4f} grad={l_grad.item():.4f} '
                  f'w=({lc:.2f},{lg:.2f})', flush=True)
        over = (time.time() - t0) / 60 > args.max_minutes or p >= 1.0
        if it % args.val_every == 0 or it == args.iters or over:
            vp, vb = validate(net, val)
            el = time.time() - t0
            history.append({'iter': it, 'seconds': round(el), 'valPsnr': vp, 'valBicubic': vb,
                            'loss': loss.item(), 'pix': l_pix.item(), 'cons': l_cons.item(),
                            'grad': l_grad.item()})
            print(f'VAL iter {it}: PSNR {vp:.3f} dB, bicubic {vb:.3f} dB, gain {vp - vb:+.3f} dB',
                  flush=True)
            state = {'model': net.state_dict(), 'iter': it, 'valPsnr': vp, 'valBicubic': vb,
                     'args': vars(args), 'seconds': el}
            torch.save(state, os.path.join(args.out, 'last.pt'))
            if vp > best:
                best = vp
                torch.save(state, os.path.join(args.out, 'best.pt'))
            with open(os.path.join(args.out, 'history.json'), 'w') as fh:
                json.dump({'args': vars(args), 'history': history}, fh, indent=1)
        if over:
            stopped_early = True
            print(f'stopping at iter {it}: --max-minutes reached', flush=True)
            break
    summary = {'args': vars(args), 'itersDone': it, 'stoppedEarly': stopped_early,
               'seconds': round(time.time() - t0), 'bestValPsnr': best, 'history': history}
    with open(os.path.join(args.out, 'history.json'), 'w') as fh:
        json.dump(summary, fh, indent=1)
    print(f'done: {it} iters in {summary["seconds"]}s, best val PSNR {best:.3f} dB', flush=True)


if __name__ == '__main__':
    main()
