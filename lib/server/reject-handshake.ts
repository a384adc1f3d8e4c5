import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answers an upgrade request with an HTTP error and a JSON body and closes the socket (no WebSocket is created).
 * A string message becomes Nest's usual body, `{ statusCode, message, error }`; an object is sent as it is.
 */
export function rejectHandshake(
  socket: Duplex,
  status: number,
  message: string | object,
  headers: Readonly<Record<string, string>> = {},
): void {
  // The HTTP server stopped listening for the socket's errors when it handed it over: a reset while the answer is
  // written must not crash the process.
  socket.on('error', ignoreError);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(
    typeof message === 'string' ? { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' } : message,
  );
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function ignoreError(): void {
  // The socket is being discarded; its error changes nothing.
}
