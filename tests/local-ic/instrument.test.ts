// The metering instrumentation on hand-built modules whose cost under the
// IC's rules is known exactly: per-basic-block costs, calls, loops, bulk
// memory charged per byte, the limit check, and the exports the runtime uses.
import { describe, expect, it } from 'vitest';
import { readSections, customSectionName } from '../../canister/local/wasm/binary.js';
import { addMetadata } from '../../canister/local/wasm/metadata.js';
import { COUNTER_EXPORT, GLOBAL_EXPORT_PREFIX, instrumentModule } from '../../canister/local/wasm/instrument.js';
import { I32, I64, wasmModule } from './support/wasm-builder.js';

const START = 1_000_000_000n;

/** Instruments `wasm`, instantiates it and returns a runner reporting the cost of each call. */
function metered(wasm: Uint8Array, opts = {}) {
  const { wasm: out, ...info } = instrumentModule(wasm, opts);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(out)), {});
  const counter = instance.exports[COUNTER_EXPORT] as WebAssembly.Global;
  return {
    info,
    instance,
    counter,
    run(name: string, ...args: number[]): { result: unknown; cost: bigint } {
      counter.value = START;
      const result = (instance.exports[name] as (...a: number[]) => unknown)(...args);
      return { result, cost: START - (counter.value as bigint) };
    },
  };
}

// (func $countdown (param i32) (result i32)
//   loop  local.get 0  i32.const 1  i32.sub  local.tee 0  br_if 0  end
//   local.get 0)
const countdown = [0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x20, 0, 0x0b];

describe('metering', () => {
  it('charges each basic block its IC cost: a loop of n iterations costs 6n + 2', () => {
    const m = metered(
      wasmModule({ types: [[[I32], [I32]]], functions: [{ type: 0, code: countdown }], exports: [['countdown', 'func', 0]] }),
    );
    // Entry block: 1 (function) + loop 0. Loop body: local.get, i32.const, i32.sub, local.tee (1 each) + br_if (2).
    // After the loop: end 0, local.get 1, end 0.
    for (const n of [1, 10, 1000]) {
      const { result, cost } = m.run('countdown', n);
      expect(result).toBe(0);
      expect(cost).toBe(BigInt(6 * n + 2));
    }
  });

  it('charges calls (5), the callee, division (10) and globals (2)', () => {
    // f0(x) = x / 3 ; f1(x) = f0(x) + g  (g a mutable global)
    const m = metered(
      wasmModule({
        types: [[[I32], [I32]]],
        functions: [
          { type: 0, code: [0x20, 0, 0x41, 3, 0x6d, 0x0b] },
          { type: 0, code: [0x20, 0, 0x10, 0, 0x23, 0, 0x6a, 0x0b] },
        ],
        globals: [{ type: I32, mutable: true, init: [0x41, 4] }],
        exports: [['f1', 'func', 1]],
      }),
    );
    const { result, cost } = m.run('f1', 9);
    expect(result).toBe(7);
    // f1: 1 + local.get 1 + call 5 + global.get 2 + i32.add 1 = 10; f0: 1 + 1 + 1 + 10 = 13.
    expect(cost).toBe(23n);
  });

  it('charges bulk memory by the byte at run time', () => {
    // (func (param i32) i32.const 0 i32.const 7 local.get 0 memory.fill)
    const m = metered(
      wasmModule({
        types: [[[I32], []]],
        memory: { min: 1 },
        functions: [{ type: 0, code: [0x41, 0, 0x41, 7, 0x20, 0, 0xfc, 11, 0, 0x0b] }],
        exports: [['fill', 'func', 0]],
      }),
    );
    // 1 (entry) + 3 (operands) + 100 (memory.fill) + size.
    expect(m.run('fill', 0).cost).toBe(104n);
    expect(m.run('fill', 5000).cost).toBe(5104n);
  });

  it('stops a loop that runs past the counter with a trap and a negative counter', () => {
    const m = metered(
      wasmModule({ types: [[[I32], [I32]]], functions: [{ type: 0, code: countdown }], exports: [['countdown', 'func', 0]] }),
    );
    m.counter.value = 600n;
    expect(() => (m.instance.exports.countdown as (n: number) => number)(1_000_000)).toThrow(WebAssembly.RuntimeError);
    expect(m.counter.value as bigint).toBeLessThan(0n);
  });

  it('is deterministic and leaves the program unchanged without metering', () => {
    const wasm = wasmModule({
      types: [[[I32], [I32]]],
      functions: [{ type: 0, code: countdown }],
      exports: [['countdown', 'func', 0]],
    });
    expect(metered(wasm).run('countdown', 77).cost).toBe(metered(wasm).run('countdown', 77).cost);
    const plain = metered(wasm, { metering: false });
    expect(plain.run('countdown', 77)).toEqual({ result: 0, cost: 0n });
  });

  it('exports every mutable global (the stack pointer) so the runtime can restore it', () => {
    const m = metered(
      wasmModule({
        types: [[[], [I64]]],
        globals: [
          { type: I32, mutable: false, init: [0x41, 1] },
          { type: I64, mutable: true, init: [0x42, 42] },
        ],
        functions: [{ type: 0, code: [0x23, 1, 0x0b] }],
        exports: [['get', 'func', 0]],
      }),
    );
    expect(m.info.globalExports).toEqual([`${GLOBAL_EXPORT_PREFIX}1`]);
    const g = m.instance.exports[`${GLOBAL_EXPORT_PREFIX}1`] as WebAssembly.Global;
    g.value = 99n;
    expect(m.run('get').result).toBe(99n);
  });
});

describe('metadata', () => {
  it('adds an icp:public custom section, replacing an earlier one of the same name', () => {
    const base = wasmModule({ types: [] });
    const once = addMetadata(base, 'candid:service', 'service : {}');
    const twice = addMetadata(once, 'candid:service', 'service : { f : () -> () }');
    const names = readSections(twice).filter((s) => s.id === 0).map(customSectionName);
    expect(names).toEqual(['icp:public candid:service']);
    const section = WebAssembly.Module.customSections(new WebAssembly.Module(new Uint8Array(twice)), 'icp:public candid:service');
    expect(new TextDecoder().decode(section[0])).toBe('service : { f : () -> () }');
  });
});
