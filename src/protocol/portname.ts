/**
 * Aeraki's port-name convention: `<anything>-metaprotocol-<protocol>[-<free text>]`, case-insensitive
 * (`tcp-metaprotocol-dubbo`, `tcp-metaprotocol-thrift-hello`). One parser for service ports and
 * gateway server ports.
 */
export type PortNameProtocol =
  /** Not a MetaProtocol port name. */
  | { readonly kind: 'none' }
  /** `tcp-metaprotocol` without a protocol: a mistake worth reporting. */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'protocol'; readonly protocol: string };

export function protocolFromPortName(name: string): PortNameProtocol {
  const tokens = name.toLowerCase().split('-');
  if (tokens.length < 2 || tokens[1] !== 'metaprotocol') return { kind: 'none' };
  const protocol = tokens[2];
  return protocol ? { kind: 'protocol', protocol } : { kind: 'incomplete' };
}
