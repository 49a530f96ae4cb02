// ARCHITECTURE: "verify/ — jose only; no server dependency loads". Checked twice:
// statically over the import graph of src/verify, and at run time in a child
// process whose module resolution refuses the server's dependencies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const verifyDir = join(root, 'src/verify');
const SERVER_DEPS = ['fastify', 'better-sqlite3', 'pg', '@node-rs/argon2', 'pino', 'commander', 'prom-client', '@fastify/'];

interface ImportRef {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

/** Every import/export-from/dynamic import in a TypeScript source, with whether it is erased. */
function importsOf(file: string): ImportRef[] {
  const source = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '') // block comments (TSDoc examples mention other modules)
    .replace(/^\s*\/\/.*$/gm, '');
  const refs: ImportRef[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) {
    refs.push({ file, specifier: m[4]!, typeOnly: m[2] !== undefined });
  }
  for (const m of source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) refs.push({ file, specifier: m[1]!, typeOnly: false });
  for (const m of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ file, specifier: m[1]!, typeOnly: false });
  if (/\brequire\s*\(|\bcreateRequire\b/.test(source)) refs.push({ file, specifier: 'require()', typeOnly: false });
  return refs;
}

describe('verify imports only jose and node built-ins', () => {
  const files = readdirSync(verifyDir).filter((f) => f.endsWith('.ts')).map((f) => join(verifyDir, f));

  it('statically: jose, node:*, ./ siblings; server packages at most as `import type`', () => {
    assert.ok(files.length >= 5);
    const refs = files.flatMap(importsOf);
    assert.ok(refs.some((r) => r.specifier === 'jose'), 'the scan sees imports');
    const offending = refs.filter((r) => {
      if (r.specifier === 'jose' || r.specifier.startsWith('node:')) return false;
      if (r.specifier.startsWith('./')) return r.specifier.includes('/', 2) || !r.specifier.endsWith('.js');
      if (r.typeOnly && r.specifier === 'fastify') return false;
      return true;
    });
    assert.deepEqual(offending.map((r) => `${relative(root, r.file)}: ${r.specifier}`), []);
  });

  it('at run time: importing src/verify/index.ts loads none of the server dependencies', () => {
    // A resolve hook, registered after tsx, that refuses the server's packages:
    // any runtime import of one makes the child fail.
    const hook = `
      const banned = ${JSON.stringify(SERVER_DEPS)};
      export async function resolve(specifier, context, next) {
        if (banned.some((b) => specifier === b || specifier.startsWith(b.endsWith('/') ? b : b + '/')))
          throw new Error('verify loaded ' + specifier);
        return next(specifier, context);
      }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const child = spawnSync(
      process.execPath,
      [
        '--import', 'tsx',
        '--import', `data:text/javascript,${encodeURIComponent(register)}`,
        '--input-type=module',
        '-e', `const m = await import('./src/verify/index.ts'); if (typeof m.createVerifier !== 'function') process.exit(3);
               try { await import('fastify'); process.exit(4); } catch (err) { if (!/verify loaded fastify/.test(String(err))) throw err; }`,
      ],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(child.status, 0, `${child.stdout}\n${child.stderr}`);
  });
});
