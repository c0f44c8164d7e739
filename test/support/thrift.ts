/**
 * A real Thrift service for the tests, over the npm `thrift` package: framed transport and binary
 * protocol (what Finagle servers and the MetaProtocol Thrift codec speak). The service is
 *
 *   service Echo { string echo(1: string message) }
 *
 * with its processor and client written by hand here (what the Thrift compiler would generate),
 * so the tests need no compiler. A server answers `<identity> <message>`, so a caller can tell which
 * server it reached.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import thrift from 'thrift';

const { Type, MessageType, TApplicationException, TApplicationExceptionType } = thrift.Thrift;
const TRANSPORT = thrift.TFramedTransport;
const PROTOCOL = thrift.TBinaryProtocol;

/** The fields of a struct as they come: id → string for string fields; others are skipped. */
function readStrings(input: thrift.TProtocol): Map<number, string> {
  const out = new Map<number, string>();
  input.readStructBegin();
  for (;;) {
    const f = input.readFieldBegin();
    if (f.ftype === Type.STOP) break;
    if (f.ftype === Type.STRING) out.set(f.fid, input.readString());
    else input.skip(f.ftype);
    input.readFieldEnd();
  }
  input.readStructEnd();
  return out;
}

/** One string field in a struct (`echo_args.message` is field 1, `echo_result.success` field 0). */
function writeString(output: thrift.TProtocol, struct: string, field: string, id: number, value: string): void {
  output.writeStructBegin(struct);
  output.writeFieldBegin(field, Type.STRING, id);
  output.writeString(value);
  output.writeFieldEnd();
  output.writeFieldStop();
  output.writeStructEnd();
}

/** The server side of Echo: answers `echo`, and an unknown method with TApplicationException. */
class EchoProcessor implements thrift.Processor {
  constructor(private readonly identity: string) {}

  process(input: thrift.TProtocol, output: thrift.TProtocol): void {
    const call = input.readMessageBegin();
    if (call.fname !== 'echo') {
      input.skip(Type.STRUCT);
      input.readMessageEnd();
      output.writeMessageBegin(call.fname, MessageType.EXCEPTION, call.rseqid);
      new TApplicationException(TApplicationExceptionType.UNKNOWN_METHOD, `unknown method ${call.fname}`).write(output);
      output.writeMessageEnd();
      output.flush();
      return;
    }
    const args = readStrings(input);
    input.readMessageEnd();
    output.writeMessageBegin('echo', MessageType.REPLY, call.rseqid);
    writeString(output, 'echo_result', 'success', 0, `${this.identity} ${args.get(1) ?? ''}`);
    output.writeMessageEnd();
    output.flush();
  }
}

/**
 * The client side of Echo, in the shape `thrift.createClient` and the connection expect: `_reqs`
 * holds the callback of each sequence id, and the connection calls `recv_<method>` with each reply.
 */
class EchoClient {
  readonly _reqs: Record<number, (err: unknown, result?: string) => void> = {};
  private seqid = 0;

  constructor(
    private readonly output: thrift.TTransport,
    private readonly protocol: thrift.ProtocolClass,
  ) {}

  echo(message: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const seqid = ++this.seqid;
      this._reqs[seqid] = (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result!));
      const out = new this.protocol(this.output);
      out.writeMessageBegin('echo', MessageType.CALL, seqid);
      writeString(out, 'echo_args', 'message', 1, message);
      out.writeMessageEnd();
      out.flush();
    });
  }

  recv_echo(input: thrift.TProtocol, mtype: number, rseqid: number): void {
    const done = this._reqs[rseqid] ?? (() => {});
    delete this._reqs[rseqid];
    if (mtype === MessageType.EXCEPTION) {
      const x = new TApplicationException();
      x.read(input);
      input.readMessageEnd();
      done(x);
      return;
    }
    const result = readStrings(input).get(0);
    input.readMessageEnd();
    if (result === undefined) done(new Error('echo returned no result'));
    else done(null, result);
  }
}

export interface EchoServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts an Echo server on `host` and a free port; it answers `<identity> <message>`. */
export async function startEchoServer(host: string, identity: string): Promise<EchoServer> {
  const server: Server = thrift.createMultiplexServer(new EchoProcessor(identity), { transport: TRANSPORT, protocol: PROTOCOL });
  // A client that goes away mid-call is that client's problem, not the test's.
  server.on('error', () => {});
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Calls `echo(message)` on the Thrift server at host:port with a fresh connection, and closes it. */
export async function callEcho(host: string, port: number, message: string, timeoutMs = 10_000): Promise<string> {
  const connection = thrift.createConnection(host, port, { transport: TRANSPORT, protocol: PROTOCOL, connect_timeout: timeoutMs, max_attempts: 1 });
  try {
    const client = thrift.createClient(EchoClient, connection);
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer from the Thrift server at ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      connection.once('error', (e: Error) => {
        clearTimeout(t);
        reject(e);
      });
      client.echo(message).then(
        (r) => {
          clearTimeout(t);
          resolve(r);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  } finally {
    connection.end();
  }
}
