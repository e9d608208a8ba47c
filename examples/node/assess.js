#!/usr/bin/env node
// Run the smpvision ONNX model from Node.js with onnxruntime-node and a pure-JS PNG/JPEG decoder.
//
//   npm ci --ignore-scripts            (once, in this folder; see docs/EMBEDDING.md)
//   node assess.js MODEL IMAGE [--mm-per-px S] [--as-is] [--raw DIR] [--threads N]
//
// Prints one JSON object, {"zone_shares": {...}, "hairs": N}, the same numbers as
// examples/python/assess.py on the same file. Errors: one line on stderr, exit status 1 (2: bad usage).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const FORMAT_MAJOR = '1'; // the smpvision.format_version this script understands
const MAX_CLOSEUP_SIDE = 1024; // the smpvision runtime's cap on a rescaled close-up
const MIN_SIDE = 32;

class AssessError extends Error {}

const USAGE = 'usage: node assess.js MODEL IMAGE [--mm-per-px S] [--as-is] [--raw DIR] [--threads N]';

function parseArgs(argv) {
  const args = { positional: [], mmPerPx: null, asIs: false, raw: null, threads: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new AssessError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') args.help = true;
    else if (a === '--as-is') args.asIs = true;
    else if (a === '--mm-per-px') args.mmPerPx = Number(value());
    else if (a === '--raw') args.raw = value();
    else if (a === '--threads') args.threads = Number.parseInt(value(), 10);
    else if (a.startsWith('--')) throw new AssessError(`unknown option ${a}`);
    else args.positional.push(a);
  }
  if (!args.help && args.positional.length !== 2) throw new AssessError('need MODEL and IMAGE');
  if (args.mmPerPx !== null && !(args.mmPerPx > 0)) throw new AssessError('--mm-per-px must be positive');
  if (!Number.isInteger(args.threads) || args.threads < 0) throw new AssessError('--threads must be >= 0');
  return args;
}

// ---------------------------------------------------------------------------------------------- model

// onnxruntime-node does not expose a model's metadata_props, so read them from the file: ModelProto
// field 14 is `repeated StringStringEntryProto metadata_props` (key = 1, value = 2), protobuf encoded.
function readMetadata(bytes) {
  const meta = {};
  const fields = (buf, start, end, onField) => {
    let pos = start;
    const varint = () => {
      let result = 0;
      let scale = 1;
      for (;;) {
        if (pos >= end) throw new AssessError('truncated protobuf');
        const b = buf[pos++];
        result += (b & 0x7f) * scale;
        if (b < 0x80) return result;
        scale *= 128;
      }
    };
    while (pos < end) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (wire === 0) varint();
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const len = varint();
        if (pos + len > end) throw new AssessError('truncated protobuf');
        onField(field, pos, pos + len);
        pos += len;
      } else throw new AssessError(`unsupported protobuf wire type ${wire}`);
    }
  };
  fields(bytes, 0, bytes.length, (field, start, end) => {
    if (field !== 14) return;
    const entry = {};
    fields(bytes, start, end, (f, s, e) => {
      if (f === 1) entry.key = bytes.toString('utf8', s, e);
      if (f === 2) entry.value = bytes.toString('utf8', s, e);
    });
    if (entry.key !== undefined) meta[entry.key] = entry.value ?? '';
  });
  return meta;
}

async function loadModel(ort, file, threads) {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new AssessError(`model file ${file} not found`);
  const bytes = fs.readFileSync(file);
  let session;
  try {
    const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    if (threads > 0) options.intraOpNumThreads = threads;
    session = await ort.InferenceSession.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), options);
  } catch (err) {
    throw new AssessError(`${file} is not a loadable ONNX model: ${firstLine(err)}`);
  }
  const inputs = [...session.inputNames];
  const outputs = [...session.outputNames];
  if (inputs.length !== 1 || inputs[0] !== 'image' || !outputs.includes('zones') || !outputs.includes('density')) {
    throw new AssessError(
      `${file} is not an smpvision model: inputs ${JSON.stringify(inputs)}, outputs ${JSON.stringify(outputs)} ` +
        '(expected input image, outputs zones and density)',
    );
  }
  const meta = readMetadata(bytes);
  const version = meta['smpvision.format_version'] || '';
  if (version.split('.')[0] !== FORMAT_MAJOR) {
    throw new AssessError(`${file} has format version ${version || 'none'}; this script reads ${FORMAT_MAJOR}`);
  }
  return { session, meta };
}

// ---------------------------------------------------------------------------------------------- image

// uint8 RGB, row-major [H, W, 3]. EXIF orientation is not applied (nor by the Python and C# examples).
function loadImage(file) {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new AssessError(`image file ${file} not found`);
  const buf = fs.readFileSync(file);
  const isPng = buf.length > 8 && buf.readUInt32BE(0) === 0x89504e47;
  const isJpeg = buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (!isPng && !isJpeg) throw new AssessError(`${file} is not a PNG or JPEG image`);
  let width, height, data, channels;
  try {
    if (isPng) {
      const { PNG } = require('pngjs');
      ({ width, height, data } = PNG.sync.read(buf)); // any PNG colour type, as 8-bit RGBA
      channels = 4;
    } else {
      const jpeg = require('jpeg-js');
      ({ width, height, data } = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false }));
      channels = 3;
    }
  } catch (err) {
    throw new AssessError(`${file} is not a readable PNG or JPEG image: ${firstLine(err)}`);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < width * height; p++, q += channels) {
    rgb[3 * p] = data[q];
    rgb[3 * p + 1] = data[q + 1];
    rgb[3 * p + 2] = data[q + 2]; // alpha, if any, is dropped (as Pillow's convert("RGB") does)
  }
  return { data: rgb, height, width };
}

// Model pixels per photo pixel. Overviews (and close-ups of unknown scale): long side to the training
// size. Close-ups of known scale: finer than the typical close-up scale down to it, between that and
// the coarsest trained scale as they are, coarser up to the coarsest; at most 1024 px.
function scaleFactor(h, w, meta, mmPerPx) {
  if (mmPerPx === null) return Number.parseInt(meta['smpvision.overview_side_px'], 10) / Math.max(h, w);
  const scale = JSON.parse(meta['smpvision.closeup_mm_per_px']);
  const target = Math.min(Math.max(mmPerPx, scale.typical), scale.max);
  return Math.min(mmPerPx / target, MAX_CLOSEUP_SIDE / Math.max(h, w));
}

// 1-D resize taps [[index, weight], ...] per output pixel: area average when shrinking, bilinear (pixel
// centres aligned) when enlarging. The same float arithmetic as taps() in examples/python/assess.py.
function taps(nIn, nOut) {
  const rows = [];
  const s = nIn / nOut;
  for (let i = 0; i < nOut; i++) {
    if (nOut < nIn) {
      const lo = i * s;
      const hi = (i + 1) * s;
      const row = [];
      for (let j = Math.floor(lo); j < Math.min(Math.ceil(hi), nIn); j++) {
        row.push([j, (Math.min(hi, j + 1) - Math.max(lo, j)) / s]);
      }
      rows.push(row);
    } else {
      const x = Math.max((i + 0.5) * s - 0.5, 0);
      const j = Math.min(Math.floor(x), nIn - 1);
      const t = x - j;
      rows.push([[j, 1 - t], [Math.min(j + 1, nIn - 1), t]]);
    }
  }
  return rows;
}

function resize(image, factor) {
  const { data, height: h, width: w } = image;
  if (Math.abs(factor - 1) < 1e-3) return image;
  const outW = Math.max(MIN_SIDE, Math.floor(w * factor + 0.5));
  const outH = Math.max(MIN_SIDE, Math.floor(h * factor + 0.5));
  const tx = taps(w, outW); // along x first, then y: the order assess.py uses
  const acc = new Float64Array(h * outW * 3);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < outW; i++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const [j, wt] of tx[i]) v += wt * data[(y * w + j) * 3 + c];
        acc[(y * outW + i) * 3 + c] = v;
      }
    }
  }
  const ty = taps(h, outH);
  const out = new Uint8Array(outH * outW * 3);
  for (let i = 0; i < outH; i++) {
    for (let x = 0; x < outW * 3; x++) {
      let v = 0;
      for (const [j, wt] of ty[i]) v += wt * acc[j * outW * 3 + x];
      out[i * outW * 3 + x] = Math.min(255, Math.max(0, Math.floor(v + 0.5)));
    }
  }
  return { data: out, height: outH, width: outW };
}

// ---------------------------------------------------------------------------------------------- numbers

// zones: [1, C, H, W] probabilities, density: [1, 1, H, W] hairs per pixel -> the headline numbers.
function summarise(zones, density, classes) {
  const [, nClasses, h, w] = zones.dims;
  const background = classes.indexOf('background');
  if (background < 0 || nClasses !== classes.length) {
    throw new AssessError(`model classes ${JSON.stringify(classes)} do not match its zones output (${nClasses} channels)`);
  }
  const hw = h * w;
  const z = zones.data;
  const counts = new Array(nClasses).fill(0);
  for (let p = 0; p < hw; p++) {
    let best = 0;
    for (let c = 1; c < nClasses; c++) if (z[c * hw + p] > z[best * hw + p]) best = c; // ties: lower id
    counts[best]++;
  }
  const scalp = hw - counts[background];
  const shares = {};
  classes.forEach((name, c) => {
    if (c !== background) shares[name] = scalp ? counts[c] / scalp : 0;
  });
  let hairs = 0;
  for (const v of density.data) hairs += v;
  return { zone_shares: shares, hairs };
}

function littleEndian(typed) {
  if (os.endianness() === 'LE') return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  const out = Buffer.alloc(typed.length * 4);
  typed.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

// The model's input and outputs as little-endian binaries, plus their shapes (for parity checks).
function writeRaw(dir, image, zones, density) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'image.u8'), image.data);
  fs.writeFileSync(path.join(dir, 'zones.f32'), littleEndian(zones.data));
  fs.writeFileSync(path.join(dir, 'density.f32'), littleEndian(density.data));
  const shapes = { image: [1, image.height, image.width, 3], zones: zones.dims, density: density.dims };
  fs.writeFileSync(path.join(dir, 'shapes.json'), `${JSON.stringify(shapes)}\n`);
}

function firstLine(err) {
  const text = String((err && err.message) || err).trim();
  return text.split('\n')[0] || 'unknown error';
}

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`assess.js: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [modelFile, imageFile] = args.positional;
  try {
    let ort;
    try {
      ort = require('onnxruntime-node');
    } catch (err) {
      throw new AssessError(`onnxruntime-node is not installed: run "npm ci --ignore-scripts" in ${__dirname}`);
    }
    const { session, meta } = await loadModel(ort, modelFile, args.threads);
    const classes = JSON.parse(meta['smpvision.class_names'] || '[]');
    let image = loadImage(imageFile);
    if (Math.min(image.height, image.width) < MIN_SIDE) {
      throw new AssessError(`${imageFile} is ${image.width}x${image.height} px; need ${MIN_SIDE}x${MIN_SIDE}`);
    }
    if (!args.asIs) image = resize(image, scaleFactor(image.height, image.width, meta, args.mmPerPx));
    const input = new ort.Tensor('uint8', image.data, [1, image.height, image.width, 3]);
    const out = await session.run({ image: input }, ['zones', 'density']);
    const result = summarise(out.zones, out.density, classes);
    if (args.raw) writeRaw(args.raw, image, out.zones, out.density);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof AssessError ? err.message : firstLine(err);
    process.stderr.write(`assess.js: ${message}\n`);
    return 1;
  }
}

module.exports = { AssessError, loadImage, loadModel, readMetadata, resize, scaleFactor, summarise };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
