#!/usr/bin/env python3
"""Writes small deterministic .tflite models for modelgate's tests.

The tables of TFLite's schema.fbs are written by hand through the raw
FlatBuffers Builder (Debian's python3-flatbuffers ships no generated TFLite
classes); weights come from numpy's RandomState with a fixed seed, so a kind
always gives the same bytes.

    make_tflite.py KIND OUT.tflite      (make_tflite.py --help lists the kinds)

Most kinds have the input "input" [1,8,8,3] and the output "output" [1,10]:
a 3x3 CONV_2D with 4 filters (VALID, stride 2 -> [1,3,3,4], fused RELU),
RESHAPE to [1,36] and FULLY_CONNECTED to 10. Seen with Arm NN 20.08 (CpuRef,
pyarmnn): float, int8, int8-io, uint8 and the folded fp16 agree with a numpy
evaluation of these weights (float within 3e-7, the quantized ones within
one output step); prelu, custom and subgraphs are refused as expected.

--batch N makes the batch dimension N (a dataset of N rows runs as one
input, since Arm NN 20.08 cannot resize an input); --hidden H puts a
FULLY_CONNECTED to H with fused RELU before the last one (weights [H,36],
then [10,H]), so that weights dominate the file and the int8 kinds are
about 4x smaller than the float one. Both only for float, int8, int8-io
and uint8; without them the bytes are those of the plain kinds.
"""
import argparse
import sys

import flatbuffers
import numpy as np

# schema.fbs numbers
FLOAT32, FLOAT16, INT32, UINT8, INT64, STRING, BOOL, INT16, COMPLEX64, INT8 = range(10)
OPS = {"ADD": 0, "CONV_2D": 3, "DEQUANTIZE": 6, "FULLY_CONNECTED": 9, "RESHAPE": 22,
       "GATHER": 36, "PRELU": 54, "QUANTIZE": 114}
OPTIONS = {"CONV_2D": 1, "FULLY_CONNECTED": 8, "ADD": 11, "RESHAPE": 17}
VALID, RELU = 1, 1

IN_SHAPE, CONV_OUT, FC_IN, OUT = [1, 8, 8, 3], [1, 3, 3, 4], [1, 36], [1, 10]
HIDDEN = 0  # --hidden


def set_size(batch, hidden):
    global IN_SHAPE, CONV_OUT, FC_IN, OUT, HIDDEN
    IN_SHAPE, CONV_OUT, FC_IN, OUT = [batch, 8, 8, 3], [batch, 3, 3, 4], [batch, 36], [batch, 10]
    HIDDEN = hidden


class Graph:
    """One subgraph's tensors and operators; buffers and opcodes are the
    model's (shared by every subgraph)."""

    def __init__(self, model):
        self.model, self.tensors, self.ops, self.inputs, self.outputs = model, [], [], [], []

    def tensor(self, name, shape, dtype=FLOAT32, data=None, quant=None, no_buffer=False, signature=None):
        """A tensor; data (bytes) makes it a constant with its own buffer.
        no_buffer leaves the buffer field out (buffer 0), as MediaPipe's
        DEQUANTIZE outputs do; signature is its shape_signature (-1 for a
        dynamic dimension)."""
        buf = None if no_buffer else self.model.buffer(data)
        self.tensors.append((name, list(shape), dtype, buf, quant, signature))
        return len(self.tensors) - 1

    def op(self, name, inputs, outputs, options=None, custom=None):
        self.ops.append((self.model.opcode(name, custom), inputs, outputs, name, options))


class Model:
    def __init__(self):
        self.buffers, self.opcodes, self.graphs = [b""], [], []

    def graph(self):
        g = Graph(self)
        self.graphs.append(g)
        return g

    def buffer(self, data):
        if data is None:
            self.buffers.append(b"")
        else:
            self.buffers.append(bytes(data))
        return len(self.buffers) - 1

    def opcode(self, name, custom=None):
        key = (name, custom)
        if key not in self.opcodes:
            self.opcodes.append(key)
        return self.opcodes.index(key)

    def write(self):
        b = flatbuffers.Builder(4096)

        def ints(values, size=4, prepend=None):
            prepend = prepend or b.PrependInt32
            b.StartVector(size, len(values), size)
            for v in reversed(values):
                prepend(v)
            return b.EndVector()

        def offsets(values):
            b.StartVector(4, len(values), 4)
            for v in reversed(values):
                b.PrependUOffsetTRelative(v)
            return b.EndVector()

        def table(fields):
            """fields: (slot, kind, value) with kind in u8/i32/u32/off."""
            b.StartObject(max(f[0] for f in fields) + 1 if fields else 0)
            for slot, kind, value in fields:
                if kind == "off":
                    b.PrependUOffsetTRelativeSlot(slot, value, 0)
                elif kind == "u8":
                    b.PrependUint8Slot(slot, value, 0)
                elif kind == "i32":
                    b.PrependInt32Slot(slot, value, 0)
                elif kind == "u32":
                    b.PrependUint32Slot(slot, value, 0)
            return b.EndObject()

        buffers = []
        for data in self.buffers:
            if data:
                b.StartVector(1, len(data), 16)
                b.head = b.head - len(data)
                b.Bytes[b.head:b.head + len(data)] = data
                vec = b.EndVector()
                buffers.append(table([(0, "off", vec)]))
            else:
                buffers.append(table([]))
        opcodes = []
        for name, custom in self.opcodes:
            code = OPS["CUSTOM"] if custom else OPS[name]
            fields = [(0, "u8", min(code, 127)), (2, "i32", 1), (3, "i32", code)]
            if custom:
                fields.append((1, "off", b.CreateString(custom)))
            opcodes.append(table(fields))
        graphs = []
        for g in self.graphs:
            tensors = []
            for name, shape, dtype, buf, quant, signature in g.tensors:
                fields = [(0, "off", ints(shape)), (3, "off", b.CreateString(name)), (1, "u8", dtype)]
                if signature is not None:
                    fields.append((7, "off", ints(signature)))
                if buf is not None:
                    fields.append((2, "u32", buf))
                if quant:
                    scales, zeros, dim = quant
                    b.StartVector(4, len(scales), 4)
                    for s in reversed(scales):
                        b.PrependFloat32(float(s))
                    sv = b.EndVector()
                    zv = ints([int(z) for z in zeros], 8, b.PrependInt64)
                    fields.append((4, "off", table([(2, "off", sv), (3, "off", zv), (6, "i32", dim)])))
                tensors.append(table(fields))
            ops = []
            for opcode, inputs, outputs, name, options in g.ops:
                fields = [(0, "u32", opcode), (1, "off", ints(inputs)), (2, "off", ints(outputs))]
                if options is not None:
                    fields += [(3, "u8", OPTIONS[name]), (4, "off", options(b, table, ints))]
                ops.append(table(fields))
            graphs.append(table([(0, "off", offsets(tensors)), (1, "off", ints(g.inputs)),
                                 (2, "off", ints(g.outputs)), (3, "off", offsets(ops)),
                                 (4, "off", b.CreateString("main"))]))
        root = table([(0, "u32", 3), (1, "off", offsets(opcodes)), (2, "off", offsets(graphs)),
                      (3, "off", b.CreateString("modelgate make_tflite.py")),
                      (4, "off", offsets(buffers))])
        b.Finish(root, file_identifier=b"TFL3")
        return bytes(b.Output())


OPS["CUSTOM"] = 32


def conv_options(b, table, ints):
    return table([(0, "u8", VALID), (1, "i32", 2), (2, "i32", 2), (3, "u8", RELU),
                  (4, "i32", 1), (5, "i32", 1)])


def fc_options(b, table, ints):
    return table([])


def fc_relu_options(b, table, ints):
    return table([(0, "u8", RELU)])


def reshape_options(b, table, ints):
    return table([(0, "off", ints(FC_IN))])


def weights():
    """The float model's weights: conv [4,3,3,3] (OHWI), bias [4], fc
    [10,36], bias [10]."""
    r = np.random.RandomState(15)
    return (r.uniform(-0.5, 0.5, (4, 3, 3, 3)).astype(np.float32),
            r.uniform(-0.1, 0.1, 4).astype(np.float32),
            r.uniform(-0.3, 0.3, (10, 36)).astype(np.float32),
            r.uniform(-0.1, 0.1, 10).astype(np.float32))


def hidden_weights():
    """With --hidden H: the hidden layer [H,36] and bias [H], and the last
    layer [10,H] and bias [10] that replace weights()'s fc."""
    r = np.random.RandomState(16)
    return (r.uniform(-0.15, 0.15, (HIDDEN, 36)).astype(np.float32),
            r.uniform(0, 0.05, HIDDEN).astype(np.float32),
            r.uniform(-0.24, 0.24, (10, HIDDEN)).astype(np.float32),
            r.uniform(-0.1, 0.1, 10).astype(np.float32))


def float_weights():
    """The float model's weights with --hidden applied: conv, conv bias,
    hidden and its bias (None without --hidden), fc and fc bias."""
    cw, cb, fw, fb = weights()
    if not HIDDEN:
        return cw, cb, None, None, fw, fb
    hw, hb, fw, fb = hidden_weights()
    return cw, cb, hw, hb, fw, fb


def float_body(g, x, consts, prelu=False):
    """conv -> [prelu] -> reshape -> [hidden fc] -> fc from tensor x;
    returns the output."""
    consts = tuple(consts)
    cw, cb, hw, hb, fw, fb = consts if len(consts) == 6 else consts[:2] + (None, None) + consts[2:]
    c = g.tensor("conv", CONV_OUT)
    g.op("CONV_2D", [x, cw, cb], [c], conv_options)
    if prelu:
        alpha = g.tensor("prelu/alpha", [1, 1, 4], data=np.full((1, 1, 4), 0.25, np.float32).tobytes())
        p = g.tensor("prelu", CONV_OUT)
        g.op("PRELU", [c, alpha], [p])
        c = p
    shape = g.tensor("reshape/shape", [2], INT32, np.array(FC_IN, np.int32).tobytes())
    r = g.tensor("reshape", FC_IN)
    g.op("RESHAPE", [c, shape], [r], reshape_options)
    if hw is not None:
        h = g.tensor("hidden", [FC_IN[0], HIDDEN])
        g.op("FULLY_CONNECTED", [r, hw, hb], [h], fc_relu_options)
        r = h
    out = g.tensor("output", OUT)
    g.op("FULLY_CONNECTED", [r, fw, fb], [out], fc_options)
    return out


def float_consts(g):
    names = ["conv/weights", "conv/bias", "hidden/weights", "hidden/bias", "fc/weights", "fc/bias"]
    return tuple(None if w is None else g.tensor(n, w.shape, data=w.tobytes())
                 for n, w in zip(names, float_weights()))


def make_float(m, prelu=False, signature=None):
    g = m.graph()
    x = g.tensor("input", IN_SHAPE, signature=signature)
    out = float_body(g, x, float_consts(g), prelu)
    g.inputs, g.outputs = [x], [out]
    return g


def kind_float(m):
    make_float(m)


def kind_dynamic(m):
    make_float(m, signature=[-1] + IN_SHAPE[1:])


def kind_prelu(m):
    make_float(m, prelu=True)


def kind_fp16(m):
    """Weights stored FLOAT16, each through a DEQUANTIZE whose output has no
    buffer, as MediaPipe's models are; one conv bias is a half subnormal."""
    g = m.graph()
    x = g.tensor("input", IN_SHAPE)
    w = list(weights())
    w[1] = w[1].copy()
    w[1][0] = np.float32(2.0 ** -20)  # a subnormal half
    consts = []
    for name, a in zip(["conv/weights", "conv/bias", "fc/weights", "fc/bias"], w):
        h = g.tensor(name, a.shape, FLOAT16, a.astype(np.float16).tobytes())
        f = g.tensor(name + "_dequantize", a.shape, no_buffer=True)
        g.op("DEQUANTIZE", [h], [f])
        consts.append(f)
    out = float_body(g, x, consts)
    g.inputs, g.outputs = [x], [out]


def quantize(a, scale, zero, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.round(a / scale) + zero, info.min, info.max).astype(dtype)


def quantized(m, dtype, per_channel, float_io):
    """Conv + FC quantized to dtype (int8 or uint8); per_channel: the conv
    weights have one scale per output channel (dimension 0)."""
    g = m.graph()
    cw, cb, hw, hb, fw, fb = float_weights()
    ttype = INT8 if dtype == np.int8 else UINT8
    zero = 0 if dtype == np.int8 else 128
    in_scale, in_zero = 1.0 / 128, zero  # inputs in [-1, 1)
    x_q = g.tensor("input_q" if float_io else "input", IN_SHAPE, ttype, quant=([in_scale], [in_zero], 0))
    if float_io:
        x = g.tensor("input", IN_SHAPE)
        g.op("QUANTIZE", [x], [x_q])
    if per_channel:
        w_scale = np.abs(cw).reshape(4, -1).max(axis=1) / 127
    else:
        w_scale = np.array([np.abs(cw).max() / 127])
    w_zero = [0 if dtype == np.int8 else 128] * len(w_scale)
    cw_q = quantize(cw, w_scale.reshape(-1, 1, 1, 1), np.array(w_zero).reshape(-1, 1, 1, 1), dtype)
    cwt = g.tensor("conv/weights", cw.shape, ttype, cw_q.tobytes(), (w_scale, w_zero, 0))
    b_scale = in_scale * w_scale
    cbt = g.tensor("conv/bias", [4], INT32, np.round(cb / b_scale).astype(np.int32).tobytes(),
                   (b_scale, [0] * len(b_scale), 0))
    act_scale, act_zero = 4.0 / 255, (-128 if dtype == np.int8 else 0)  # relu output in [0, 4]
    c = g.tensor("conv", CONV_OUT, ttype, quant=([act_scale], [act_zero], 0))
    g.op("CONV_2D", [x_q, cwt, cbt], [c], conv_options)
    shape = g.tensor("reshape/shape", [2], INT32, np.array(FC_IN, np.int32).tobytes())
    r = g.tensor("reshape", FC_IN, ttype, quant=([act_scale], [act_zero], 0))
    g.op("RESHAPE", [c, shape], [r], reshape_options)
    f_zero = 0 if dtype == np.int8 else 128
    if hw is not None:
        h_scale = np.abs(hw).max() / 127
        hwt = g.tensor("hidden/weights", hw.shape, ttype, quantize(hw, h_scale, f_zero, dtype).tobytes(),
                       ([h_scale], [f_zero], 0))
        hbt = g.tensor("hidden/bias", [HIDDEN], INT32, np.round(hb / (act_scale * h_scale)).astype(np.int32).tobytes(),
                       ([act_scale * h_scale], [0], 0))
        act_scale = 2.0 / 255  # the hidden relu's output in [0, 2]
        h = g.tensor("hidden", [FC_IN[0], HIDDEN], ttype, quant=([act_scale], [act_zero], 0))
        g.op("FULLY_CONNECTED", [r, hwt, hbt], [h], fc_relu_options)
        r = h
    f_scale = np.abs(fw).max() / 127
    fwt = g.tensor("fc/weights", fw.shape, ttype, quantize(fw, f_scale, f_zero, dtype).tobytes(),
                   ([f_scale], [f_zero], 0))
    fbt = g.tensor("fc/bias", [10], INT32, np.round(fb / (act_scale * f_scale)).astype(np.int32).tobytes(),
                   ([act_scale * f_scale], [0], 0))
    out_scale, out_zero = 8.0 / 255, zero  # outputs in [-4, 4]
    out_q = g.tensor("output_q" if float_io else "output", OUT, ttype, quant=([out_scale], [out_zero], 0))
    g.op("FULLY_CONNECTED", [r, fwt, fbt], [out_q], fc_options)
    out = out_q
    if float_io:
        out = g.tensor("output", OUT)
        g.op("DEQUANTIZE", [out_q], [out])
    g.inputs, g.outputs = [x if float_io else x_q], [out]


def kind_int8(m):
    quantized(m, np.int8, per_channel=True, float_io=True)


def kind_int8_io(m):
    quantized(m, np.int8, per_channel=True, float_io=False)


def kind_uint8(m):
    quantized(m, np.uint8, per_channel=False, float_io=False)


def kind_int8_channels(m):
    """An int8 input [4,3] quantized per channel along dimension 0,
    dequantized to the float32 output [4,3]."""
    g = m.graph()
    scales, zeros = [0.5, 0.25, 0.125, 0.0625], [0, 1, -1, 2]
    x = g.tensor("input", [4, 3], INT8, quant=(scales, zeros, 0))
    out = g.tensor("output", [4, 3])
    g.op("DEQUANTIZE", [x], [out])
    g.inputs, g.outputs = [x], [out]


def kind_subgraphs(m):
    """The float model, and a second subgraph (an ADD) nothing calls."""
    make_float(m)
    g = m.graph()
    a, b2 = g.tensor("a", [1, 4]), g.tensor("b", [1, 4])
    s = g.tensor("sum", [1, 4])
    g.op("ADD", [a, b2], [s], lambda b, table, ints: table([]))
    g.inputs, g.outputs = [a, b2], [s]


def kind_custom(m):
    """The float model with a custom operator after the conv."""
    g = m.graph()
    x = g.tensor("input", IN_SHAPE)
    cw, cb, _, _, fw, fb = float_consts(g)
    c = g.tensor("conv", CONV_OUT)
    g.op("CONV_2D", [x, cw, cb], [c], conv_options)
    y = g.tensor("custom", CONV_OUT)
    g.op("CUSTOM", [c], [y], custom="MyCustomOp")
    g.inputs, g.outputs = [x], [y]


KINDS = {
    "float": (kind_float, "float32 CONV_2D + FULLY_CONNECTED"),
    "dynamic": (kind_dynamic, "the float model with a dynamic batch (input shape_signature [-1,8,8,3])"),
    "int8": (kind_int8, "int8, conv weights per-channel; float io through QUANTIZE/DEQUANTIZE"),
    "int8-io": (kind_int8_io, "int8 inputs and outputs, conv weights per-channel"),
    "int8-channels": (kind_int8_channels, "an int8 input quantized per channel, DEQUANTIZE; [4,3] -> [4,3]"
                      " (Arm NN 20.08's CpuRef refuses this DEQUANTIZE, CpuAcc runs it; per-channel"
                      " weights, as in int8, run on both)"),
    "uint8": (kind_uint8, "uint8 per-tensor quantized, uint8 io"),
    "fp16": (kind_fp16, "float16 weights through DEQUANTIZE (as MediaPipe's)"),
    "prelu": (kind_prelu, "the float model with a PRELU (which Arm NN 20.08 cannot run)"),
    "custom": (kind_custom, "a conv and a custom operator MyCustomOp; output [1,3,3,4]"),
    "subgraphs": (kind_subgraphs, "the float model and a second subgraph"),
}


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="kinds:\n" + "\n".join("  %-14s %s" % (k, v[1]) for k, v in KINDS.items()))
    p.add_argument("kind", choices=sorted(KINDS), metavar="KIND")
    p.add_argument("out", metavar="OUT.tflite")
    p.add_argument("--batch", type=int, default=1, metavar="N", help="the batch dimension (default 1)")
    p.add_argument("--hidden", type=int, default=0, metavar="H", help="a hidden FULLY_CONNECTED layer of H units")
    a = p.parse_args()
    if (a.batch != 1 or a.hidden) and a.kind not in ("float", "int8", "int8-io", "uint8"):
        p.error("--batch and --hidden are for the kinds float, int8, int8-io and uint8")
    if a.batch < 1 or a.hidden < 0:
        p.error("--batch must be at least 1 and --hidden at least 0")
    set_size(a.batch, a.hidden)
    m = Model()
    KINDS[a.kind][0](m)
    with open(a.out, "wb") as f:
        f.write(m.write())
    return 0


if __name__ == "__main__":
    sys.exit(main())
