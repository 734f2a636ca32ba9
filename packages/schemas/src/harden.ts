import type avro from 'avsc';
import { CvdError } from '@cvd/core';

/*
 * avsc trusts array/map block counts: `C5 02` + a short body with a huge varint count
 * makes it loop for billions of items on a few bytes of input (avsc types are frozen, so
 * the read path cannot be patched). Before avsc decodes a writer schema that contains an
 * array or map, this bounds check walks the body once: every length, count and index is
 * checked against the bytes left, so corrupt input costs O(length) and never hangs.
 */

export type BoundsProblem = { readonly code: 'truncated' | 'invalid-body'; readonly message: string };

interface TypeNode {
  readonly typeName: string;
  readonly fields?: ReadonlyArray<{ readonly type: TypeNode }>;
  readonly itemsType?: TypeNode;
  readonly valuesType?: TypeNode;
  readonly types?: readonly TypeNode[];
  readonly symbols?: readonly string[];
  readonly size?: number;
  readonly underlyingType?: TypeNode;
}

/** Thrown inside the walk and turned into a {@link BoundsProblem}; never retriable (same bytes, same answer). */
class Corrupt extends CvdError<BoundsProblem['code']> {
  constructor(code: BoundsProblem['code'], message: string) {
    super(code, message, { retriable: false });
  }
}

class Cursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
  ) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Corrupt('truncated', 'body ends inside a number');
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      scale *= 128;
    }
    throw new Corrupt('invalid-body', 'varint longer than 10 bytes');
  }

  skip(n: number): void {
    if (n > this.left) throw new Corrupt('truncated', `needs ${n} bytes, ${this.left} left`);
    this.pos += n;
  }
}

function walk(t: TypeNode, c: Cursor): void {
  switch (t.typeName) {
    case 'null':
      return;
    case 'boolean':
      return c.skip(1);
    case 'int':
    case 'long':
      c.varint();
      return;
    case 'float':
      return c.skip(4);
    case 'double':
      return c.skip(8);
    case 'bytes':
    case 'string': {
      const len = c.varint();
      if (len < 0) throw new Corrupt('invalid-body', `negative length ${len}`);
      return c.skip(len);
    }
    case 'fixed':
      return c.skip(t.size ?? 0);
    case 'enum': {
      const i = c.varint();
      if (i < 0 || i >= (t.symbols?.length ?? 0)) throw new Corrupt('invalid-body', `enum index ${i} out of range`);
      return;
    }
    case 'record':
    case 'error':
      for (const f of t.fields ?? []) walk(f.type, c);
      return;
    case 'array':
    case 'map':
      for (;;) {
        let n = c.varint();
        if (n === 0) return;
        if (n < 0) {
          n = -n;
          if (c.varint() < 0) throw new Corrupt('invalid-body', 'negative block size');
        }
        // Every item of our schemas takes at least one byte.
        if (n > c.left) throw new Corrupt('truncated', `block of ${n} items, ${c.left} bytes left`);
        while (n-- > 0) {
          if (t.typeName === 'map') walk({ typeName: 'string' }, c);
          walk((t.typeName === 'map' ? t.valuesType : t.itemsType) as TypeNode, c);
        }
      }
    default:
      if (t.typeName.startsWith('union')) {
        const i = c.varint();
        const branch = t.types?.[i];
        if (branch === undefined) throw new Corrupt('invalid-body', `union index ${i} out of range`);
        return walk(branch, c);
      }
      if (t.typeName.startsWith('logical') && t.underlyingType !== undefined) return walk(t.underlyingType, c);
      throw new Corrupt('invalid-body', `unsupported type ${t.typeName}`);
  }
}

/** Whether `type` holds an array or map anywhere (only those need {@link checkBounds}). */
export function hasBlocks(type: avro.Type): boolean {
  const seen = new Set<TypeNode>();
  const visit = (t: TypeNode | undefined): boolean => {
    if (t === undefined || seen.has(t)) return false;
    seen.add(t);
    if (t.typeName === 'array' || t.typeName === 'map') return true;
    return (
      (t.fields ?? []).some((f) => visit(f.type)) || (t.types ?? []).some(visit) || visit(t.underlyingType)
    );
  };
  return visit(type as unknown as TypeNode);
}

/** Walks one `type` value at `pos`; returns the problem or the end offset. */
export function checkBounds(type: avro.Type, buf: Uint8Array, pos: number): BoundsProblem | number {
  const c = new Cursor(buf, pos);
  try {
    walk(type as unknown as TypeNode, c);
    return c.pos;
  } catch (err) {
    if (err instanceof Corrupt) return { code: err.code, message: err.message };
    return { code: 'invalid-body', message: err instanceof Error ? err.message : String(err) };
  }
}
