#!/usr/bin/python3
# Not named dis.py: that would shadow the standard library module numpy imports.
"""OpenCV DIS optical flow (preset MEDIUM) for scripts/eval-flow/run.ts.

Usage: /usr/bin/python3 opencv-dis.py MANIFEST.json
The manifest lists pairs {width, height, current, previous, out}: current/previous are raw 8-bit
grey frames, out receives float32 [2, H, W] (x plane, then y plane) of
cv2.DISOpticalFlow.calc(current, previous), i.e. previous(x + flow) ~ current(x), the same
backward-warp convention as src/kernels/flow. Needs Debian's python3-opencv.
"""
import json
import sys

import numpy as np

try:
    import cv2
except ImportError:
    sys.exit('python3-opencv is missing: apt-get install -y python3-opencv')


def main() -> None:
    with open(sys.argv[1]) as fh:
        pairs = json.load(fh)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    for p in pairs:
        shape = (p['height'], p['width'])
        cur = np.fromfile(p['current'], dtype=np.uint8).reshape(shape)
        prev = np.fromfile(p['previous'], dtype=np.uint8).reshape(shape)
        flow = dis.calc(cur, prev, None)  # H x W x 2
        np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32).tofile(p['out'])
    print(json.dumps({'opencv': cv2.__version__, 'pairs': len(pairs)}))


main()
