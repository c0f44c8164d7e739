/**
 * The examples applied to a test cluster and mirrored into a directory, one object per file as the
 * API server returns it (without managedFields and status), plus the examples' options.yaml: the
 * reference input for `metamesh generate` that a server reading the cluster must match.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { root, tempDir } from '../../support/xds.js';
import type { KubeCluster } from './kube.js';

export const EXAMPLE_NAMESPACES = ['dubbo', 'meta-thrift', 'video', 'istio-system'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');

export class ClusterMirror {
  /** The YAML text applied for each mirror file, to delete it again. */
  readonly applied = new Map<string, string>();

  private constructor(
    private readonly cluster: KubeCluster,
    /** The directory: one JSON file per object applied, and options.yaml. */
    readonly dir: string,
  ) {}

  /** Creates the examples' namespaces and applies examples/{dubbo,thrift,trpc}.yaml, mirrored. */
  static async ofExamples(cluster: KubeCluster, prefix: string): Promise<ClusterMirror> {
    await cluster.apply(EXAMPLE_NAMESPACES);
    const m = new ClusterMirror(cluster, tempDir(prefix));
    copyFileSync(path.join(root, 'examples/options.yaml'), path.join(m.dir, 'options.yaml'));
    for (const f of ['dubbo.yaml', 'thrift.yaml', 'trpc.yaml']) {
      for (const doc of parseAllDocuments(readFileSync(path.join(root, 'examples', f), 'utf8'))) await m.put(doc.toString());
    }
    return m;
  }

  /** Applies one object and mirrors it as read back; returns its mirror file's name. */
  async put(yaml: string): Promise<string> {
    const [obj] = k8s.loadAllYaml(yaml) as k8s.KubernetesObject[];
    await this.cluster.apply(yaml);
    // Read back at the version metamesh reads (Istio's kinds at v1), as the API server converts it.
    const at = obj!.apiVersion?.startsWith('networking.istio.io/') ? { ...obj, apiVersion: 'networking.istio.io/v1' } : obj;
    const back = (await this.cluster.objects.read(at as Parameters<typeof this.cluster.objects.read>[0])) as unknown as Record<string, unknown>;
    const meta = back.metadata as Record<string, unknown>;
    delete meta.managedFields;
    delete back.status;
    const file = `${back.kind}-${meta.namespace}-${meta.name}.json`;
    writeFileSync(path.join(this.dir, file), JSON.stringify(back, null, 2));
    this.applied.set(file, yaml);
    return file;
  }

  /** Deletes a mirrored object from the cluster and the mirror. */
  async drop(file: string): Promise<void> {
    await this.cluster.remove(this.applied.get(file)!);
    rmSync(path.join(this.dir, file));
    this.applied.delete(file);
  }
}
