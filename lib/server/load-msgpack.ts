import type * as Msgpackr from 'msgpackr';
import { type WireFormat, msgpackFormat } from '../protocol/wire-format.js';

/**
 * Loads the MessagePack format from `msgpackr`, an optional dependency needed only with the `msgpack` option.
 * Records (msgpackr's structure extension) are off, so any MessagePack client can read what is sent.
 */
export async function loadMsgpackFormat(): Promise<WireFormat> {
  let msgpackr: typeof Msgpackr;
  try {
    msgpackr = await import('msgpackr');
  } catch (error) {
    throw new Error('The RealtimeModule option "msgpack" needs the msgpackr package: npm install msgpackr', {
      cause: error,
    });
  }
  const packr = new msgpackr.Packr({ useRecords: false });
  const unpackr = new msgpackr.Unpackr({ useRecords: false, mapsAsObjects: true });
  return msgpackFormat({ pack: (value) => packr.pack(value), unpack: (data) => unpackr.unpack(data) as unknown });
}
