// TextEncoder/TextDecoder with an ASCII fast path, installed over azle's
// pure-JS polyfill. @dfinity/candid creates one for every text value and
// every record label it hashes, and the polyfill walks each string code point
// by code point in the interpreter; ids, keys and labels are ASCII, so most
// calls become a plain copy. Anything non-ASCII still goes to the polyfill,
// which keeps its exact behaviour (replacement characters, `fatal`).

type Decoder = { decode(input?: ArrayBufferView | ArrayBuffer): string };
type DecoderCtor = new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => Decoder;
type Encoder = { encode(input?: string): Uint8Array };
type EncoderCtor = new () => Encoder;

function bytesOf(input: ArrayBufferView | ArrayBuffer | undefined): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

export function installFastText(): void {
  const g = globalThis as unknown as { TextEncoder: EncoderCtor; TextDecoder: DecoderCtor };
  const SlowEncoder = g.TextEncoder;
  const SlowDecoder = g.TextDecoder;
  if (!SlowEncoder || !SlowDecoder || (SlowEncoder as { fast?: boolean }).fast) return;

  class FastTextEncoder {
    static readonly fast = true;
    readonly encoding = 'utf-8';
    private slow: Encoder | undefined;

    encode(input = ''): Uint8Array {
      const n = input.length;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const c = input.charCodeAt(i);
        if (c > 0x7f) return (this.slow ??= new SlowEncoder()).encode(input);
        out[i] = c;
      }
      return out;
    }
  }

  class FastTextDecoder {
    static readonly fast = true;
    readonly encoding = 'utf-8';
    private slow: Decoder | undefined;

    constructor(
      private readonly label?: string,
      private readonly options?: { fatal?: boolean; ignoreBOM?: boolean },
    ) {}

    decode(input?: ArrayBufferView | ArrayBuffer): string {
      const b = bytesOf(input);
      for (let i = 0; i < b.length; i++) {
        if (b[i] > 0x7f) return (this.slow ??= new SlowDecoder(this.label, this.options)).decode(b);
      }
      let s = '';
      for (let i = 0; i < b.length; i += 8192) {
        s += String.fromCharCode.apply(null, b.subarray(i, Math.min(b.length, i + 8192)) as unknown as number[]);
      }
      return s;
    }
  }

  g.TextEncoder = FastTextEncoder as unknown as EncoderCtor;
  g.TextDecoder = FastTextDecoder as unknown as DecoderCtor;
}
