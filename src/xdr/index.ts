// The XDR codec (RFC 4506): a bounded reader and a chunked writer.
export { XdrReader, XdrDecodeError, padding } from './reader.js';
export { XdrWriter } from './writer.js';
