// The BSON subset MAAS's `details` replies use (bson.BSON.encode of {name: Binary | None}): a
// document of binary (subtype 0) and null elements. No bson package is installed, and this is
// all a reply needs. Spec: https://bsonspec.org/spec.html
export type BsonValue = Buffer | null;

const BINARY = 0x05;
const NULL = 0x0a;

export function encodeBson(doc: Readonly<Record<string, BsonValue>>): Buffer {
  const elements = Object.entries(doc).map(([name, value]) => {
    if (name.includes('\0')) throw new Error(`BSON element name contains NUL: ${JSON.stringify(name)}`);
    const key = Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0])]);
    if (value === null) return Buffer.concat([Buffer.from([NULL]), key]);
    const header = Buffer.alloc(5);
    header.writeInt32LE(value.length, 0);
    header.writeUInt8(0x00, 4); // generic binary subtype
    return Buffer.concat([Buffer.from([BINARY]), key, header, value]);
  });
  const body = Buffer.concat(elements);
  const size = Buffer.alloc(4);
  size.writeInt32LE(4 + body.length + 1, 0);
  return Buffer.concat([size, body, Buffer.from([0])]);
}
