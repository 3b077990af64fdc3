#!/usr/bin/env python3
"""Export the released DLoRAL weights to an Upframe `dloral` pack.

    /usr/bin/python3 models/dloral/export.py \
        --sd21 preset_models/stable-diffusion-2-1-base \
        --checkpoint model_checkpoint.pkl \
        --prompt "clean, high-resolution, 8k, sharp, detailed" \
        --out models/packs/dloral [--fp16] [--lora-alpha 8]

Needs: torch (1.13 is enough), onnx, numpy, and `diffusers` + `transformers` to read SD 2.1
(UNet2DConditionModel, AutoencoderKL, CLIPTextModel, CLIPTokenizer). No peft: the LoRA branches
are merged here from the raw state dict.

What it expects:
- `--sd21`: the diffusers folder of stabilityai/stable-diffusion-2-1-base (unet/, vae/,
  text_encoder/, tokenizer/), as the released code loads it.
- `--checkpoint`: the official DLoRAL checkpoint, a torch pickle with `state_dict_unet` (the
  peft-wrapped UNet with the 8-channel conv_in and the six LoRA adapters
  default_{encoder,decoder,others}_{quality,consistency}: C-LoRA and D-LoRA), `state_dict_bpp`
  (the CFR module with its SpyNet) and, when present, `state_dict_vae`.

What it writes (the contract of src/engine/dloral-pack.ts, the same as models/tiny-dloral):
- vae_encoder.onnx  image [1,3,H,W] in [-1,1] -> latent [1,4,H/8,W/8] = mean * 0.18215
- unet.onnx         sample [1,8,h,w] = [warped z_(n-1) | fused], timestep float [1] (value 1),
                    encoder_hidden_states [1,77,1024] -> out_sample [1,4,h,w]; LoRA merged
- vae_decoder.onnx  latent [1,4,h,w] -> image [1,3,8h,8w] = clamp(decode(latent / 0.18215), -1, 1)
                    (both VAE graphs also take gn_stats [count], gn_use_given [] and return
                    gn_stats_out [count]: the GroupNorm sync of their tiles, SyncedGroupNorm)
- spynet.onnx       current, previous [1,3,h,w] in [-1,1] -> flow [1,2,h,w] (current -> previous),
                    with the released ImageNet normalisation of [0,1] inputs inside the graph
- cfr.json/cfr.bin  the CFR projections in the upframe-cfr-1 format
- prompt.bin        float32 [1,77,1024], the CLIP context of --prompt, computed once
- manifest.json     kind "dloral", every file's sha256 and size, extra.dloral with tensor names,
                    shapes, dtypes, ranges and the memory costs the planner uses
Graphs over 2 GB (the fp32 UNet) are saved with external data (<graph>.onnx.data), listed in the
manifest as role "weights". With --fp16 the weights are stored as float16 and the graphs keep
float32 inputs and outputs (Cast nodes at the borders), so the pipeline feeds them unchanged.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT_SCALE = 0.18215
TOKENS = 77
CONTEXT = 1024
CFR_NAMES = ['q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'tau.weight',
             'tau.bias', 'out.weight', 'out.bias']
LORA_ADAPTERS = ['default_encoder_quality', 'default_decoder_quality', 'default_others_quality',
                 'default_encoder_consistency', 'default_decoder_consistency',
                 'default_others_consistency']


# --------------------------------------------------------------------------- LoRA merging

def merge_lora_state_dict(state, alpha, adapters=None):
    """Folds peft LoRA branches into plain weights.

    peft stores a wrapped layer as `<name>.base_layer.weight` plus, per adapter,
    `<name>.lora_A.<adapter>.weight` [r, in(, k, k)] and `<name>.lora_B.<adapter>.weight`
    [out, r(, 1, 1)]; the layer computes W x + (alpha / r) * B(A(x)). The merged weight is
    W + (alpha / r) * B @ A (for a conv: B [out, r] times A [r, in*k*k], reshaped). peft's
    LoraConfig default lora_alpha is 8 and the released code does not set it, so alpha = 8.
    Returns a plain state dict (`<name>.weight`, no lora keys).
    """
    out = {}
    loras = {}
    for key, value in state.items():
        if '.lora_A.' in key or '.lora_B.' in key:
            side = 'A' if '.lora_A.' in key else 'B'
            base, rest = key.split(f'.lora_{side}.', 1)
            adapter = rest.rsplit('.', 1)[0]
            loras.setdefault((base, adapter), {})[side] = value
            continue
        if '.lora_' in key:  # lora_dropout / embedding variants hold no weights we merge
            continue
        out[key.replace('.base_layer.', '.')] = value
    for (base, adapter), ab in sorted(loras.items()):
        if adapters is not None and adapter not in adapters:
            continue
        if 'A' not in ab or 'B' not in ab:
            raise ValueError(f'LoRA {base} / {adapter} lacks its A or B matrix')
        a, b = ab['A'].float(), ab['B'].float()
        r = a.shape[0]
        delta = (b.reshape(b.shape[0], r) @ a.reshape(r, -1)) * (alpha / r)
        key = f'{base}.weight'
        if key not in out:
            raise KeyError(f'LoRA {adapter} targets {key}, which the state dict lacks')
        out[key] = (out[key].float() + delta.reshape(out[key].shape)).to(out[key].dtype)
    return out


# --------------------------------------------------------------------------- CFR weights

def write_cfr(tensors, heads, head_dim, temperature, out_dir):
    """Writes cfr.json + cfr.bin (format upframe-cfr-1, see src/kernels/cfr-attention/cfr-weights.ts).

    `tensors` maps CFR_NAMES to arrays: 1x1 conv weights as [out, in] (or [out, in, 1, 1]),
    tau as Linear(head_dim -> 1).
    """
    cin = np.asarray(tensors['q.weight']).reshape(heads * head_dim, -1).shape[1]
    c = heads * head_dim
    shapes = {'q.weight': [c, cin], 'q.bias': [c], 'k.weight': [c, cin], 'k.bias': [c],
              'v.weight': [c, cin], 'v.bias': [c], 'tau.weight': [1, head_dim], 'tau.bias': [1],
              'out.weight': [cin, c], 'out.bias': [cin]}
    blob = bytearray()
    described = {}
    for name in CFR_NAMES:
        arr = np.asarray(tensors[name], dtype=np.float32).reshape(shapes[name])
        if not np.all(np.isfinite(arr)):
            raise ValueError(f'CFR tensor {name} holds non-finite values')
        described[name] = {'offset': len(blob), 'shape': shapes[name]}
        blob += arr.astype('<f4').tobytes()
    meta = {'format': 'upframe-cfr-1', 'inChannels': int(cin), 'heads': heads,
            'headDim': head_dim, 'temperature': float(temperature), 'dtype': 'float32',
            'tensors': described}
    with open(os.path.join(out_dir, 'cfr.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    with open(os.path.join(out_dir, 'cfr.bin'), 'wb') as f:
        f.write(bytes(blob))
    return c


def cfr_tensors_from_checkpoint(bpp, prefix):
    """The CFR attention's projections from `state_dict_bpp`. `prefix` names the attention module
    (CrossFrameAbsoluteAttn inside CFR_model); its q/k/v/out 1x1 convs and the tau Linear are
    looked up under the names below. A checkpoint with other names fails with the list of the
    keys it does have, so the mapping can be fixed with --cfr-prefix / --cfr-names."""
    return {name: bpp[f'{prefix}{name}'].float().numpy() for name in CFR_NAMES}


# --------------------------------------------------------------------------- SpyNet

class SpyBasic(nn.Module):
    def __init__(self):
        super().__init__()
        chans = [8, 32, 64, 32, 16, 2]
        self.basic_module = nn.Sequential(*[
            nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 7, 1, 3))
            for i in range(5)])

    def forward(self, x):
        for i, block in enumerate(self.basic_module):
            x = block(x)
            if i < 4:
                x = F.relu(x)
        return x


def flow_warp_border(x, flow):
    n, _, h, w = x.shape
    gy, gx = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype))
    gx = (gx + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    gy = (gy + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    return F.grid_sample(x, torch.stack((gx, gy), 3), mode='bilinear', padding_mode='border',
                         align_corners=True)


class SpyNetExport(nn.Module):
    """The released SPyNet (mmedit/BasicVSR) with the pipeline's I/O: frames in [-1, 1], mapped to
    [0, 1] and ImageNet-normalised as the released code does; flow(current -> previous)."""

    def __init__(self):
        super().__init__()
        self.basic_module = nn.ModuleList([SpyBasic() for _ in range(6)])
        self.register_buffer('mean', torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def compute_flow(self, ref, supp):
        n, _, h, w = ref.shape
        ref = [(ref - self.mean) / self.std]
        supp = [(supp - self.mean) / self.std]
        for _ in range(5):
            ref.append(F.avg_pool2d(ref[-1], 2, 2, count_include_pad=False))
            supp.append(F.avg_pool2d(supp[-1], 2, 2, count_include_pad=False))
        ref, supp = ref[::-1], supp[::-1]
        flow = ref[0].new_zeros(n, 2, h // 32, w // 32)
        for level in range(len(ref)):
            up = flow if level == 0 else F.interpolate(
                flow, scale_factor=2, mode='bilinear', align_corners=True) * 2.0
            flow = up + self.basic_module[level](
                torch.cat([ref[level], flow_warp_border(supp[level], up), up], 1))
        return flow

    def forward(self, current, previous):
        ref = (current + 1) / 2
        supp = (previous + 1) / 2
        h, w = ref.shape[2:4]
        h_up = h if h % 32 == 0 else 32 * (h // 32 + 1)
        w_up = w if w % 32 == 0 else 32 * (w // 32 + 1)
        ref = F.interpolate(ref, size=(h_up, w_up), mode='bilinear', align_corners=False)
        supp = F.interpolate(supp, size=(h_up, w_up), mode='bilinear', align_corners=False)
        flow = F.interpolate(self.compute_flow(ref, supp), size=(h, w), mode='bilinear',
                             align_corners=False)
        return torch.cat([flow[:, :1] * (w / w_up), flow[:, 1:] * (h / h_up)], 1)


def load_spynet(bpp, prefix='spynet.'):
    net = SpyNetExport()
    sd = {}
    for k, v in bpp.items():
        if k.startswith(prefix):
            # mmcv ConvModule keeps the conv under `.conv.`
            sd[k[len(prefix):].replace('.conv.', '.0.')] = v.float()
    missing, unexpected = net.load_state_dict(sd, strict=False)
    missing = [m for m in missing if m not in ('mean', 'std')]
    if missing:
        raise KeyError(f'SpyNet weights missing under "{prefix}": {missing[:5]}...')
    return net.eval()


# --------------------------------------------------------------------------- GroupNorm sync

GN_SYNC = {'statsIn': 'gn_stats', 'statsOut': 'gn_stats_out', 'mix': 'gn_use_given'}


class GroupNormHub:
    """What the synced GroupNorms of one graph share during a forward: the given statistics, the
    mix, the running offset into them (execution order, which is the order the trace fixes as
    constant slices) and the statistics each layer computed."""

    def __init__(self):
        self.given, self.mix, self.offset, self.collected = None, None, 0, []

    def begin(self, given, mix):
        self.given, self.mix, self.offset, self.collected = given, mix, 0, []

    def end(self):
        return torch.cat(self.collected)


class SyncedGroupNorm(nn.Module):
    """nn.GroupNorm's math with the tiled-VAE statistics sync (the `groupNormSync` contract of
    src/engine/dloral-pack.ts): own per-group mean mo and (biased) variance vo, normalised with
    m = mo + mix (mg - mo), v = vo + mix (vg - vo), given mg, vg sliced from the hub's statistics.
    Written as IN(x) + (IN(x) (so - sv) - (m - mo)) / sv (so = sqrt(vo + eps), sv = sqrt(v + eps),
    IN(x) = F.group_norm without affine, exported as InstanceNormalization): the same value, and at
    mix = 0 the correction is exactly 0, so the graph is the plain GroupNorm's bit for bit."""

    def __init__(self, gn, hub):
        super().__init__()
        self.num_groups, self.eps, self.hub = gn.num_groups, gn.eps, hub
        self.weight, self.bias = gn.weight, gn.bias

    def forward(self, x):
        g = self.num_groups
        grouped = x.reshape(x.shape[0], g, -1)
        normed = F.group_norm(x, g, eps=self.eps).reshape(grouped.shape)
        mo = grouped.mean(2, keepdim=True)
        vo = ((grouped - mo) ** 2).mean(2, keepdim=True)
        hub = self.hub
        if hub.given is None:  # probing: own statistics only
            y = normed
        else:
            at = hub.offset
            mg = hub.given[at:at + g].reshape(1, g, 1)
            vg = hub.given[at + g:at + 2 * g].reshape(1, g, 1)
            m = mo + hub.mix * (mg - mo)
            v = vo + hub.mix * (vg - vo)
            so = torch.sqrt(vo + self.eps)
            sv = torch.sqrt(v + self.eps)
            y = normed + (normed * (so - sv) - (m - mo)) / sv
        hub.offset += 2 * g
        hub.collected += [mo.reshape(-1), vo.reshape(-1)]
        y = y.reshape(x.shape)
        if self.weight is not None:
            shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y


def sync_group_norms(module):
    """Replaces every nn.GroupNorm inside `module` (in place) by a SyncedGroupNorm; returns their
    hub."""
    hub = GroupNormHub()
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.GroupNorm):
                setattr(parent, name, SyncedGroupNorm(child, hub))
    return hub


class SyncedExport(nn.Module):
    """A VAE graph with the sync I/O: (x, gn_stats [count], gn_use_given []) ->
    (output, gn_stats_out [count])."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.hub = sync_group_norms(inner)

    def count(self, example):
        """Floats of gn_stats for this graph (one probing forward on `example`)."""
        self.hub.begin(None, None)
        with torch.no_grad():
            self.inner(example)
        return int(self.hub.end().numel())

    def forward(self, x, gn_stats, gn_use_given):
        self.hub.begin(gn_stats, gn_use_given)
        out = self.inner(x)
        return out, self.hub.end()


def sync_io(count):
    """The manifest's extra inputs, output and contract of a synced VAE graph."""
    return ([tensor(GN_SYNC['statsIn'], [count], 'any'), tensor(GN_SYNC['mix'], [], 'any')],
            [tensor(GN_SYNC['statsOut'], [count], 'any')], dict(GN_SYNC, count=count))


# --------------------------------------------------------------------------- graphs

class EncoderExport(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.encoder, self.quant_conv = vae.encoder, vae.quant_conv

    def forward(self, image):
        mean, _ = self.quant_conv(self.encoder(image)).chunk(2, dim=1)
        return mean * LATENT_SCALE


class DecoderExport(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.decoder, self.post_quant_conv = vae.decoder, vae.post_quant_conv

    def forward(self, latent):
        return self.decoder(self.post_quant_conv(latent / LATENT_SCALE)).clamp(-1, 1)


class UNetExport(nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep, encoder_hidden_states=encoder_hidden_states).sample


def export_onnx(module, args, path, inputs, outputs, dynamic, fp16, fixed=None):
    """`fixed` {output name: dims}: shapes the trace leaves symbolic (a Concat's length)."""
    import onnx
    from onnx import numpy_helper
    module = module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=17, do_constant_folding=True)
    model = onnx.load(path, load_external_data=True)
    for out in model.graph.output:
        if fixed and out.name in fixed:
            shape = out.type.tensor_type.shape
            del shape.dim[:]
            for d in fixed[out.name]:
                shape.dim.add().dim_value = d
    if fp16:
        # weights in fp16, computed in fp32: a Cast after every float initializer keeps the
        # graph's arithmetic and I/O float32 while the file and device copy shrink by half
        graph = model.graph
        new_inits, casts = [], []
        for init in graph.initializer:
            if init.data_type == onnx.TensorProto.FLOAT and np.prod(init.dims) > 16:
                arr = numpy_helper.to_array(init).astype(np.float16)
                half = numpy_helper.from_array(arr, init.name + '_fp16')
                new_inits.append(half)
                casts.append(onnx.helper.make_node('Cast', [half.name], [init.name],
                                                   to=onnx.TensorProto.FLOAT))
            else:
                new_inits.append(init)
        del graph.initializer[:]
        graph.initializer.extend(new_inits)
        nodes = list(graph.node)
        del graph.node[:]
        graph.node.extend(casts + nodes)
    size = model.ByteSize()
    external = size > 2_000_000_000 - 64_000_000
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + '.data', size_threshold=1024)
    else:
        onnx.save_model(model, path)
    return model, external


def graph_costs(model, channels_at_scale):
    """Weight bytes, largest weight, and a linear activation cost per input pixel.

    `channels_at_scale` lists (channels, side scale relative to the graph input) of the widest
    activations, from the architecture (SD: 320 channels at latent size in the UNet, 128 at 8x
    in the decoder...); attention score matrices add the quadratic term."""
    from onnx import numpy_helper
    sizes = [numpy_helper.to_array(i).nbytes for i in model.graph.initializer]
    per = sorted((c * s * s * 4 for c, s in channels_at_scale), reverse=True)
    return {'weightBytes': int(sum(sizes)), 'largestWeightBytes': int(max(sizes)),
            'largest': per[0], 'peak': sum(per[:3])}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def tensor(name, shape, rng):
    return {'name': name, 'shape': shape, 'dtype': 'float32', 'range': rng}


def write_manifest(out_dir, graphs, cfr_channels, prompt_text, files, name='dloral',
                   title='DLoRAL (one-step diffusion VSR)', process_size=512):
    """manifest.json for the files in `files` [(path, role)]: sizes and sha256 from disk."""
    entries = []
    for path, role in files:
        full = os.path.join(out_dir, path)
        entries.append({'path': path, 'bytes': os.path.getsize(full),
                        'sha256': sha256_file(full), 'role': role})
    extra = {
        'format': 'upframe-dloral-1', 'latentChannels': 4, 'latentScale': LATENT_SCALE,
        'encoderOutputScaled': True, 'decoderInputScaled': True, 'decoderClamps': True,
        'processSize': process_size, 'timestep': 1,
        'latentTile': {'size': 96, 'overlap': 32}, 'vaeEncoderTile': 1024, 'vaeDecoderTile': 224,
        'cfr': {'json': 'cfr.json', 'bin': 'cfr.bin', 'topK': 'all', 'channels': cfr_channels},
        'prompt': {'path': 'prompt.bin', 'text': prompt_text, 'shape': [1, TOKENS, CONTEXT]},
    }
    extra.update(graphs)
    manifest = {
        'format': 'upframe-pack-1', 'name': name, 'title': title, 'kind': 'dloral', 'scale': 4,
        'licence': 'Apache-2.0 (DLoRAL code); CreativeML Open RAIL++-M (SD 2.1 weights)',
        'source': 'https://github.com/yjsunnn/DLoRAL + stabilityai/stable-diffusion-2-1-base',
        'description': 'DLoRAL one-step diffusion video super-resolution x4, exported by '
                       'models/dloral/export.py.',
        'files': entries,
        'inputs': [{'name': 'frame', 'dtype': 'float32', 'shape': [1, 3, 'h', 'w'],
                    'layout': 'NCHW', 'range': '0,255'}],
        'outputs': [{'name': 'enhanced', 'dtype': 'float32', 'shape': [1, 3, 'h*4', 'w*4'],
                     'layout': 'NCHW', 'range': '0,255'}],
        'extra': {'dloral': extra},
    }
    with open(os.path.join(out_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    return manifest


def graph_entry(path, inputs, outputs, costs, quadratic=0.0):
    return {'path': path, 'inputs': inputs, 'outputs': outputs,
            'weightBytes': costs['weightBytes'], 'largestWeightBytes': costs['largestWeightBytes'],
            'largestActivation': {'linear': costs['largest'], 'quadratic': quadratic},
            'peakActivation': {'linear': costs['peak'], 'quadratic': quadratic * 2}}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sd21', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--prompt', default='clean, high-resolution, 8k, sharp, detailed')
    p.add_argument('--out', required=True)
    p.add_argument('--fp16', action='store_true')
    p.add_argument('--lora-alpha', type=float, default=8.0)
    p.add_argument('--cfr-prefix', default='cross_frame_attn.',
                   help='prefix of the CFR attention tensors inside state_dict_bpp')
    p.add_argument('--cfr-temperature', type=float, default=3000.0)
    p.add_argument('--spynet-prefix', default='spynet.')
    args = p.parse_args(argv)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    os.makedirs(args.out, exist_ok=True)
    ckpt = torch.load(args.checkpoint, map_location='cpu')
    files = []

    # UNet: SD 2.1 with the 8-channel conv_in, checkpoint weights, LoRA merged (alpha / r)
    unet = UNet2DConditionModel.from_pretrained(args.sd21, subfolder='unet')
    unet.conv_in = nn.Conv2d(8, unet.conv_in.out_channels, 3, padding=1)
    merged = merge_lora_state_dict(ckpt['state_dict_unet'], args.lora_alpha, LORA_ADAPTERS)
    missing, unexpected = unet.load_state_dict(merged, strict=False)
    if missing:
        raise KeyError(f'UNet weights missing from the checkpoint: {missing[:8]}')
    model, ext = export_onnx(
        UNetExport(unet), (torch.randn(1, 8, 64, 64), torch.tensor([1.0]),
                           torch.randn(1, TOKENS, CONTEXT)),
        os.path.join(args.out, 'unet.onnx'), ['sample', 'timestep', 'encoder_hidden_states'],
        ['out_sample'], {'sample': {2: 'h', 3: 'w'}, 'out_sample': {2: 'h', 3: 'w'}}, args.fp16)
    files.append(('unet.onnx', 'model'))
    if ext:
        files.append(('unet.onnx.data', 'weights'))
    # self-attention at latent size: 5 heads x (hw)^2 scores, fp32
    unet_costs = graph_costs(model, [(320, 1), (640, 0.5), (1280, 0.25)])
    graphs = {'unet': graph_entry(
        'unet.onnx',
        [tensor('sample', [1, 8, 'h', 'w'], 'latent'), tensor('timestep', [1], 'any'),
         tensor('encoder_hidden_states', [1, TOKENS, CONTEXT], 'any')],
        [tensor('out_sample', [1, 4, 'h', 'w'], 'latent')], unet_costs, quadratic=5 * 4)}

    # VAE (with the checkpoint's encoder LoRA when it ships one)
    vae = AutoencoderKL.from_pretrained(args.sd21, subfolder='vae')
    if 'state_dict_vae' in ckpt:
        vae.load_state_dict(merge_lora_state_dict(ckpt['state_dict_vae'], args.lora_alpha),
                            strict=False)
    # both VAE graphs with the GroupNorm sync (its tiles share the frame's statistics)
    enc = SyncedExport(EncoderExport(vae).eval())
    image = torch.randn(1, 3, 256, 256)
    count = enc.count(image)
    model, _ = export_onnx(enc, (image, torch.zeros(count), torch.tensor(0.0)),
                           os.path.join(args.out, 'vae_encoder.onnx'),
                           ['image', GN_SYNC['statsIn'], GN_SYNC['mix']],
                           ['latent', GN_SYNC['statsOut']],
                           {'image': {2: 'H', 3: 'W'}, 'latent': {2: 'h', 3: 'w'}}, args.fp16,
                           {GN_SYNC['statsOut']: [count]})
    files.append(('vae_encoder.onnx', 'model'))
    ins, outs, contract = sync_io(count)
    # mid-block self-attention at latent size: (HW / 64)^2 scores per input pixel^2
    graphs['vaeEncoder'] = graph_entry(
        'vae_encoder.onnx', [tensor('image', [1, 3, 'H', 'W'], '-1,1')] + ins,
        [tensor('latent', [1, 4, 'h', 'w'], 'latent')] + outs,
        graph_costs(model, [(128, 1), (256, 0.5), (512, 0.25)]), quadratic=4 / 4096)
    graphs['vaeEncoder']['groupNormSync'] = contract
    dec = SyncedExport(DecoderExport(vae).eval())
    latent = torch.randn(1, 4, 32, 32)
    count = dec.count(latent)
    model, _ = export_onnx(dec, (latent, torch.zeros(count), torch.tensor(0.0)),
                           os.path.join(args.out, 'vae_decoder.onnx'),
                           ['latent', GN_SYNC['statsIn'], GN_SYNC['mix']],
                           ['image', GN_SYNC['statsOut']],
                           {'latent': {2: 'h', 3: 'w'}, 'image': {2: 'H', 3: 'W'}}, args.fp16,
                           {GN_SYNC['statsOut']: [count]})
    files.append(('vae_decoder.onnx', 'model'))
    ins, outs, contract = sync_io(count)
    graphs['vaeDecoder'] = graph_entry(
        'vae_decoder.onnx', [tensor('latent', [1, 4, 'h', 'w'], 'latent')] + ins,
        [tensor('image', [1, 3, 'H', 'W'], '-1,1')] + outs,
        graph_costs(model, [(128, 8), (256, 4), (512, 2)]), quadratic=4)
    graphs['vaeDecoder']['groupNormSync'] = contract

    # SpyNet and CFR from state_dict_bpp
    bpp = ckpt['state_dict_bpp']
    spynet = load_spynet(bpp, args.spynet_prefix)
    model, _ = export_onnx(spynet, (torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1),
                           os.path.join(args.out, 'spynet.onnx'), ['current', 'previous'], ['flow'],
                           {'current': {2: 'h', 3: 'w'}, 'previous': {2: 'h', 3: 'w'},
                            'flow': {2: 'h', 3: 'w'}}, False)
    files.append(('spynet.onnx', 'model'))
    graphs['spynet'] = graph_entry(
        'spynet.onnx', [tensor('current', [1, 3, 'h', 'w'], '-1,1'),
                        tensor('previous', [1, 3, 'h', 'w'], '-1,1')],
        [tensor('flow', [1, 2, 'h', 'w'], 'any')], graph_costs(model, [(64, 1), (32, 1)]))
    try:
        cfr = cfr_tensors_from_checkpoint(bpp, args.cfr_prefix)
    except KeyError:
        keys = [k for k in bpp if not k.startswith(args.spynet_prefix)]
        raise SystemExit(f'CFR tensors not found under "{args.cfr_prefix}". state_dict_bpp has: '
                         f'{keys[:40]}; pass --cfr-prefix')
    channels = write_cfr(cfr, 9, 64, args.cfr_temperature, args.out)
    files += [('cfr.json', 'data'), ('cfr.bin', 'weights')]

    # the prompt context, once
    tok = CLIPTokenizer.from_pretrained(args.sd21, subfolder='tokenizer')
    enc = CLIPTextModel.from_pretrained(args.sd21, subfolder='text_encoder').eval()
    ids = tok(args.prompt, max_length=tok.model_max_length, padding='max_length',
              truncation=True, return_tensors='pt').input_ids
    with torch.no_grad():
        context = enc(ids)[0].float().numpy()
    assert context.shape == (1, TOKENS, CONTEXT), context.shape
    context.astype('<f4').tofile(os.path.join(args.out, 'prompt.bin'))
    files.append(('prompt.bin', 'data'))
    write_manifest(args.out, graphs, channels, args.prompt, files)
    print(f'wrote {len(files) + 1} files to {args.out}')


if __name__ == '__main__':
    main(sys.argv[1:])
