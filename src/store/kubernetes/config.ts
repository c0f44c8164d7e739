/**
 * Which Kubernetes API to read, and as whom: the one place that decides. Effects: reads the
 * kubeconfig file (through @kubernetes/client-node) and the environment it is given.
 *
 * In order:
 * 1. `--kubeconfig <file>`: that file's current context;
 * 2. `$KUBECONFIG` (a list of files, merged as kubectl merges them);
 * 3. inside a pod (`KUBERNETES_SERVICE_HOST` set and the service-account token mounted): the pod's
 *    service account (its token is re-read as the kubelet rotates it);
 * 4. `~/.kube/config`.
 * Nothing else: unlike client-node's loadFromDefault, no fallback to an unauthenticated
 * http://localhost:8080, which would look like a cluster with nothing in it.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type LoadedKubeConfig = { readonly kc: KubeConfig; readonly from: string } | { readonly error: string };

export interface KubeConfigEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly exists: (file: string) => boolean;
}

const realEnv: KubeConfigEnv = { env: process.env, home: os.homedir(), exists: existsSync };

export function loadKubeConfig(kubeconfig: string | undefined, where: KubeConfigEnv = realEnv): LoadedKubeConfig {
  const kc = new KubeConfig();
  let from: string;
  try {
    if (kubeconfig !== undefined) {
      if (!where.exists(kubeconfig)) return { error: `--kubeconfig ${kubeconfig}: no such file` };
      kc.loadFromFile(kubeconfig);
      from = kubeconfig;
    } else if (where.env.KUBECONFIG) {
      const [first, ...rest] = where.env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
      kc.loadFromFile(first!);
      // As kubectl merges them: the first file that defines a name (or a current context) wins.
      for (const f of rest) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        for (const c of more.getClusters()) if (!kc.getCluster(c.name)) kc.addCluster(c);
        for (const u of more.getUsers()) if (!kc.getUser(u.name)) kc.addUser(u);
        for (const c of more.getContexts()) if (!kc.getContextObject(c.name)) kc.addContext(c);
        if (!kc.getCurrentContext()) kc.setCurrentContext(more.getCurrentContext());
      }
      from = `$KUBECONFIG (${where.env.KUBECONFIG})`;
    } else if (where.env.KUBERNETES_SERVICE_HOST && where.exists(SERVICE_ACCOUNT_TOKEN)) {
      kc.loadFromCluster();
      from = 'the pod\'s service account';
    } else {
      const file = path.join(where.home, '.kube', 'config');
      if (!where.exists(file)) return { error: 'no Kubernetes configuration found: give --kubeconfig, set $KUBECONFIG, or run in a pod with a service account' };
      kc.loadFromFile(file);
      from = file;
    }
  } catch (e) {
    return { error: `the Kubernetes configuration cannot be read: ${(e as Error).message}` };
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) return { error: `the Kubernetes configuration from ${from} has no current cluster with a server` };
  return { kc, from };
}
