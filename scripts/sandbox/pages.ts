/**
 * Minimal HTML pages for the sandbox (they replace oidc-provider's defaults,
 * which load web fonts and print "you SHOULD change it" notices). An error is
 * shown in `<p id="sandbox-error">`, which the headless browser looks for.
 *
 * @module
 */

/** `s` with the five HTML-special characters as numeric references. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A whole page: `title` as title and heading, then `body` (HTML, not escaped). */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${
    escapeHtml(title)
  }</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** The paragraph that carries an error message (escaped here). */
export function errorParagraph(text: string): string {
  return `<p id="sandbox-error">${escapeHtml(text)}</p>`;
}
