"""Synthetic training clips with known motion, degraded like real footage.

Clips are rendered from real photographs shipped by Debian packages (see PHOTOS and README.md):
every HR frame n samples the photo through an affine map A_n (pan + zoom + rotation), and a
moving object (a crop of another photo, elliptical or rectangular) moves over it with its own
affine map B_n. Because both maps are known, the flow(current -> previous) is exact:
    flow_n(x) = A_{n-1}^{-1}(A_n(x)) - x   (background)  /  B_{n-1}^{-1}(B_n(x)) - x   (object)
The LQ frames go through a randomized degradation, second order for a third of the clips (blur,
resize, noise, JPEG, blur, resize to x1/4, noise, then per-frame JPEG or H.264 of the whole clip
via ffmpeg libx264); see degrade() for why the ranges are milder than Real-ESRGAN's.

Usage: /usr/bin/python3 models/lite/data.py --seed 0   (writes .cache/lite/{train,val}.npz)
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import cv2
import numpy as np

PHOTO_DIR = '/usr/share/backgrounds'
# Photographs from lomiri-wallpapers-16.04 (licences from /usr/share/doc/lomiri-wallpapers-16.04/copyright).
TRAIN_PHOTOS = {
    'Bridge_by_Sander_Klootwijk.jpg': 'CC-BY-SA-4.0, Sander Klootwijk 2018',
    'Dragonfly_by_Bolly.jpg': 'CC-BY-SA-4.0, "Bolly" 2018',
    'Picture_1A_by_freespace.jpg': 'CC-BY-4.0, Trevor "Freespace" 2018',
    'Wine_by_Jakkub_Mede.jpg': 'CC-BY-4.0, Jakub Mede 2018',
    'aitzgorri_by_Aitzol_Berasategi.jpg': 'CC-BY-4.0, Aitzol Berasategi 2018',
    'friends_by_Aitzol_Berasategi.jpg': 'CC-BY-4.0, Aitzol Berasategi 2018',
    'picosdeeuropa_by_Aitzol_Berasategi.jpg': 'CC-BY-4.0, Aitzol Berasategi 2018',
    'seeding_by_Clements_Engelhardt.jpg': 'CC0-1.0, Clemens Engelhardt 2018',
    'sunset_by_Aitzol_Berasategi.jpg': 'CC-BY-4.0, Aitzol Berasategi 2018',
}
# Held out: validation during training and models/lite/evaluate.py.
VAL_PHOTOS = {
    'life_by_Aitzol_Berasategi.jpg': 'CC-BY-4.0, Aitzol Berasategi 2018',
    'Picture_0B_by_freespace.jpg': 'CC-BY-4.0, Trevor "Freespace" 2018',
}
PHOTO_PACKAGE = 'lomiri-wallpapers-16.04 (Debian)'
# --extra-photos: two more photographs Debian ships, in python3-scipy (scipy.misc's sample data;
# licences from /usr/share/doc/python3-scipy/copyright and scipy.misc's docstrings).
EXTRA_DIR = '/usr/lib/python3/dist-packages/scipy/misc'
EXTRA_PHOTOS = {
    'face.dat': 'BSD-3-Clause (SciPy; its docs give the source as raccoon-procyon-lotor.jpg from '
                'public-domain-image.com, a public-domain photo), 1024x768 RGB',
    'ascent.dat': 'public domain (Debian python3-scipy copyright), 512x512 grey',
}
EXTRA_PACKAGE = 'python3-scipy (Debian)'

# --es-photos: the 273 landscape photographs (720x360 JPEG) in endless-sky-data
# (/usr/share/games/endless-sky/images/land/), licences from
# /usr/share/doc/endless-sky-data/copyright: public domain (morguefile, unsplash before its 2017
# licence change, NASA, USGS) except the files matched by ES_CC below.
ES_DIR = '/usr/share/games/endless-sky/images/land'
ES_PACKAGE = 'endless-sky-data (Debian)'
ES_CC = (  # (file-name pattern, licence) in the copyright file's order; the first match wins
    ('bwerner*', 'CC-BY-SA-3.0, Berthold Werner (Wikimedia Commons)'),
    ('myrabella*', 'CC-BY-SA-3.0, Myrabella (Wikimedia Commons)'),
    ('dmottl*', 'CC-BY-SA-3.0, Dmitry A. Mottl (Wikimedia Commons)'),
    ('mfield*', 'CC-BY-SA-3.0, Matthew Field (Wikimedia Commons)'),
    ('*-sfiera*', 'CC-BY-SA-4.0, Chris Pickel'),
    ('*-striker*', 'CC-BY-SA-4.0, Michael Wilso'),
    ('*-harro*', 'CC-BY-SA-4.0, @harro.eu'),
    ('*-iridium*', 'CC-BY-SA-4.0, @Iridium Ore'),
    ('*-spfld*', 'CC-BY-SA-4.0, Eric Denni'),
    ('lava5*', 'CC-BY-SA-4.0, Michael Zahniser'),
)
# 720x360 already: used at 0.6 and 0.85 (each +-10 %), which also softens their JPEG (q ~85-90)
ES_SCALES = (0.6, 0.85)


def es_licence(name):
    import fnmatch
    for pattern, licence in ES_CC:
        if fnmatch.fnmatch(name, pattern):
            return licence
    return 'public domain (endless-sky-data copyright: morguefile, unsplash, NASA or USGS)'


def es_photo_names():
    assert os.path.isdir(ES_DIR), f'{ES_DIR} is missing: apt-get install endless-sky-data'
    return sorted(f for f in os.listdir(ES_DIR) if f.endswith('.jpg'))


# --gpl-photos (experiments only; export.py refuses a checkpoint trained with them): photographs
# in plasma-workspace-wallpapers (/usr/share/wallpapers/<name>/contents/images/, largest file) and
# mate-backgrounds (/usr/share/backgrounds/mate/nature/), both GPL-2+ per their Debian copyright
# files. Whether weights trained on GPL-2+ pictures may ship under MIT is not settled here.
GPL_PLASMA = ('BytheWater', 'ColdRipple', 'ColorfulCups', 'DarkestHour', 'EveningGlow',
              'FallenLeaf', 'Grey', 'Kite', 'OneStandsOut', 'Path', 'summer_1am')
GPL_MATE = ('Aqua', 'Blinds', 'Dune', 'FreshFlower', 'Garden', 'GreenMeadow', 'LadyBird',
            'RainDrops', 'Storm', 'TwoWings', 'Wood', 'YellowFlower')


def gpl_photo_paths():
    paths = []
    for name in GPL_PLASMA:
        d = f'/usr/share/wallpapers/{name}/contents/images'
        assert os.path.isdir(d), f'{d} is missing: apt-get install plasma-workspace-wallpapers'
        paths.append(max((os.path.join(d, f) for f in os.listdir(d)), key=os.path.getsize))
    for name in GPL_MATE:
        f = f'/usr/share/backgrounds/mate/nature/{name}.jpg'
        assert os.path.exists(f), f'{f} is missing: apt-get install mate-backgrounds'
        paths.append(f)
    return paths


SCALE = 4  # default; --scale 2 makes the x2 set (LQ = HR / scale everywhere below)


SCALES = (0.22, 0.32, 0.45)
# --augment: more scales of each photo (object sizes and texture frequencies)
SCALES_AUGMENT = (0.15, 0.2, 0.27, 0.35, 0.45, 0.6)


def load_photos(names, rng, scales=SCALES, min_side=0):
    """Each photo at a few random downscales (INTER_AREA), so HR crops look like sharp video;
    never smaller than `min_side` px (names may be absolute paths)."""
    out = []
    for name in names:
        img = cv2.imread(os.path.join(PHOTO_DIR, name), cv2.IMREAD_COLOR)
        assert img is not None, name
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        for f in scales:
            f = max(f * rng.uniform(0.9, 1.1), min_side / min(img.shape[:2]))
            out.append(cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA))
    return out


def load_extra_photos(scales):
    """scipy.misc's face (RGB) and ascent (grey, as three equal channels). They are far smaller
    than the wallpapers (~3000-5000 px), so each scale is taken relative to a 3000-px photo and
    capped at the native size; repeated sizes are kept once."""
    import bz2
    import pickle
    with open(os.path.join(EXTRA_DIR, 'face.dat'), 'rb') as fh:
        face = np.frombuffer(bz2.decompress(fh.read()), np.uint8).reshape(768, 1024, 3)
    with open(os.path.join(EXTRA_DIR, 'ascent.dat'), 'rb') as fh:
        ascent = np.asarray(pickle.load(fh)).astype(np.uint8)
    out = []
    for img in (face, np.repeat(ascent[..., None], 3, 2)):
        factors = sorted({round(min(1.0, f * 3000 / max(img.shape[:2])), 2) for f in scales})
        for f in factors:
            out.append(img.copy() if f == 1.0 else
                       cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA))
    return out


def affine(cx, cy, angle, zoom, tx, ty, size):
    """2x3 map from frame pixel coords to photo coords: rotate/zoom about the frame centre,
    then place the frame centre at photo point (cx + tx, cy + ty)."""
    c, s = np.cos(angle) / zoom, np.sin(angle) / zoom
    h = (size - 1) / 2.0
    m = np.array([[c, -s, 0.0], [s, c, 0.0]])
    m[:, 2] = [cx + tx - (c * h - s * h), cy + ty - (s * h + c * h)]
    return m


def invert(m):
    a = np.vstack([m, [0, 0, 1]])
    return np.linalg.inv(a)[:2]


def apply(m, xs, ys):
    return m[0, 0] * xs + m[0, 1] * ys + m[0, 2], m[1, 0] * xs + m[1, 1] * ys + m[1, 2]


def render_clip(rng, photos, size, frames):
    """HR frames [T, size, size, 3] uint8, flow [T, 2, size, size] (frame 0: zeros),
    valid [T, size, size] (1 where the previous frame shows the same surface point)."""
    bg = photos[rng.integers(len(photos))]
    ph, pw = bg.shape[:2]
    margin = min(size * 1.2, 0.45 * min(ph, pw))
    cx = rng.uniform(margin, pw - margin)
    cy = rng.uniform(margin, ph - margin)
    kind = rng.choice(['pan', 'zoom', 'rotate', 'mixed'])
    speed = rng.uniform(0.0, 6.0) if rng.random() < 0.85 else rng.uniform(6.0, 16.0)
    direction = rng.uniform(0, 2 * np.pi)
    vx, vy = speed * np.cos(direction), speed * np.sin(direction)
    angle0 = rng.uniform(-0.3, 0.3)
    dangle = rng.uniform(-0.03, 0.03) if kind in ('rotate', 'mixed') else 0.0
    zoom0 = rng.uniform(0.8, 1.25)
    dzoom = rng.uniform(-0.03, 0.03) if kind in ('zoom', 'mixed') else 0.0
    if kind in ('zoom', 'rotate'):
        vx, vy = vx * 0.2, vy * 0.2
    bg_maps = [
        affine(cx, cy, angle0 + n * dangle, zoom0 * (1 + dzoom) ** n, n * vx, n * vy, size)
        for n in range(frames)
    ]
    has_obj = rng.random() < 0.6
    if has_obj:
        src = photos[rng.integers(len(photos))]
        osize = rng.uniform(0.25, 0.6) * size
        sh, sw = src.shape[:2]
        ocx, ocy = rng.uniform(osize, sw - osize), rng.uniform(osize, sh - osize)
        ospeed = rng.uniform(1.0, 8.0)
        od = rng.uniform(0, 2 * np.pi)
        # object position in the frame (its centre) moves; the texture inside moves with it
        px0, py0 = rng.uniform(0.25, 0.75, size=2) * size
        ovx, ovy = ospeed * np.cos(od), ospeed * np.sin(od)
        oang = rng.uniform(-0.04, 0.04)
        ellipse = rng.random() < 0.5
        ax = osize / 2 * rng.uniform(0.6, 1.0)
        ay = osize / 2 * rng.uniform(0.6, 1.0)

        def obj_map(n):
            # frame coords -> source photo coords
            ang = n * oang
            c, s = np.cos(ang), np.sin(ang)
            pxn, pyn = px0 + n * ovx, py0 + n * ovy
            m = np.array([[c, -s, 0.0], [s, c, 0.0]])
            m[:, 2] = [ocx - (c * pxn - s * pyn), ocy - (s * pxn + c * pyn)]
            return m

        obj_maps = [obj_map(n) for n in range(frames)]

        def obj_mask(m, xs, ys):
            u, v = apply(m, xs, ys)
            du, dv = u - ocx, v - ocy
            if ellipse:
                return (du / ax) ** 2 + (dv / ay) ** 2 <= 1.0
            return (np.abs(du) <= ax) & (np.abs(dv) <= ay)

    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    hr = np.zeros((frames, size, size, 3), np.uint8)
    flow = np.zeros((frames, 2, size, size), np.float32)
    valid = np.zeros((frames, size, size), np.uint8)
    masks = []
    for n in range(frames):
        img = cv2.warpAffine(
            bg, bg_maps[n], (size, size), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )
        mask = np.zeros((size, size), bool)
        if has_obj:
            mask = obj_mask(obj_maps[n], xs, ys)
            oimg = cv2.warpAffine(
                src, obj_maps[n], (size, size), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REFLECT,
            )
            # 1-px soft edge like a real object boundary
            soft = cv2.GaussianBlur(mask.astype(np.float32), (3, 3), 0.7)[..., None]
            img = (img * (1 - soft) + oimg * soft + 0.5).clip(0, 255).astype(np.uint8)
        hr[n] = img
        masks.append(mask)
        if n == 0:
            continue
        # background: x -> photo point -> position in frame n-1
        u, v = apply(bg_maps[n], xs, ys)
        bx, by = apply(invert(bg_maps[n - 1]), u, v)
        fx, fy = bx - xs, by - ys
        inb = (bx >= 0) & (bx <= size - 1) & (by >= 0) & (by <= size - 1)
        vis = inb.copy()
        if has_obj:
            # background point hidden by the object in the previous frame
            vis &= ~obj_mask(obj_maps[n - 1], bx, by)
            u, v = apply(obj_maps[n], xs, ys)
            qx, qy = apply(invert(obj_maps[n - 1]), u, v)
            fx = np.where(mask, qx - xs, fx)
            fy = np.where(mask, qy - ys, fy)
            oin = (qx >= 0) & (qx <= size - 1) & (qy >= 0) & (qy <= size - 1)
            vis = np.where(mask, oin, vis)
            # boundaries: soft edges mix both layers
            edge = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) != cv2.erode(
                mask.astype(np.uint8), np.ones((5, 5), np.uint8)
            )
            vis &= ~edge
        flow[n, 0], flow[n, 1] = fx, fy
        valid[n] = vis
    return hr, flow, valid


# ---------------------------------------------------------------- degradation

def gaussian_kernel(rng, size, sigma_range, aniso_p=0.5):
    s1 = rng.uniform(*sigma_range)
    if rng.random() < aniso_p:
        s2 = rng.uniform(*sigma_range)
        theta = rng.uniform(0, np.pi)
    else:
        s2, theta = s1, 0.0
    r = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cov = r @ np.diag([s1 * s1, s2 * s2]) @ r.T
    inv = np.linalg.inv(cov)
    ax = np.arange(size) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    pts = np.stack([xx, yy], -1)
    k = np.exp(-0.5 * np.einsum('...i,ij,...j->...', pts, inv, pts))
    return (k / k.sum()).astype(np.float32)


RESIZE_MODES = [cv2.INTER_AREA, cv2.INTER_CUBIC, cv2.INTER_LINEAR]


def add_noise(rng, frames, gauss_range, poisson_range, p_gray=0.4):
    """Same noise strength over the clip, fresh noise per frame (as a sensor gives)."""
    t, h, w, _ = frames.shape
    if rng.random() < 0.5:
        sigma = rng.uniform(*gauss_range) / 255.0
        if rng.random() < p_gray:
            n = rng.normal(0, sigma, (t, h, w, 1))
        else:
            n = rng.normal(0, sigma, (t, h, w, 3))
        return frames + n
    scale = 10 ** rng.uniform(*poisson_range)
    if rng.random() < p_gray:
        gray = frames.mean(-1, keepdims=True)
        noisy = rng.poisson(np.clip(gray, 0, 1) * 255 * scale) / (255 * scale)
        return frames + (noisy - gray)
    return rng.poisson(np.clip(frames, 0, 1) * 255 * scale) / (255 * scale)


def jpeg(rng, frame_f, q_range):
    q = int(rng.uniform(*q_range))
    u8 = (np.clip(frame_f, 0, 1) * 255 + 0.5).astype(np.uint8)
    ok, buf = cv2.imencode('.jpg', u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0


def degrade(rng, hr, scale=SCALE):
    """hr [T, S, S, 3] uint8 -> LQ float [T, S/scale, S/scale, 3] before the final compression
    step.

    Second order like Real-ESRGAN, but with milder ranges and each stage optional: Real-ESRGAN's
    ranges target perceptual (GAN) training, and with them most clips lose nearly all detail
    (median bicubic PSNR 20.4 dB on our validation clips), which left a small PSNR-trained model
    nothing to learn. Footage people enhance is mostly downscaled, somewhat blurred, a little
    noisy and compressed; the ranges below still reach heavy cases, but less often."""
    t, s = hr.shape[0], hr.shape[1]
    x = hr.astype(np.float32) / 255.0
    # first order
    if rng.random() < 0.7:
        k = gaussian_kernel(rng, 21, (0.2, 1.8))
        x = np.stack([cv2.filter2D(f, -1, k, borderType=cv2.BORDER_REFLECT) for f in x])
    r = rng.choice([rng.uniform(0.25, 0.5), rng.uniform(0.5, 1.0), 1.0], p=[0.15, 0.35, 0.5])
    if r < 1.0:
        mid = max(int(round(s * r)), s // scale)
        mode = RESIZE_MODES[rng.integers(3)]
        x = np.stack([cv2.resize(f, (mid, mid), interpolation=mode) for f in x])
    if rng.random() < 0.5:
        x = add_noise(rng, x, (1, 8), (0.5, 3))
    if rng.random() < 0.2:
        x = np.stack([jpeg(rng, f, (40, 95)) for f in x])
    # second order (a third of the clips)
    second = rng.random() < 0.3
    if second and rng.random() < 0.7:
        k = gaussian_kernel(rng, 15, (0.2, 1.2))
        x = np.stack([cv2.filter2D(f, -1, k, borderType=cv2.BORDER_REFLECT) for f in x])
    mode = RESIZE_MODES[rng.integers(3)]
    x = np.stack([cv2.resize(f, (s // scale, s // scale), interpolation=mode) for f in x])
    if second and rng.random() < 0.5:
        x = add_noise(rng, x, (1, 6), (0.8, 3))
    return np.clip(x, 0, 1).astype(np.float32)


def tile(clips):
    """clips [N, T, h, w, 3] -> one mosaic video [T, rows * h, cols * w, 3] (zeros where no clip
    falls), clips in row-major order on a near-square grid."""
    n, t, h, w, ch = clips.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    big = np.zeros((t, rows * h, cols * w, ch), clips.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        big[:, r * h:(r + 1) * h, c * w:(c + 1) * w] = clips[i]
    return big


def untile(big, n):
    """Inverse of tile() for a mosaic of n clips, at whatever size the mosaic now has (a
    downscaled mosaic gives downscaled clips): [T, H, W, 3] -> [n, T, H / rows, W / cols, 3]."""
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    t, H, W, ch = big.shape
    h, w = H // rows, W // cols
    out = np.zeros((n, t, h, w, ch), big.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        out[i] = big[:, r * h:(r + 1) * h, c * w:(c + 1) * w]
    return out


def h264_mosaic(clips, crf, tmpdir):
    """Encodes many small clips as one libx264 video (tiles aligned to 16-px macroblocks).
    clips [N, T, h, w, 3] float -> same shape after encode/decode."""
    n, t = clips.shape[:2]
    big = tile((np.clip(clips, 0, 1) * 255 + 0.5).astype(np.uint8))
    path = os.path.join(tmpdir, 'clip.mp4')
    H, W = big.shape[1:3]
    enc = [
        'ffmpeg', '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{W}x{H}',
        '-r', '25', '-i', '-', '-c:v', 'libx264', '-preset', 'medium', '-crf', str(crf),
        '-pix_fmt', 'yuv420p', path,
    ]
    subprocess.run(enc, input=big.tobytes(), check=True)
    dec = ['ffmpeg', '-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']
    raw = subprocess.run(dec, capture_output=True, check=True).stdout
    out = np.frombuffer(raw, np.uint8).reshape(t, H, W, 3)
    return untile(out, n).astype(np.float32) / 255.0


def lq_flow(flow_hr, scale=SCALE):
    """Flow at LQ pixel centres in LQ pixels: LQ centre u sits at HR coordinate
    scale * u + (scale - 1) / 2 (x4: 4u + 1.5, x2: 2u + 0.5), so average the two HR pixels
    around it on both axes, and divide by the scale."""
    t, _, s, _ = flow_hr.shape
    a, b = scale // 2 - 1, scale // 2 + 1
    f = flow_hr.reshape(t, 2, s // scale, scale, s // scale, scale)[:, :, :, a:b, :, a:b]
    return (f.mean(axis=(3, 5)) / scale).astype(np.float32)


def colour_augment(rng, hr):
    """One clip's HR frames [T, S, S, 3] uint8 in new colours: channel order, saturation and
    gamma drawn per clip. With nine training photos the model learned their palettes (held-out
    PSNR fell while the training PSNR rose); this makes more kinds of picture from the same
    textures, and leaves the motion (and so the flow) unchanged."""
    x = hr.astype(np.float32)[..., rng.permutation(3)] / 255.0
    grey = x.mean(-1, keepdims=True)
    x = np.clip(grey + (x - grey) * rng.uniform(0.4, 1.4), 0, 1) ** rng.uniform(0.7, 1.4)
    return (x * 255 + 0.5).astype(np.uint8)


def make_set(rng, photos, count, size, frames, h264_p=0.4, group=64, scale=SCALE,
             augment=False):
    lq_size = size // scale
    hr_all = np.zeros((count, frames, size, size, 3), np.uint8)
    flow_all = np.zeros((count, frames, 2, lq_size, lq_size), np.float32)
    valid_all = np.zeros((count, frames, size, size), np.uint8)
    lq_all = np.zeros((count, frames, lq_size, lq_size, 3), np.float32)
    codec = np.zeros(count, np.int8)  # 0 jpeg, 1 h264
    for i in range(count):
        hr, flow, valid = render_clip(rng, photos, size, frames)
        if augment and rng.random() < 0.8:
            hr = colour_augment(rng, hr)
        hr_all[i], valid_all[i] = hr, valid
        flow_all[i] = lq_flow(flow, scale)
        lq_all[i] = degrade(rng, hr, scale)
        codec[i] = 1 if rng.random() < h264_p else 0
    # final compression: per-frame JPEG, or H.264 for the whole clip (in mosaics)
    for i in np.where(codec == 0)[0]:
        if rng.random() < 0.7:
            lq_all[i] = np.stack([jpeg(rng, f, (50, 95)) for f in lq_all[i]])
    idx = np.where(codec == 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        for g in range(0, len(idx), group):
            sel = idx[g:g + group]
            crf = int(rng.integers(18, 31))
            lq_all[sel] = h264_mosaic(lq_all[sel], crf, tmp)
    lq_u8 = (np.clip(lq_all, 0, 1) * 255 + 0.5).astype(np.uint8)
    return dict(hr=hr_all, lq=lq_u8, flow=flow_all, valid=valid_all, codec=codec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--train-clips', type=int, default=2400)
    ap.add_argument('--val-clips', type=int, default=48)
    ap.add_argument('--frames', type=int, default=4)
    ap.add_argument('--scale', type=int, default=SCALE, choices=(2, 4))
    ap.add_argument('--out', default=None, help='default .cache/lite (x4), .cache/lite-x2 (x2)')
    ap.add_argument('--augment', action='store_true',
                    help='training clips: more photo scales and per-clip colour changes')
    ap.add_argument('--extra-photos', action='store_true',
                    help="training photos also from python3-scipy's sample data (EXTRA_PHOTOS)")
    ap.add_argument('--es-photos', action='store_true',
                    help="training photos also from endless-sky-data's landscapes (ES_DIR)")
    ap.add_argument('--gpl-photos', action='store_true',
                    help='experiments only: also the GPL-2+ photographs of GPL_PLASMA/GPL_MATE')
    args = ap.parse_args()
    args.out = args.out or ('.cache/lite' if args.scale == 4 else f'.cache/lite-x{args.scale}')
    # LQ crops are 32 px (training) and 64 px (validation) at every scale: the same cost per
    # iteration, and H.264 mosaic tiles stay aligned to 16-px macroblocks
    os.makedirs(args.out, exist_ok=True)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    train_photos = load_photos(sorted(TRAIN_PHOTOS), rng,
                               SCALES_AUGMENT if args.augment else SCALES)
    if args.extra_photos:
        train_photos += load_extra_photos(SCALES_AUGMENT if args.augment else SCALES)
    if args.es_photos:
        train_photos += load_photos([os.path.join(ES_DIR, f) for f in es_photo_names()], rng,
                                    ES_SCALES)
    if args.gpl_photos:
        # smaller than the wallpapers (1280-5120 px): at least 260 px so objects fit
        train_photos += load_photos(gpl_photo_paths(), rng,
                                    SCALES_AUGMENT if args.augment else SCALES, min_side=260)
    d = make_set(rng, train_photos, args.train_clips, 32 * args.scale, args.frames,
                 scale=args.scale, augment=args.augment)
    np.savez(os.path.join(args.out, 'train.npz'), **d)
    print(f'train: {args.train_clips} clips in {time.time() - t0:.0f}s', flush=True)
    vrng = np.random.default_rng(args.seed + 1000)
    val_photos = load_photos(sorted(VAL_PHOTOS), vrng)
    d = make_set(vrng, val_photos, args.val_clips, 64 * args.scale, 5, group=16, scale=args.scale)
    np.savez(os.path.join(args.out, 'val.npz'), **d)
    print(f'val: {args.val_clips} clips, total {time.time() - t0:.0f}s', flush=True)
    with open(os.path.join(args.out, 'data-args.json'), 'w') as fh:
        json.dump(vars(args), fh, indent=1)  # export.py puts these options in the pack's recipe


if __name__ == '__main__':
    main()
