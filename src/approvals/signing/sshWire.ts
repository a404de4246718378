/** Minimal reader/writer for the SSH wire encoding (RFC 4251 §5): uint32 and length-prefixed strings. */

export class SshWireError extends Error {}

export class SshReader {
  private offset = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new SshWireError(
        `${this.what}: truncated (wanted ${n} bytes at offset ${this.offset}, ${this.remaining} left)`,
      );
    }
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.bytes(this.u32());
  }

  /** A string field that must be printable text (key types, namespaces, algorithm names). */
  text(): string {
    const raw = this.string();
    const s = raw.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(raw)) throw new SshWireError(`${this.what}: field is not valid UTF-8`);
    return s;
  }

  expectEnd(): void {
    if (this.remaining !== 0) throw new SshWireError(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export function sshString(data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([u32(b.length), b]);
}
