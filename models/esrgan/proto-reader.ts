/**
 * A tiny protobuf decoder, enough to read back what onnx-writer.ts writes (varint, fixed32 and
 * length-delimited fields). Used by the tests to check the writer independently of ORT.
 */

export type ProtoValue = bigint | number | Uint8Array;

export interface ProtoField {
  readonly field: number;
  readonly wire: number;
  /** varint -> bigint, fixed32 -> float, length-delimited -> bytes */
  readonly value: ProtoValue;
}

export function decodeMessage(bytes: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.length) throw new Error('truncated varint');
      const b = bytes[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      out.push({ field, wire, value: varint() });
    } else if (wire === 5) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4);
      out.push({ field, wire, value: view.getFloat32(0, true) });
      at += 4;
    } else if (wire === 2) {
      const len = Number(varint());
      if (at + len > bytes.length) throw new Error('truncated length-delimited field');
      out.push({ field, wire, value: bytes.subarray(at, at + len) });
      at += len;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

export function fieldsOf(msg: readonly ProtoField[], field: number): ProtoValue[] {
  return msg.filter((f) => f.field === field).map((f) => f.value);
}

export function bytesField(msg: readonly ProtoField[], field: number): Uint8Array[] {
  return fieldsOf(msg, field).map((v) => {
    if (!(v instanceof Uint8Array)) throw new Error(`field ${field} is not length-delimited`);
    return v;
  });
}

export function stringField(msg: readonly ProtoField[], field: number): string[] {
  return bytesField(msg, field).map((b) => new TextDecoder().decode(b));
}

/** Varints as signed 64-bit numbers. */
export function intField(msg: readonly ProtoField[], field: number): number[] {
  return fieldsOf(msg, field).map((v) => {
    if (typeof v !== 'bigint') throw new Error(`field ${field} is not a varint`);
    return Number(BigInt.asIntN(64, v));
  });
}
