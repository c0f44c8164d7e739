/**
 * Types for the parts of the npm `thrift` package (0.23, which ships none) that the tests use:
 * the binary protocol, the framed transport, a raw-socket server around a processor and a
 * connection with a client on it. Written from the package's JavaScript sources.
 */
declare module 'thrift' {
  import type { EventEmitter } from 'node:events';
  import type { Server } from 'node:net';

  namespace thrift {
    /** The core definitions (`lib/thrift/thrift.js`): wire types, message types, exceptions. */
    namespace Thrift {
      /** Wire type ids of the Thrift protocols. */
      const Type: {
        readonly STOP: number;
        readonly BOOL: number;
        readonly BYTE: number;
        readonly I16: number;
        readonly I32: number;
        readonly I64: number;
        readonly DOUBLE: number;
        readonly STRING: number;
        readonly STRUCT: number;
        readonly MAP: number;
        readonly SET: number;
        readonly LIST: number;
      };
      const MessageType: { readonly CALL: number; readonly REPLY: number; readonly EXCEPTION: number; readonly ONEWAY: number };
      const TApplicationExceptionType: { readonly UNKNOWN: number; readonly UNKNOWN_METHOD: number; readonly MISSING_RESULT: number; readonly PROTOCOL_ERROR: number };

      class TException extends Error {}
      class TApplicationException extends TException {
        constructor(type?: number, message?: string);
        type: number;
        read(input: TProtocol): void;
        write(output: TProtocol): void;
      }
    }

    interface MessageHeader {
      readonly fname: string;
      readonly mtype: number;
      readonly rseqid: number;
    }
    interface FieldHeader {
      readonly fname: string | null;
      readonly ftype: number;
      readonly fid: number;
    }

    interface TTransport {
      flush(): void;
    }
    interface TProtocol {
      readMessageBegin(): MessageHeader;
      readMessageEnd(): void;
      readStructBegin(): unknown;
      readStructEnd(): void;
      readFieldBegin(): FieldHeader;
      readFieldEnd(): void;
      readString(): string;
      readI32(): number;
      skip(type: number): void;
      writeMessageBegin(name: string, type: number, seqid: number): void;
      writeMessageEnd(): void;
      writeStructBegin(name: string): void;
      writeStructEnd(): void;
      writeFieldBegin(name: string, type: number, id: number): void;
      writeFieldEnd(): void;
      writeFieldStop(): void;
      writeMapBegin(ktype: number, vtype: number, size: number): void;
      writeMapEnd(): void;
      writeString(s: string): void;
      writeI32(n: number): void;
      flush(): void;
    }

    type TransportClass = new (buffer?: Buffer, onFlush?: (frame: Buffer, seqid?: number) => void) => TTransport;
    type ProtocolClass = new (transport: TTransport) => TProtocol;

    const TFramedTransport: TransportClass;
    const TBufferedTransport: TransportClass;
    const TBinaryProtocol: ProtocolClass;

    /** What a server calls for each message read: reads the call from `input`, answers on `output`. */
    interface Processor {
      process(input: TProtocol, output: TProtocol): void;
    }

    interface ServerOptions {
      readonly transport?: TransportClass;
      readonly protocol?: ProtocolClass;
    }
    function createMultiplexServer(processor: Processor, options?: ServerOptions): Server;

    interface ConnectionOptions {
      readonly transport?: TransportClass;
      readonly protocol?: ProtocolClass;
      readonly connect_timeout?: number;
      readonly timeout?: number;
      readonly max_attempts?: number;
    }
    interface Connection extends EventEmitter {
      readonly connected: boolean;
      end(): void;
      destroy(): void;
    }
    function createConnection(host: string, port: number, options?: ConnectionOptions): Connection;
    /** A client of `Client` (what the compiler would generate) writing to `connection`. */
    function createClient<C>(Client: new (output: TTransport, protocol: ProtocolClass) => C, connection: Connection): C;
  }

  export = thrift;
}
