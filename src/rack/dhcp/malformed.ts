// The one error a DHCP packet decoder throws: the socket handler catches it by type, logs it
// (rate-limited) and drops the datagram; anything else escaping the decoder is a bug.

export class MalformedPacketError extends Error {
  override name = 'MalformedPacketError';
}
