import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { RentlinkError } from '../errors.js';
import { ImportError, type ImportIssue } from './import-leases.js';

// Reading a lease file from disk before it is parsed: what is refused before a byte is parsed (not a
// regular file, over IMPORT_MAX_BYTES, not UTF-8), with messages that say why and where.

/**
 * Reads a lease file for import: only a regular file (not /dev/zero, a FIFO or a directory), at most
 * `maxBytes` (IMPORT_MAX_BYTES) read even if the file grows meanwhile, decoded as UTF-8. Throws
 * INVALID_INPUT for a file it will not read, ImportError when it is not UTF-8.
 */
export function readLeaseFile(path: string, maxBytes: number): string {
  const fd = openForReading(path);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new RentlinkError('INVALID_INPUT', `${path} is ${fileKind(stat)}, not a regular file: nothing imported`);
    if (stat.size > maxBytes) throw fileTooLarge(path, maxBytes);
    const bytes = readAtMost(fd, maxBytes + 1);
    if (bytes.length > maxBytes) throw fileTooLarge(path, maxBytes);
    return decodeLeaseFile(bytes);
  } finally {
    closeSync(fd);
  }
}

/** Opens without blocking: opening a FIFO for reading would otherwise wait for a writer. */
function openForReading(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new RentlinkError('INVALID_INPUT', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isFIFO()) return 'a pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

function fileTooLarge(path: string, maxBytes: number): RentlinkError {
  return new RentlinkError(
    'INVALID_INPUT',
    `${path} is larger than IMPORT_MAX_BYTES (${maxBytes} bytes): nothing imported; split it or raise the setting`,
  );
}

/** Up to `limit` bytes from the current position. */
function readAtMost(fd: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(limit - total, 1 << 20));
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) break;
    chunks.push(chunk.subarray(0, read));
    total += read;
  }
  return Buffer.concat(chunks, total);
}

/**
 * The file's text. It must be UTF-8 (a byte-order mark is fine): anything else (Latin-1, Windows-1252)
 * would otherwise import as U+FFFD, so it is an ImportError naming the line and byte of the first
 * invalid sequence.
 */
export function decodeLeaseFile(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ImportError([notUtf8Issue(bytes, firstInvalidUtf8(bytes))], { cause: err });
  }
}

function notUtf8Issue(bytes: Uint8Array, offset: number): ImportIssue {
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  const line = 1 + bytes.subarray(0, lineStart).filter((b) => b === 0x0a).length;
  const hex = `0x${(bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0')}`;
  return {
    line,
    field: 'file',
    message:
      `the file is not UTF-8: byte ${hex} at line ${line}, byte ${offset - lineStart + 1} (byte ${offset + 1} of the ` +
      'file) is not valid UTF-8 (Latin-1 or Windows-1252?); save it as UTF-8 ("CSV UTF-8" in Excel) and import again',
  };
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (WHATWG rules), or the length. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 (overlong, surrogate, above U+10FFFF, cut short). */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i] ?? 0;
  if (lead < 0x80) return 1;
  const [length, low, high] = lead < 0xc2 ? [0, 0, 0] : lead < 0xe0 ? [2, 0x80, 0xbf] : utf8LongerRange(lead);
  if (length === 0) return 0;
  for (let k = 1; k < length; k++) {
    const next = bytes[i + k];
    const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
    if (next === undefined || next < min || next > max) return 0;
  }
  return length;
}

/** [length, lowest and highest second byte] for 3- and 4-byte leads; [0, 0, 0] for invalid leads. */
function utf8LongerRange(lead: number): [number, number, number] {
  if (lead === 0xe0) return [3, 0xa0, 0xbf];
  if (lead === 0xed) return [3, 0x80, 0x9f];
  if (lead < 0xf0) return [3, 0x80, 0xbf];
  if (lead === 0xf0) return [4, 0x90, 0xbf];
  if (lead < 0xf4) return [4, 0x80, 0xbf];
  if (lead === 0xf4) return [4, 0x80, 0x8f];
  return [0, 0, 0];
}
