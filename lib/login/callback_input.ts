/**
 * Reading what a person pastes after authorizing: the redirect URL, a query
 * string, Anthropic's `code#state`, or a bare code.
 *
 * @module
 */

import { ClawauthError, Exit } from "../errors.ts";

/** Constant-time comparison of two strings, so `state` checks leak no timing. */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

const VISIBLE = /^[\x21-\x7e]{1,4096}$/;

function unusable(): ClawauthError {
  return new ClawauthError(
    "That is not a redirect URL, a code#state, a query string or an authorization code.",
    Exit.data,
    "Paste the whole address the browser was sent to (it contains code= and state=).",
  );
}

/**
 * Parses pasted input into callback parameters (`code`, maybe `state`, or an
 * `error`); anything else is exit 65.
 */
export function parseCallbackInput(input: string): URLSearchParams {
  const text = input.trim();
  if (!VISIBLE.test(text)) throw unusable();
  let params: URLSearchParams;
  if (/^https?:\/\//i.test(text)) {
    if (!URL.canParse(text)) throw unusable();
    const url = new URL(text);
    params = new URLSearchParams(url.search);
    if (!params.has("code") && !params.has("error")) {
      params = new URLSearchParams(url.hash.slice(1));
    }
  } else if (/(^|[?&])(code|error)=/.test(text)) {
    params = new URLSearchParams(text.replace(/^[?#]/, ""));
  } else {
    const [code, state, ...extra] = text.split("#");
    if (extra.length > 0 || !code) throw unusable();
    params = new URLSearchParams({ code, ...(state ? { state } : {}) });
  }
  const code = params.get("code");
  if (!params.has("error") && (!code || !VISIBLE.test(code))) throw unusable();
  return params;
}

/** Refuses callback parameters whose `state` is not the expected one (exit 65). */
export function checkState(params: URLSearchParams, expected: string): void {
  const state = params.get("state");
  if (state === null || !safeEqual(state, expected)) {
    throw new ClawauthError(
      "The state in the answer does not match this login; nothing was stored.",
      Exit.data,
      "Start the login again and paste the answer of that same login.",
    );
  }
}
