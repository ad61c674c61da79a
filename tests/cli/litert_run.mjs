// The reference for .tflite outputs: runs a model once through LiteRT.js
// (@litertjs/core, LiteRT compiled to WebAssembly, its CPU path: XNNPACK and
// the builtin kernels) under Node.js, so that the tests can compare what
// `modelgate run` computes on a model with what Google's own runtime computes,
// without a TFLite library for glibc (there is none in Debian or on npm).
//
//   node litert_run.mjs [--time N] MODEL.tflite OUTDIR [NAME=IN.npy | IN.npy]...
//
// Inputs are .npy files, given by input name (NAME=FILE) or in the model's
// input order (FILE); each must have the input's element type and shape.
// Every output is written to OUTDIR/NAME.npy, NAME being the output's name
// with characters other than [A-Za-z0-9._-] replaced by '_' (as `modelgate
// run --outputs` names them), or its index when it has no name. One JSON line
// on stdout describes the run: the versions, each input and output's name,
// shape, dtype and file, and load_ms (loading and compiling the model).
// --time N: N more timed runs after the first (which is the warm-up), p50_ms
// and the samples in the JSON line. LITERT_LOG=1: LiteRT's own log on stderr.
//
// The high-level LiteRT.js API (Tensor, CompiledModel.run) knows float32,
// int32 and uint8 only, so this script uses the bindings of the wasm module
// under it (loadModel, compileModel, LiteRtTensorBuffer), which carry every
// element type. LiteRT.js is written for browsers; the shim below gives it
// what it looks for there: `self`, and `importScripts`, which here evaluates
// the emscripten loader in this context with the .wasm bytes read from disk.
//
// The packages come from .deps/npm (make deps-test), or MG_NPM_DIR.
// Exit codes: 0 ok, 2 bad input (model, .npy file, shape, name), 3 LiteRT.js
// missing or failing to start.

import {readFileSync, writeFileSync, mkdirSync, existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import vm from 'node:vm';

class Fail extends Error {
	constructor(code, msg) {
		super(msg);
		this.code = code;
	}
}
const bad = (msg) => new Fail(2, msg);

// ---- .npy -------------------------------------------------------------------

// LiteRT element types (litert/c/litert_model.h) and their .npy descr
const DTYPES = [
	{name: 'float32', type: 1, descr: '<f4', size: 4},
	{name: 'int32', type: 2, descr: '<i4', size: 4},
	{name: 'uint8', type: 3, descr: '|u1', size: 1},
	{name: 'int64', type: 4, descr: '<i8', size: 8},
	{name: 'bool', type: 6, descr: '|b1', size: 1},
	{name: 'int16', type: 7, descr: '<i2', size: 2},
	{name: 'int8', type: 9, descr: '|i1', size: 1},
	{name: 'float16', type: 10, descr: '<f2', size: 2},
];
const byType = (t) => DTYPES.find((d) => d.type === t);

function readNpy(path) {
	let b;
	try {
		b = readFileSync(path);
	} catch (e) {
		throw bad(`cannot read '${path}': ${e.message}`);
	}
	if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY')
		throw bad(`'${path}' is not a .npy file`);
	const major = b[6];
	const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
	const start = (major === 1 ? 10 : 12) + hlen;
	if (start > b.length) throw bad(`'${path}': truncated header`);
	const h = b.toString('latin1', major === 1 ? 10 : 12, start);
	const descr = /'descr':\s*'([^']*)'/.exec(h);
	const shape = /'shape':\s*\(([^)]*)\)/.exec(h);
	if (!descr || !shape) throw bad(`'${path}': cannot parse the header ${JSON.stringify(h.trim())}`);
	if (/'fortran_order':\s*True/.test(h)) throw bad(`'${path}': Fortran order is not supported`);
	// one-byte types have no byte order: '|u1', '<u1' and '=u1' are the same
	const d = DTYPES.find((x) => x.descr === descr[1] || (x.size === 1 && x.descr.slice(1) === descr[1].slice(1)));
	if (!d) throw bad(`'${path}': element type '${descr[1]}' is not supported`);
	const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
	const bytes = dims.reduce((a, n) => a * n, 1) * d.size;
	if (b.length - start !== bytes)
		throw bad(`'${path}': ${b.length - start} data bytes, shape [${dims}] of ${d.name} needs ${bytes}`);
	return {dtype: d, dims, data: b.subarray(start)};
}

function npyBytes(d, dims, data) {
	const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
	let h = `{'descr': '${d.descr}', 'fortran_order': False, 'shape': ${shape}, }`;
	h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
	const head = Buffer.alloc(10);
	head.write('\x93NUMPY', 0, 'latin1');
	head[6] = 1;
	head.writeUInt16LE(h.length, 8);
	return Buffer.concat([head, Buffer.from(h, 'latin1'), data]);
}

// ---- arguments ----------------------------------------------------------------

function parseArgs(argv) {
	const a = {time: 0, inputs: []};
	const rest = [];
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--time') {
			a.time = Number(argv[++i]);
			if (!Number.isInteger(a.time) || a.time < 1) throw bad(`--time needs a positive count, not '${argv[i]}'`);
		} else {
			rest.push(argv[i]);
		}
	}
	if (rest.length < 2) throw bad('usage: litert_run.mjs [--time N] MODEL.tflite OUTDIR [NAME=IN.npy | IN.npy]...');
	[a.model, a.outdir] = rest;
	for (const s of rest.slice(2)) {
		const eq = s.indexOf('=');
		a.inputs.push(eq > 0 && !existsSync(s) ? {name: s.slice(0, eq), file: s.slice(eq + 1)} : {file: s});
	}
	return a;
}

// ---- LiteRT.js under Node -------------------------------------------------------

async function loadLiteRtWasm(log) {
	const here = dirname(fileURLToPath(import.meta.url));
	const npm = resolve(process.env.MG_NPM_DIR || join(here, '../../.deps/npm'));
	let main;
	try {
		main = createRequire(join(npm, 'package.json')).resolve('@litertjs/core');
	} catch (e) {
		throw new Fail(3, `no '@litertjs/core' in '${npm}' (make deps-test installs it)`);
	}
	const core = await import(pathToFileURL(main).href);
	globalThis.self = globalThis;
	globalThis.importScripts = (url) => {
		const js = fileURLToPath(url);
		// emscripten's Node path reads these; the .wasm is handed over directly
		globalThis.require = createRequire(js);
		globalThis.__dirname = dirname(js);
		globalThis.__filename = js;
		globalThis.Module = {
			wasmBinary: readFileSync(js.replace(/\.js$/, '.wasm')),
			print: (s) => log.push(s),
			printErr: (s) => log.push(s),
		};
		vm.runInThisContext(readFileSync(js, 'utf8'), {filename: js});
	};
	// it looks for WebGPU (navigator.gpu) and says so on the console
	for (const k of ['log', 'info', 'warn']) console[k] = (...a) => log.push(a.join(' '));
	const wasmDir = pathToFileURL(join(dirname(main), '../wasm/')).href;
	let lrt;
	try {
		lrt = await core.loadLiteRt(wasmDir);
	} catch (e) {
		throw new Fail(3, `LiteRT.js does not start from '${wasmDir}': ${e.message || e}`);
	}
	const version = JSON.parse(readFileSync(join(dirname(main), '../package.json'), 'utf8')).version;
	return {lrt, wasm: lrt.liteRtWasm, version};
}

const vec = (v) => {
	const out = [];
	for (let i = 0; i < v.size(); i++) out.push(v.get(i));
	v.delete();
	return out;
};

function describe(tensorType, name, what) {
	const layout = tensorType.layout();
	const dims = vec(layout.dimensions());
	layout.delete();
	const type = tensorType.elementType().value;
	tensorType.delete();
	const d = byType(type);
	if (!d) throw bad(`${what} '${name}' has LiteRT element type ${type}, which this script does not handle`);
	return {name, dims, dtype: d};
}

// What went wrong: the exception's message, and LiteRT's last ERROR line
// (the kernels report there, the exception only says which call failed).
const reason = (e, log) => {
	if (process.env.LITERT_LOG) process.stderr.write(log.join('\n') + '\n');
	const msg = (e && e.message ? e.message : String(e)).replace(/\s*\n[\s└]*/g, ' ');
	const errs = log.filter((l) => /^ERROR/.test(l));
	return errs.length ? `${msg} (${errs[errs.length - 1].replace(/^ERROR: /, '').trim()})` : msg;
};

async function main() {
	const args = parseArgs(process.argv.slice(2));
	let modelBytes;
	try {
		modelBytes = readFileSync(args.model);
	} catch (e) {
		throw bad(`cannot read '${args.model}': ${e.message}`);
	}
	const log = [];
	const {wasm, version} = await loadLiteRtWasm(log);
	const env = wasm.LiteRtEnvironment.create(null); // no WebGPU device
	const t0 = process.hrtime.bigint();
	const ptr = wasm._malloc(modelBytes.length);
	wasm.HEAPU8.set(modelBytes, ptr);
	let model, compiled;
	try {
		model = wasm.loadModel(env, ptr, modelBytes.length);
	} catch (e) {
		throw bad(`LiteRT.js cannot load '${args.model}': ${reason(e, log)}`);
	}
	try {
		compiled = await wasm.compileModel(env, model, {
			accelerator: 'wasm', cpuOptions: {numThreads: 1}, gpuOptions: {}, webNNOptions: {},
		});
	} catch (e) {
		throw bad(`LiteRT.js cannot compile '${args.model}': ${reason(e, log)}`);
	}
	const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
	const sig = model.getSignature(0);
	const inNames = vec(sig.inputNames());
	const outNames = vec(sig.outputNames());
	sig.delete();
	const ins = inNames.map((n, i) => describe(model.getInputTensorType(0, i), n, 'input'));
	const outs = outNames.map((n, i) => describe(model.getOutputTensorType(0, i), n, 'output'));

	// which file feeds which input
	const files = new Array(ins.length);
	let next = 0;
	for (const a of args.inputs) {
		let i;
		if (a.name !== undefined) {
			i = ins.findIndex((x) => x.name === a.name);
			if (i < 0) throw bad(`'${args.model}' has no input '${a.name}' (its inputs: ${inNames.join(', ')})`);
		} else {
			while (next < ins.length && files[next]) next++;
			i = next;
			if (i >= ins.length) throw bad(`'${args.model}' has ${ins.length} input(s), more files were given`);
		}
		if (files[i]) throw bad(`input '${ins[i].name}' is given twice`);
		files[i] = a.file;
	}
	const bufs = ins.map((x, i) => {
		if (!files[i]) throw bad(`no file for input '${x.name}' of '${args.model}'`);
		const t = readNpy(files[i]);
		if (t.dtype !== x.dtype || t.dims.join() !== x.dims.join())
			throw bad(`'${files[i]}' is ${t.dtype.name} [${t.dims}], input '${x.name}' needs ${x.dtype.name} [${x.dims}]`);
		const tt = model.getInputTensorType(0, i);
		const req = compiled.getInputBufferRequirements(0, i);
		const buf = wasm.LiteRtTensorBuffer.createManaged(env, wasm.LiteRtTensorBufferType.HOST_MEMORY, tt, t.data.length);
		const p = buf.lock(wasm.LiteRtTensorBufferLockMode.WRITE);
		wasm.HEAPU8.set(t.data, p);
		buf.unlock();
		try {
			wasm.checkTensorBufferCompatible(buf, tt, req);
		} catch (e) {
			throw bad(`LiteRT.js refuses '${files[i]}' for input '${x.name}': ${reason(e, log)}`);
		}
		tt.delete();
		req.delete();
		return buf;
	});

	const runOnce = async () => {
		try {
			return await compiled.run(0, bufs);
		} catch (e) {
			throw bad(`LiteRT.js cannot run '${args.model}': ${reason(e, log)}`);
		}
	};
	const results = await runOnce();
	mkdirSync(args.outdir, {recursive: true});
	const written = new Set();
	const outInfo = outs.map((o, i) => {
		const r = results[i];
		const p = r.lock(wasm.LiteRtTensorBufferLockMode.READ);
		const data = Buffer.from(wasm.HEAPU8.slice(p, p + r.packedSize()));
		r.unlock();
		r.delete();
		const base = o.name.replace(/[^A-Za-z0-9._-]/g, '_') || String(i);
		if (written.has(base)) throw bad(`outputs of '${args.model}' collide as '${base}.npy'`);
		written.add(base);
		const file = join(args.outdir, base + '.npy');
		writeFileSync(file, npyBytes(o.dtype, o.dims, data));
		return {name: o.name, shape: o.dims, dtype: o.dtype.name, file};
	});
	const out = {
		model: args.model, litert: version, node: process.version,
		inputs: ins.map((x, i) => ({name: x.name, shape: x.dims, dtype: x.dtype.name, file: files[i]})),
		outputs: outInfo, load_ms: loadMs,
	};
	if (args.time) {
		const ms = [];
		for (let k = 0; k < args.time; k++) {
			const t0 = process.hrtime.bigint();
			const rs = await runOnce();
			ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
			for (const r of rs) r.delete();
		}
		const s = [...ms].sort((a, b) => a - b);
		out.runs = args.time;
		out.p50_ms = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
		out.samples_ms = ms;
	}
	process.stdout.write(JSON.stringify(out) + '\n');
	if (process.env.LITERT_LOG) process.stderr.write(log.join('\n') + '\n');
}

main().then(() => process.exit(0), (e) => {
	process.stderr.write(`litert_run: ${e instanceof Fail ? e.message : e && e.stack || e}\n`);
	process.exit(e instanceof Fail ? e.code : 3);
});
