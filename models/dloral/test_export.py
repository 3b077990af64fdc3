"""Tests of the exporter's parts that need no real weights:
/usr/bin/python3 -m unittest models/dloral/test_export.py"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import export  # noqa: E402


class LoraMerge(unittest.TestCase):
    def test_merged_weights_equal_the_lora_forward(self):
        torch.manual_seed(0)
        lin = nn.Linear(6, 5)
        conv = nn.Conv2d(3, 4, 3, padding=1)
        r, alpha = 2, 8.0
        state = {'lin.base_layer.weight': lin.weight.detach().clone(),
                 'lin.base_layer.bias': lin.bias.detach().clone(),
                 'conv.base_layer.weight': conv.weight.detach().clone(),
                 'conv.base_layer.bias': conv.bias.detach().clone()}
        lora = {}
        for ad in ['quality', 'consistency']:
            la, lb = torch.randn(r, 6), torch.randn(5, r)
            ca, cb = torch.randn(r, 3, 3, 3), torch.randn(4, r, 1, 1)
            state[f'lin.lora_A.{ad}.weight'] = la
            state[f'lin.lora_B.{ad}.weight'] = lb
            state[f'conv.lora_A.{ad}.weight'] = ca
            state[f'conv.lora_B.{ad}.weight'] = cb
            lora[ad] = (la, lb, ca, cb)
        merged = export.merge_lora_state_dict(state, alpha)
        self.assertFalse(any('lora' in k for k in merged))
        x = torch.randn(7, 6)
        want = lin(x) + sum((alpha / r) * (x @ la.T) @ lb.T for la, lb, _, _ in lora.values())
        got = x @ merged['lin.weight'].T + merged['lin.bias']
        self.assertLess((want - got).abs().max().item(), 1e-4)
        img = torch.randn(1, 3, 8, 8)
        want = conv(img)
        for _, _, ca, cb in lora.values():
            want = want + (alpha / r) * nn.functional.conv2d(
                nn.functional.conv2d(img, ca, padding=1), cb)
        got = nn.functional.conv2d(img, merged['conv.weight'], merged['conv.bias'], padding=1)
        self.assertLess((want - got).abs().max().item(), 1e-4)

    def test_adapter_filter_and_missing_base(self):
        state = {'a.base_layer.weight': torch.zeros(2, 2), 'a.lora_A.x.weight': torch.ones(1, 2),
                 'a.lora_B.x.weight': torch.ones(2, 1)}
        self.assertEqual(export.merge_lora_state_dict(state, 8, ['y'])['a.weight'].sum().item(), 0)
        self.assertEqual(export.merge_lora_state_dict(state, 8)['a.weight'].sum().item(), 32)
        with self.assertRaises(KeyError):
            export.merge_lora_state_dict({'a.lora_A.x.weight': torch.ones(1, 2),
                                          'a.lora_B.x.weight': torch.ones(2, 1)}, 8)


class CfrAndManifest(unittest.TestCase):
    def test_cfr_pack_layout(self):
        rng = np.random.default_rng(1)
        heads, dim, cin = 2, 4, 4
        c = heads * dim
        t = {'q.weight': rng.normal(size=(c, cin, 1, 1)), 'q.bias': rng.normal(size=c),
             'k.weight': rng.normal(size=(c, cin, 1, 1)), 'k.bias': rng.normal(size=c),
             'v.weight': rng.normal(size=(c, cin, 1, 1)), 'v.bias': rng.normal(size=c),
             'tau.weight': rng.normal(size=(1, dim)), 'tau.bias': rng.normal(size=1),
             'out.weight': rng.normal(size=(cin, c, 1, 1)), 'out.bias': rng.normal(size=cin)}
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(export.write_cfr(t, heads, dim, 3000, d), c)
            with open(os.path.join(d, 'cfr.json')) as f:
                meta = json.load(f)
            blob = np.fromfile(os.path.join(d, 'cfr.bin'), dtype='<f4')
            self.assertEqual(meta['format'], 'upframe-cfr-1')
            self.assertEqual(meta['inChannels'], cin)
            off = meta['tensors']['out.weight']['offset'] // 4
            np.testing.assert_allclose(blob[off:off + cin * c],
                                       t['out.weight'].reshape(-1).astype(np.float32))
            self.assertEqual(blob.size, sum(np.prod(v['shape']) for v in meta['tensors'].values()))

    def test_manifest_lists_files_with_sha256(self):
        with tempfile.TemporaryDirectory() as d:
            for name in ['unet.onnx', 'prompt.bin']:
                with open(os.path.join(d, name), 'wb') as f:
                    f.write(name.encode())
            costs = {'weightBytes': 10, 'largestWeightBytes': 5, 'largest': 1, 'peak': 2}
            g = export.graph_entry('unet.onnx', [export.tensor('sample', [1, 8, 'h', 'w'],
                                                               'latent')],
                                   [export.tensor('out_sample', [1, 4, 'h', 'w'], 'latent')],
                                   costs, quadratic=20)
            m = export.write_manifest(d, {'unet': g}, 576, 'a prompt',
                                      [('unet.onnx', 'model'), ('prompt.bin', 'data')])
            self.assertEqual(m['kind'], 'dloral')
            self.assertEqual(m['files'][0]['sha256'], export.sha256_file(os.path.join(d, 'unet.onnx')))
            self.assertEqual(m['files'][0]['bytes'], len('unet.onnx'))
            ex = m['extra']['dloral']
            self.assertTrue(ex['encoderOutputScaled'] and ex['decoderClamps'])
            self.assertEqual(ex['unet']['largestActivation']['quadratic'], 20)


class GroupNormSync(unittest.TestCase):
    """SyncedGroupNorm on a small net shaped like a VAE block (conv, GroupNorm, SiLU, conv,
    GroupNorm on a 3-D attention-style input)."""

    @staticmethod
    def net():
        torch.manual_seed(3)
        body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(4, 8), nn.SiLU(),
                             nn.Conv2d(8, 8, 3, padding=1))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body, self.norm = body, nn.GroupNorm(2, 8, eps=1e-6)
                for gn in (body[1], self.norm):
                    nn.init.uniform_(gn.weight, 0.5, 1.5)
                    nn.init.uniform_(gn.bias, -0.3, 0.3)

            def forward(self, x):
                h = self.body(x)
                n, c, hh, ww = h.shape
                return self.norm(h.reshape(n, c, hh * ww)).reshape(h.shape)

        return Net().eval()

    def test_mix_zero_is_group_norm_and_mix_one_uses_the_given_statistics(self):
        plain = self.net()
        synced = export.SyncedExport(self.net())
        a = torch.randn(1, 3, 12, 10)
        b = torch.randn(1, 3, 12, 10) * 0.5 + 0.7  # other content, offset and contrast
        count = synced.count(a)
        self.assertEqual(count, 2 * 4 + 2 * 2)
        junk = torch.arange(count, dtype=torch.float32) + 3
        with torch.no_grad():
            want = plain(a)
            out0, stats_a = synced(a, junk, torch.tensor(0.0))
            _, stats_b = synced(b, torch.zeros(count), torch.tensor(0.0))
            out1, used = synced(a, stats_b, torch.tensor(1.0))
            # by hand: each GroupNorm with b's statistics, in execution order
            body = plain.body
            h = body[0](a).reshape(1, 4, -1)
            mg, vg = stats_b[0:4].reshape(1, 4, 1), stats_b[4:8].reshape(1, 4, 1)
            h = ((h - mg) / torch.sqrt(vg + 1e-5)).reshape(1, 8, 12, 10)
            h = body[3](body[2](h * body[1].weight.view(1, 8, 1, 1)
                                + body[1].bias.view(1, 8, 1, 1)))
            hb = body[0](b).reshape(1, 4, -1)
            g = h.reshape(1, 2, -1)
            mg, vg = stats_b[8:10].reshape(1, 2, 1), stats_b[10:12].reshape(1, 2, 1)
            g = ((g - mg) / torch.sqrt(vg + 1e-6)).reshape(1, 8, 120)
            hand = (g * plain.norm.weight.view(1, 8, 1) + plain.norm.bias.view(1, 8, 1))
            hand = hand.reshape(1, 8, 12, 10)
        # mix 0: nn.GroupNorm (the given statistics ignored)
        self.assertLess((out0 - want).abs().max().item(), 1e-6)
        # statistics layout: per layer the group means, then the biased variances
        np.testing.assert_allclose(stats_b[0:4].numpy(), hb.mean(2)[0].numpy(), atol=1e-6)
        np.testing.assert_allclose(stats_b[4:8].numpy(), hb.var(2, unbiased=False)[0].numpy(),
                                   rtol=1e-5)
        # mix 1 with b's statistics: another output, the hand computation's
        self.assertGreater((out1 - want).abs().max().item(), 0.1)
        self.assertLess((out1 - hand).abs().max().item(), 1e-4)
        # the statistics returned at mix 1 are still the graph's own: the first layer's are a's
        # (later layers' follow the earlier layers' synced outputs)
        np.testing.assert_allclose(used[:8].numpy(), stats_a[:8].numpy(), atol=1e-6)
        self.assertGreater((used[8:] - stats_a[8:]).abs().max().item(), 0.05)

    def test_onnx_export_has_the_sync_io(self):
        import onnx
        synced = export.SyncedExport(self.net())
        a = torch.randn(1, 3, 12, 10)
        count = synced.count(a)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'vae.onnx')
            export.export_onnx(synced, (a, torch.zeros(count), torch.tensor(0.0)), path,
                               ['image', 'gn_stats', 'gn_use_given'], ['out', 'gn_stats_out'],
                               {'image': {2: 'H', 3: 'W'}, 'out': {2: 'H', 3: 'W'}}, False,
                               {'gn_stats_out': [count]})
            model = onnx.load(path)
        dims = {i.name: [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim]
                for i in list(model.graph.input) + list(model.graph.output)}
        self.assertEqual(dims['gn_stats'], [count])
        self.assertEqual(dims['gn_use_given'], [])
        self.assertEqual(dims['gn_stats_out'], [count])
        ops = [n.op_type for n in model.graph.node]
        # the plain normalisation is still InstanceNormalization (as torch exports GroupNorm)
        self.assertEqual(ops.count('InstanceNormalization'), 2)
        ins, outs, contract = export.sync_io(count)
        self.assertEqual(contract, {'statsIn': 'gn_stats', 'statsOut': 'gn_stats_out',
                                    'mix': 'gn_use_given', 'count': count})
        self.assertEqual([t['shape'] for t in ins + outs], [[count], [], [count]])


class SpyNetGraph(unittest.TestCase):
    def test_exports_and_keeps_sizes(self):
        torch.manual_seed(0)
        bpp = {f'spynet.{k.replace(".0.", ".conv.", 1) if ".basic_module." in k else k}': v
               for k, v in export.SpyNetExport().state_dict().items()}
        net = export.load_spynet(bpp)
        cur, prev = torch.rand(1, 3, 24, 40) * 2 - 1, torch.rand(1, 3, 24, 40) * 2 - 1
        flow = net(cur, prev)
        self.assertEqual(tuple(flow.shape), (1, 2, 24, 40))
        # identical frames give (nearly) the flow of the untrained residual only, same both runs
        self.assertTrue(torch.equal(net(cur, prev), flow))


if __name__ == '__main__':
    unittest.main()
