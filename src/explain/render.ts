/**
 * An Explanation as plain text: the summary, then each section that has facts under its title, one
 * fact per line, then the diagnostics with their codes and where docs/errors.md explains them, then
 * the verdict. Pure.
 */
import { SECTIONS, type Explanation, type Section } from '../model/explanation.js';

const TITLES: Record<Section, string> = {
  service: 'Service',
  metarouter: 'MetaRouter',
  destinationrules: 'DestinationRules',
  envoyfilters: 'EnvoyFilters',
  routes: 'Routes',
  gateways: 'Gateways',
  proxies: 'Proxies',
};

export function renderExplanation(e: Explanation): string {
  const lines: string[] = [e.summary, ''];
  for (const section of SECTIONS) {
    const facts = e.facts.filter((f) => f.section === section);
    if (facts.length === 0) continue;
    lines.push(`${TITLES[section]}:`);
    for (const f of facts) lines.push(`  ${f.sentence}`);
    lines.push('');
  }
  if (e.subject.kind !== 'unknown') {
    lines.push('Diagnostics:');
    if (e.diagnostics.length === 0) lines.push('  None about these objects.');
    for (const d of e.diagnostics) {
      lines.push(`  ${d.severity} ${d.code} on ${d.object}${d.notInEffect ? ' (not in effect)' : ''}: ${d.message} See ${d.doc}.`);
    }
    lines.push('');
  }
  lines.push(e.inEffect ? 'In effect as written.' : 'Not in effect as written.');
  return `${lines.join('\n')}\n`;
}
