// Builds static/dist/ at install time (npm ci runs it; never committed): the widget's and the admin
// console's JavaScript, each one minified ES module with a source map, their CSS minified, and the vendored SDK bundles, each under a
// content-hashed name (so it can be cached for a year), each with .gz and .br beside it (WhiteNoise
// serves those to browsers that accept them), and manifest.json mapping a name to its hashed file.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import * as esbuild from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = process.env.ASSETS_OUT || path.join(root, 'static', 'dist'); // ASSETS_OUT: a test's check
const VENDORED = ['calling-extensions-sdk.js', 'twilio.min.js'];

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['static/js/widget.js', 'static/css/widget.css', 'static/js/admin.js', 'static/css/admin.css'],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outdir: out,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const manifest = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (output.entryPoint) manifest[path.basename(output.entryPoint)] = path.basename(file);
}
for (const name of VENDORED) {
  const body = fs.readFileSync(path.join(root, 'static', 'vendor', name));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8).toUpperCase();
  const hashed = name.replace(/\.js$/, `-${hash}.js`);
  fs.writeFileSync(path.join(out, hashed), body);
  manifest[name] = hashed;
}

for (const file of fs.readdirSync(out)) {
  const body = fs.readFileSync(path.join(out, file));
  fs.writeFileSync(path.join(out, `${file}.gz`), zlib.gzipSync(body, { level: 9 }));
  fs.writeFileSync(path.join(out, `${file}.br`), zlib.brotliCompressSync(body, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length },
  }));
}
fs.writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`static/dist: ${Object.entries(manifest).map(([name, file]) => `${name} -> ${file}`).join(', ')}`);
