/**
 * Derives `types.generated.ts` from the JSON Schemas, so the schemas stay the one description of every shape.
 * Run `npm run gen:types`; `--check` fails (used by the tests) when the committed file is stale.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

const schemaDir = __dirname;
const outFile = join(schemaDir, 'types.generated.ts');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Rewrites cross-file refs (`common.schema.json#/definitions/X`) into refs local to one combined document. */
function localiseRefs(value: Json, file: string): Json {
  if (Array.isArray(value)) return value.map((v) => localiseRefs(v, file));
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string') {
      const [target = '', pointer = ''] = child.split('#');
      const owner = target === '' ? file : target;
      const name = pointer.replace(/^\/definitions\//, '');
      out[key] = name === '' ? `#/definitions/${rootName(owner)}` : `#/definitions/${name}`;
    } else if (key !== '$id' && key !== '$schema') {
      out[key] = localiseRefs(child, file);
    }
  }
  return out;
}

function rootName(file: string): string {
  const schema = JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as { title: string };
  return schema.title;
}

export async function generateTypes(): Promise<string> {
  const definitions: { [key: string]: Json } = {};
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith('.schema.json'))
    .sort();
  for (const file of files) {
    const schema = localiseRefs(JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as Json, file) as {
      [key: string]: Json;
    };
    const { definitions: defs, ...root } = schema;
    Object.assign(definitions, defs ?? {});
    if (root.type !== undefined || root.oneOf !== undefined) definitions[String(root.title)] = root;
  }
  const combined = {
    title: 'SluiceSchemas',
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.keys(definitions).map((n) => [n, { $ref: `#/definitions/${n}` }])),
    definitions,
  };
  return compile(combined as unknown as JSONSchema, 'SluiceSchemas', {
    bannerComment:
      '/* Generated from schemas/*.schema.json by `npm run gen:types`. Do not edit: change the schema instead. */',
    additionalProperties: false,
    unreachableDefinitions: true,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

async function main(): Promise<void> {
  const generated = await generateTypes();
  if (process.argv.includes('--check')) {
    const current = readFileSync(outFile, 'utf8');
    if (current !== generated) {
      console.error('schemas/types.generated.ts is stale: run `npm run gen:types`');
      process.exit(1);
    }
    return;
  }
  writeFileSync(outFile, generated);
  console.log(`wrote ${outFile}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
