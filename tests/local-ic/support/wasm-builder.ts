// Builds small WebAssembly modules from a description, for tests that need a
// module with exactly known instructions (metering) or imports (validation).
import { encodeName, encodeU32 } from '../../../canister/local/wasm/binary.js';

export const I32 = 0x7f;
export const I64 = 0x7e;

export interface ModuleSpec {
  /** [params, results] value types. */
  types: [number[], number[]][];
  /** Function imports: [module, name, type index]. */
  imports?: [string, string, number][];
  functions?: { type: number; locals?: [number, number][]; code: number[] }[];
  memory?: { min: number; max?: number };
  globals?: { type: number; mutable: boolean; init: number[] }[];
  exports?: [string, 'func' | 'memory' | 'global', number][];
}

function section(id: number, items: number[][]): number[] {
  const payload = [...encodeU32(items.length), ...items.flat()];
  return [id, ...encodeU32(payload.length), ...payload];
}

export function wasmModule(spec: ModuleSpec): Uint8Array {
  const out: number[] = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  out.push(...section(1, spec.types.map(([p, r]) => [0x60, ...encodeU32(p.length), ...p, ...encodeU32(r.length), ...r])));
  if (spec.imports?.length) {
    out.push(...section(2, spec.imports.map(([m, n, t]) => [...encodeName(m), ...encodeName(n), 0, ...encodeU32(t)])));
  }
  if (spec.functions?.length) out.push(...section(3, spec.functions.map((f) => encodeU32(f.type))));
  if (spec.memory) {
    const { min, max } = spec.memory;
    out.push(...section(5, [max === undefined ? [0, ...encodeU32(min)] : [1, ...encodeU32(min), ...encodeU32(max)]]));
  }
  if (spec.globals?.length) {
    out.push(...section(6, spec.globals.map((g) => [g.type, g.mutable ? 1 : 0, ...g.init, 0x0b])));
  }
  if (spec.exports?.length) {
    const kinds = { func: 0, memory: 2, global: 3 } as const;
    out.push(...section(7, spec.exports.map(([n, k, i]) => [...encodeName(n), kinds[k], ...encodeU32(i)])));
  }
  if (spec.functions?.length) {
    out.push(
      ...section(
        10,
        spec.functions.map((f) => {
          const locals = f.locals ?? [];
          const body = [...encodeU32(locals.length), ...locals.flatMap(([n, t]) => [...encodeU32(n), t]), ...f.code];
          return [...encodeU32(body.length), ...body];
        }),
      ),
    );
  }
  return new Uint8Array(out);
}
