import type avro from 'avsc';

/**
 * Bounds the work one Avro message can cause. Every Avro value takes at least one byte, except
 * zero-width ones (null, a fixed of size 0, a record of such fields). An array block says how
 * many items follow: of zero-width items, a 10-byte message can announce 2^62 of them, and
 * decoding then spins (skipping) or allocates (reading) without end. A writer schema that can
 * hold such an array or map gets a cheap pre-walk of each message that counts the items
 * announced and refuses the message past a limit, before avsc reads it.
 */

/** The loose shape of the avsc types the walk looks at (avsc's typings leave these out). */
interface AnyType {
  typeName: string;
  itemsType?: AnyType;
  valuesType?: AnyType;
  types?: AnyType[];
  fields?: { type: AnyType }[];
  size?: number;
  underlyingType?: AnyType;
}

function asAny(type: avro.Type): AnyType {
  return type;
}

/** True when a value of `type` can take no bytes at all. */
function isZeroWidth(type: AnyType, visiting = new Set<AnyType>()): boolean {
  if (visiting.has(type)) return false; // a recursive record always holds a non-empty part
  switch (type.typeName) {
    case 'null':
      return true;
    case 'fixed':
      return type.size === 0;
    case 'record':
    case 'error': {
      visiting.add(type);
      const zero = (type.fields ?? []).every((f) => isZeroWidth(f.type, visiting));
      visiting.delete(type);
      return zero;
    }
    default:
      return type.typeName.startsWith('logical:') && type.underlyingType !== undefined
        ? isZeroWidth(type.underlyingType, visiting)
        : false;
  }
}

/**
 * True when `type` holds, anywhere, an array of zero-width items or a map of zero-width values:
 * the only shapes whose decoding work is not bounded by the message's size.
 */
export function needsWorkBound(root: avro.Type): boolean {
  const seen = new Set<AnyType>();
  const walk = (type: AnyType): boolean => {
    if (seen.has(type)) return false;
    seen.add(type);
    switch (type.typeName) {
      case 'array':
        return isZeroWidth(type.itemsType as AnyType) || walk(type.itemsType as AnyType);
      case 'map':
        return isZeroWidth(type.valuesType as AnyType) || walk(type.valuesType as AnyType);
      case 'record':
      case 'error':
        return (type.fields ?? []).some((f) => walk(f.type));
      case 'union:unwrapped':
      case 'union:wrapped':
        return (type.types ?? []).some(walk);
      default:
        return type.underlyingType !== undefined && walk(type.underlyingType);
    }
  };
  return walk(asAny(root));
}

class Stop extends Error {
  constructor(readonly reason: 'items' | 'garbled') {
    super(reason);
  }
}

/**
 * Walks `body` as `type` writes it without building anything, counting array and map items.
 * Returns null when the message stays within `maxItems` (whether or not avsc then reads it), or
 * why it does not: the item count past the limit, or a count no message could carry.
 */
export function checkAvroWork(root: avro.Type, body: Buffer, maxItems: number): string | null {
  let pos = 0;
  let items = 0;

  const readLong = (): number => {
    // zig-zag varint, read as a float: exact enough to compare counts and lengths
    let n = 0;
    let scale = 1;
    let byte: number;
    let count = 0;
    do {
      if (pos >= body.length || count++ >= 10) throw new Stop('garbled');
      byte = body[pos++] as number;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  };
  const skipBytes = (length: number): void => {
    if (length < 0 || pos + length > body.length) throw new Stop('garbled');
    pos += length;
  };
  const take = (count: number): void => {
    items += count;
    if (items > maxItems) throw new Stop('items');
  };

  const skip = (type: AnyType): void => {
    switch (type.typeName) {
      case 'null':
        return;
      case 'boolean':
        return skipBytes(1);
      case 'int':
      case 'long':
      case 'enum':
        readLong();
        return;
      case 'float':
        return skipBytes(4);
      case 'double':
        return skipBytes(8);
      case 'bytes':
      case 'string':
        return skipBytes(readLong());
      case 'fixed':
        return skipBytes(type.size ?? 0);
      case 'record':
      case 'error':
        for (const field of type.fields ?? []) skip(field.type);
        return;
      case 'union:unwrapped':
      case 'union:wrapped': {
        const branch = type.types?.[readLong()];
        if (branch === undefined) throw new Stop('garbled');
        return skip(branch);
      }
      case 'array':
      case 'map': {
        const inner = (type.typeName === 'array' ? type.itemsType : type.valuesType) as AnyType;
        for (let n = readLong(); n !== 0; n = readLong()) {
          if (n < 0) {
            n = -n;
            readLong(); // the block's size in bytes
          }
          take(n);
          for (let i = 0; i < n; i++) {
            if (type.typeName === 'map') skipBytes(readLong());
            skip(inner);
          }
        }
        return;
      }
      default:
        if (type.underlyingType !== undefined) return skip(type.underlyingType);
        throw new Stop('garbled');
    }
  };

  try {
    skip(asAny(root));
    return null;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    // a garbled body is left for avsc to name; only the item limit is this check's to report
    return error.reason === 'items' ? `holds more than ${maxItems} array or map items` : null;
  }
}
