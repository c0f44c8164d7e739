/**
 * The default TEXT access-log format is Aeraki's, byte for byte, so that log parsers written for
 * Aeraki's lines keep working after a switch.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DUBBO_HOST, DUBBO_SE, generate, proxyConfig, type Json } from '../support/generate.js';


/** Aeraki's default, written out in full: two spaces between %DURATION% and "%REQ(X-FORWARDED-FOR)%". */
const AERAKI_DEFAULT =
  '[%START_TIME%] %REQ(X-META-PROTOCOL-APPLICATION-PROTOCOL)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%  "%REQ(X-FORWARDED-FOR)%" "%REQ(X-REQUEST-ID)%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %ROUTE_NAME%\n';

it("with accessLogFile set and no format, outbound and inbound proxies log in Aeraki's exact default text format", () => {
  const out = generate(
    `
apiVersion: metamesh.io/v1alpha1
kind: MetameshOptions
metadata: {name: metamesh}
spec:
  mesh: {accessLogFile: /dev/stdout}
`,
    DUBBO_SE,
  );
  for (const name of [`metamesh-outbound-${DUBBO_HOST}-20880`, `metamesh-inbound-${DUBBO_HOST}-20880`]) {
    const log = (proxyConfig(out, name).accessLog as Json[])[0]!.typedConfig as Json;
    assert.equal(log.path, '/dev/stdout');
    assert.equal((((log.logFormat as Json).textFormatSource as Json).inlineString), AERAKI_DEFAULT, name);
  }
});
