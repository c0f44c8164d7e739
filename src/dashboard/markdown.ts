/**
 * docs/errors.md as a plain HTML page, so the dashboard can link each diagnostic to its section
 * (`/docs/errors#mm_router_weights`). A deliberately small subset of Markdown, the one that page
 * uses: headings (with ids: the heading text in lower case, non-word characters dropped, spaces as
 * hyphens, as GitHub makes them), fenced code, tables and lists as preformatted text, paragraphs
 * with `code` spans. Blocks that may scroll take the keyboard focus. Everything is escaped; no HTML from the file is passed through. Pure.
 */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inline(s: string): string {
  return esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

export function anchorOf(heading: string): string {
  return heading.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

export function markdownPage(md: string, title: string): string {
  const out: string[] = [];
  const lines = md.split('\n');
  let para: string[] = [];
  const endPara = () => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^(#{1,4}) +(.*)$/.exec(line);
    if (h) {
      endPara();
      const n = h[1]!.length;
      out.push(`<h${n} id="${esc(anchorOf(h[2]!))}">${inline(h[2]!)}</h${n}>`);
    } else if (line.startsWith('```')) {
      endPara();
      const block: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) block.push(lines[i]!);
      out.push(`<pre tabindex="0"><code>${esc(block.join('\n'))}</code></pre>`);
    } else if (/^\s*(\||[-*] |\d+\. )/.test(line)) {
      endPara();
      const block: string[] = [line];
      while (i + 1 < lines.length && lines[i + 1]!.trim() !== '' && !/^#/.test(lines[i + 1]!)) block.push(lines[++i]!);
      out.push(`<pre class="block" tabindex="0">${esc(block.join('\n'))}</pre>`);
    } else if (line.trim() === '') endPara();
    else para.push(line.trim());
  }
  endPara();
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><link rel="stylesheet" href="/dashboard/dashboard.css"></head><body class="doc"><main>\n${out.join('\n')}\n</main></body></html>\n`;
}
