/**
 * Pure helpers of `deno task bench` (scripts/bench.ts): statistics,
 * synthetic stores, and Markdown formatting. Nothing here spawns a process
 * or touches the network.
 *
 * @module
 */

/** Median of `xs` (mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Arithmetic mean of `xs`; NaN when empty. */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The `p`-th percentile by nearest rank (p in 0..100); NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

/** Rounds to `digits` decimals (for results.json). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** `1.23×`, or `–` when not a finite number. */
export function times(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : "–";
}

/** Milliseconds with one decimal (no decimal from 100 ms on), or `–`. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return "–";
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/** A byte count in KB: one decimal below 10 KB. */
export function kb(bytes: number): string {
  const k = bytes / 1024;
  return `${k < 10 ? k.toFixed(1) : k.toFixed(0)} KB`;
}

/** Integers with thousands separators: 1,000. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** A Markdown table; `align` per column: "l" (default) or "r". */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ("l" | "r")[] = [],
): string {
  const esc = (cell: string): string => cell.replaceAll("|", "\\|");
  const line = (cells: readonly string[]): string => `| ${cells.map(esc).join(" | ")} |`;
  const rule = `|${header.map((_, i) => (align[i] === "r" ? "--:" : "---")).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

function base64url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * A JWT-shaped access token (header.payload.signature, ~1 KB like a real
 * OpenAI one) carrying the account and e-mail claims clawauth reads.
 */
export function fakeAccessToken(i: number, expires: number): string {
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "bench" }));
  const payload = base64url(JSON.stringify({
    iss: "https://auth.openai.com",
    sub: `user-${i}`,
    aud: ["https://api.openai.com/v1"],
    exp: Math.floor(expires / 1000),
    iat: Math.floor(expires / 1000) - 864_000,
    scp: ["openid", "profile", "email", "offline_access"],
    "https://api.openai.com/auth": { chatgpt_account_id: `acct-bench-${i}` },
    "https://api.openai.com/profile": { email: `user${i}@example.test`, email_verified: true },
  }));
  return `${header}.${payload}.${"s".repeat(342)}`;
}

/** The profile that scale runs ask for: the only `openai` profile of each synthetic store. */
export const SCALE_TARGET = "openai:target";

/** The secret of {@link SCALE_TARGET}. */
export const SCALE_TARGET_KEY = `sk-bench-${"t".repeat(40)}`;

/**
 * A version-1 store with `n` profiles: {@link SCALE_TARGET} (api_key) plus
 * `n - 1` others cycling through oauth (`openai-codex`), token and api_key
 * (`anthropic`), each with a `usageStats` entry as a store in daily use has.
 * The target is alone in its provider, so `token --profile` stays on the
 * read-only path (with siblings it would also record `lastUsed` under the lock).
 */
export function syntheticStore(n: number, now: number): Record<string, unknown> {
  const profiles: Record<string, unknown> = {
    [SCALE_TARGET]: { type: "api_key", provider: "openai", key: SCALE_TARGET_KEY },
  };
  const usageStats: Record<string, unknown> = {
    [SCALE_TARGET]: { lastUsed: now - 60_000, errorCount: 0 },
  };
  for (let i = 1; i < n; i++) {
    let id: string;
    switch (i % 3) {
      case 1: {
        const expires = now + 10 * 86_400_000;
        id = `openai-codex:user${i}@example.test`;
        profiles[id] = {
          type: "oauth",
          provider: "openai-codex",
          access: fakeAccessToken(i, expires),
          refresh: `rt_bench_${i}_${"r".repeat(40)}`,
          expires,
          accountId: `acct-bench-${i}`,
          email: `user${i}@example.test`,
        };
        break;
      }
      case 2:
        id = `anthropic:tok${i}`;
        profiles[id] = {
          type: "token",
          provider: "anthropic",
          token: `sk-ant-oat01-bench${i}-${"o".repeat(80)}`,
          expires: now + 365 * 86_400_000,
        };
        break;
      default:
        id = `anthropic:key${i}`;
        profiles[id] = {
          type: "api_key",
          provider: "anthropic",
          key: `sk-ant-api03-bench${i}-${"k".repeat(80)}`,
        };
    }
    usageStats[id] = { lastUsed: now - i * 1000, errorCount: 0 };
  }
  return { version: 1, profiles, usageStats };
}

/** An integer setting from the environment, at least `min`. */
export function envInt(name: string, fallback: number, min: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name}=${raw} must be an integer ≥ ${min}`);
  }
  return n;
}

/** Progress on stderr. */
export const log = (message: string): void => console.error(`bench: ${message}`);

// ---------------------------------------------------------------------------
// Stores

/** The JSON store of an agent. */
export function storePath(stateDir: string, agent = "main"): string {
  return `${stateDir}/agents/${agent}/agent/auth-profiles.json`;
}

/** Writes the main agent's JSON store, private as clawauth keeps it. */
export function writeStore(stateDir: string, data: unknown): void {
  const dir = `${stateDir}/agents/main/agent`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let d = dir; d.startsWith(stateDir); d = d.replace(/\/[^/]*$/, "")) Deno.chmodSync(d, 0o700);
  const path = storePath(stateDir);
  Deno.writeTextFileSync(path, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  Deno.chmodSync(path, 0o600);
}

/** A loosely typed JSON object. */
export type Json = Record<string, unknown>;
/** Reads a JSON file. */
/**
 * A Deno floor script: reads the JSON store at `path` and prints the key of
 * profile `id`, nothing else. `who` names the writer for its header line.
 */
export function jsonFloorScript(who: string, path: string, id: string): string {
  return `// Written by ${who} and deleted after the run.
const store = JSON.parse(Deno.readTextFileSync(${JSON.stringify(path)}));
console.log(store.profiles[${JSON.stringify(id)}].key);
`;
}

export const readJson = (path: string): Json => JSON.parse(Deno.readTextFileSync(path));

/** Marks the OAuth profile `id` as expired a second ago (the store is rewritten in place). */
export function backdate(stateDir: string, id: string, agent = "main"): string {
  const data = readJson(storePath(stateDir, agent));
  const profile = (data.profiles as Record<string, Json>)[id];
  profile.expires = Date.now() - 1000;
  Deno.writeTextFileSync(storePath(stateDir, agent), `${JSON.stringify(data, null, 2)}\n`);
  return String(profile.access);
}
