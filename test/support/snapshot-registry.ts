/** A `file://` registry holding `count` generated services, for the dashboard's scale tests. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseRegistry, type RegistryConfig } from '../../src/registry/config.js';
import { tempDir } from './xds.js';

/**
 * Service i is `svc-<i, five digits>.registry.example.com`, Thrift for every third, Dubbo
 * otherwise, with 1 + (i mod 4) instances on port 20880.
 */
export function snapshotRegistry(count: number): RegistryConfig {
  const file = path.join(tempDir('metamesh-dash-'), 'registry.yaml');
  const lines = ['services:'];
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(5, '0');
    const instances = Array.from({ length: 1 + (i % 4) }, (_, k) => `{address: 10.${Math.floor(i / 250)}.${i % 250}.${k + 1}, port: 20880, labels: {}, weight: 100, healthy: true, enabled: true}`);
    lines.push(`  - {key: 'dubbo:demo.Svc${n}', protocol: ${i % 3 === 0 ? 'thrift' : 'dubbo'}, host: svc-${n}.registry.example.com, instances: [${instances.join(', ')}]}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  const c = parseRegistry(`file://${file}`);
  assert.ok(!('error' in c));
  return c as RegistryConfig;
}
