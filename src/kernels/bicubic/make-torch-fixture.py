#!/usr/bin/python3
"""Writes bicubic.torch.json: PyTorch's own bicubic (align_corners=False) on small seeded inputs,
so the TS reference is checked against torch itself. Run with Debian's python (torch 1.13):
  /usr/bin/python3 src/kernels/bicubic/make-torch-fixture.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(7)
cases = []
for name, c, h, w, kwargs in [
    ('x4', 2, 5, 7, {'scale_factor': 4}),
    ('size 11x13', 1, 5, 7, {'size': (11, 13)}),
    ('down 3x4', 1, 5, 7, {'size': (3, 4)}),
    ('factor 2.5', 1, 5, 7, {'scale_factor': 2.5}),
]:
    x = torch.rand(1, c, h, w) * 2 - 1
    y = F.interpolate(x, mode='bicubic', align_corners=False, **kwargs)
    cases.append({
        'name': name,
        'channels': c,
        'inHeight': h,
        'inWidth': w,
        'outHeight': y.shape[2],
        'outWidth': y.shape[3],
        'scaleFactor': kwargs.get('scale_factor'),
        'input': [float(v) for v in x.flatten()],
        'output': [float(v) for v in y.flatten()],
    })

out = {'torch': torch.__version__, 'cases': cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bicubic.torch.json')
with open(path, 'w') as fh:
    json.dump(out, fh)
print('wrote', path)
