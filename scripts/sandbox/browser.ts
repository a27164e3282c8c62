/**
 * A tiny headless "browser" that plays the person at the sandbox IdP: fetch,
 * a cookie jar and HTML form submission, with any login and the password
 * "sandbox" typed into the devInteractions login form. It never leaves the
 * IdP's origin: a redirect elsewhere (the client's callback) is returned
 * unfetched.
 *
 * @module
 */

class CookieJar {
  #cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expired = value === "";
      for (const attribute of attributes) {
        const [k, v = ""] = attribute.split("=", 2).map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === "max-age" && Number(v) <= 0) expired = true;
        if (key === "expires" && Date.parse(v) <= Date.now()) expired = true;
      }
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

interface HtmlForm {
  action: string;
  fields: Map<string, string>;
  /** Names of visible inputs that have no value (text/password). */
  empty: string[];
}

function decodeEntities(s: string): string {
  return s
    .replace(
      /&#x([0-9a-f]+);/gi,
      (_, h: string) => String.fromCodePoint(parseInt(h, 16)),
    )
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*"([^"]*)"/g)) {
    out.set(m[1].toLowerCase(), decodeEntities(m[2]));
  }
  return out;
}

function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]);
    const fields = new Map<string, string>();
    const empty: string[] = [];
    for (const input of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]);
      const name = a.get("name");
      if (!name) continue;
      const value = a.get("value");
      if (value !== undefined) fields.set(name, value);
      else if (a.get("type") !== "hidden") empty.push(name);
    }
    forms.push({ action: attrs.get("action") ?? "", fields, empty });
  }
  return forms;
}

/** Where a browsing session ended. */
export type BrowseResult =
  | { kind: "redirect"; url: string }
  | { kind: "page"; html: string };

/**
 * Browses from `start` as `login` with a fresh cookie jar: follows redirects
 * and submits forms until a redirect leaves the origin (returned unfetched)
 * or a page without a form is reached.
 */
export type Browse = (start: string, login: string) => Promise<BrowseResult>;

/** A {@linkcode Browse} that never fetches anything outside `origin`. */
export function browserAt(origin: string): Browse {
  return async (start, login) => {
    const jar = new CookieJar();
    let url = new URL(start);
    let body: URLSearchParams | undefined;
    for (let step = 0; step < 30; step++) {
      if (url.origin !== origin) {
        throw new Error(
          `sandbox IdP: refusing to fetch ${url.origin} (not ${origin})`,
        );
      }
      const headers = new Headers({ accept: "text/html" });
      const cookie = jar.header();
      if (cookie) headers.set("cookie", cookie);
      const res = await fetch(url, {
        method: body ? "POST" : "GET",
        body,
        headers,
        redirect: "manual",
      });
      jar.store(res);
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const location = res.headers.get("location");
        if (!location) {
          throw new Error(
            `sandbox IdP: ${res.status} without Location at ${url}`,
          );
        }
        const next = new URL(location, url);
        if (next.origin !== origin) return { kind: "redirect", url: next.href };
        url = next;
        body = undefined;
        continue;
      }
      const html = await res.text();
      const errorText = /<p id="sandbox-error">([\s\S]*?)<\/p>/.exec(html);
      if (!res.ok || errorText) {
        const detail = errorText?.[1] ??
          html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 300);
        throw new Error(
          `sandbox IdP: ${url.pathname} answered ${res.status}: ${decodeEntities(detail)}`,
        );
      }
      const [form] = parseForms(html);
      if (!form) return { kind: "page", html };
      const fields = new URLSearchParams([...form.fields]);
      for (const name of form.empty) {
        if (name === "login") fields.set("login", login);
        else if (name === "password") fields.set("password", "sandbox");
        else throw new Error(`sandbox IdP: unexpected form field "${name}" at ${url.pathname}`);
      }
      url = new URL(form.action || url.href, url);
      body = fields;
    }
    throw new Error("sandbox IdP: too many steps in the browser flow");
  };
}

/**
 * The person's part of an authorization (RFC 6749 §4.1.1-4.1.2): signs in as
 * `login` and returns the redirect to the client (code and state, or an
 * OAuth error) unfetched.
 */
export async function approveAuthorization(
  browse: Browse,
  request: { authorizeUrl: string; login: string },
): Promise<string> {
  const result = await browse(request.authorizeUrl, request.login);
  if (result.kind !== "redirect") {
    throw new Error("sandbox IdP: the authorization flow ended without a redirect to the client");
  }
  return result.url;
}

/** The person's part of RFC 8628 §3.3: enters `userCode` at `verificationUrl` and confirms it. */
export async function approveUserCode(
  browse: Browse,
  request: { verificationUrl: string; userCode: string; login: string },
): Promise<void> {
  const start = new URL(request.verificationUrl);
  start.searchParams.set("user_code", request.userCode);
  const result = await browse(start.href, request.login);
  if (result.kind !== "page" || !result.html.includes("sandbox-device-success")) {
    throw new Error(
      `sandbox IdP: device approval did not succeed (${
        result.kind === "redirect" ? `redirected to ${result.url}` : "unexpected page"
      })`,
    );
  }
}
