/**
 * The bad-input corpus (tests/fixtures/bad_inputs/cases.json): malformed
 * stores and configs, hostile ids, oversize or garbage input, and broken
 * token endpoints. Every case must end with the documented exit code
 * (docs/commands.md), one error line plus at most one hint, no stack trace, no
 * secret and no terminal control sequence in the output, and the store
 * byte for byte as it was.
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, type RunResult, type TempState, tempState } from "../helpers.ts";
import { idpFor, startLogin } from "../oauth_helpers.ts";

/** One corpus case; see the `$comment` of cases.json. */
interface BadInput {
  name: string;
  store?: unknown;
  storeBase64?: string;
  config?: unknown;
  openclaw?: string;
  setup?: "pending" | "pending2" | "idp";
  idpFault?: "500" | "html" | "truncated";
  tokenServer?: { status: number; body: string; contentType?: string; location?: string };
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
  stdinBase64?: string;
  expectCode: number;
  stderrMatch?: string;
  bug?: string;
}

const CORPUS: { cases: BadInput[] } = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/bad_inputs/cases.json", import.meta.url)),
);
const SECRET_PREFIX = "sk-ant-oat01-";
/** Terminal control characters other than the newline. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Expands the corpus placeholders in `text`. */
function expand(text: string, vars: Record<string, string>): string {
  return text
    .replace(/\{\{rep:(\d+):(.*?)\}\}/g, (_, n: string, unit: string) => unit.repeat(Number(n)))
    .replace(/\{\{(\w+)\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

function asText(value: unknown, vars: Record<string, string>): string {
  return expand(typeof value === "string" ? value : JSON.stringify(value, null, 2), vars);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function readIfExists(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** A token endpoint on 127.0.0.1 that answers every request as the case says. */
function tokenServer(
  spec: NonNullable<BadInput["tokenServer"]>,
  vars: Record<string, string>,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.body?.cancel();
    return new Response(spec.body === "" ? null : expand(spec.body, vars), {
      status: spec.status,
      headers: {
        "content-type": spec.contentType ?? "application/json",
        ...(spec.location ? { location: spec.location } : {}),
      },
    });
  });
}

function loopbackConfig(tokenUrl: string): string {
  return JSON.stringify({
    providers: {
      "openai-codex": {
        authorizeUrl: "http://127.0.0.1:9/authorize",
        tokenUrl,
        clientId: "bad-input-test",
        redirectUri: "http://127.0.0.1:9/auth/callback",
      },
    },
  });
}

/** Sets the case up, runs its command, and returns what it printed plus the store before and after. */
async function runCase(
  state: TempState,
  c: BadInput,
  vars: Record<string, string>,
): Promise<{ result: RunResult; before?: Uint8Array; after?: Uint8Array }> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    if (c.store !== undefined) state.writeStore(asText(c.store, vars));
    if (c.storeBase64 !== undefined) {
      state.writeStore("");
      Deno.writeFileSync(`${state.agentDir()}/auth-profiles.json`, fromBase64(c.storeBase64));
    }
    if (c.openclaw !== undefined) state.writeFile("openclaw.json", expand(c.openclaw, vars));
    if (c.setup === "idp") {
      const idp = await idpFor(state);
      cleanups.push(() => idp.close());
      const login = await startLogin(state);
      vars.state = login.state;
      vars.redirect = await idp.approve(login.url);
      if (c.idpFault) idp.setTokenFault(c.idpFault);
    } else if (c.tokenServer || c.setup) {
      let tokenUrl = "http://127.0.0.1:9/token";
      if (c.tokenServer) {
        const server = tokenServer(c.tokenServer, vars);
        cleanups.push(() => server.shutdown());
        tokenUrl = `http://127.0.0.1:${server.addr.port}/oauth/token`;
      }
      state.writeFile("clawauth.json", loopbackConfig(tokenUrl));
      for (let i = 0; i < (c.setup === "pending2" ? 2 : 1); i++) {
        vars.state = (await startLogin(state)).state;
      }
    }
    if (c.config !== undefined) state.writeFile("clawauth.json", asText(c.config, vars));
    const storePath = `${state.agentDir()}/auth-profiles.json`;
    const before = readIfExists(storePath);
    const result = await state.run(c.args.map((arg) => expand(arg, vars)), {
      env: Object.fromEntries(
        Object.entries(c.env ?? {}).map(([name, value]) => [name, expand(value, vars)]),
      ),
      stdin: c.stdinBase64 !== undefined
        ? fromBase64(c.stdinBase64)
        : c.stdin !== undefined
        ? expand(c.stdin, vars)
        : undefined,
    });
    return { result, before, after: readIfExists(storePath) };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

Deno.test("the bad-input corpus has at least 40 cases with unique names", () => {
  assert.ok(CORPUS.cases.length >= 40, `${CORPUS.cases.length} cases`);
  assert.equal(new Set(CORPUS.cases.map((c) => c.name)).size, CORPUS.cases.length);
});

for (const c of CORPUS.cases) {
  Deno.test({
    name: `bad input: ${c.name} → exit ${c.expectCode}`,
    // A case that shows an open bug names it in `bug`; see the report of the suite.
    ignore: c.bug !== undefined,
    async fn() {
      await using state = await tempState();
      const secret = fakeSecret(SECRET_PREFIX);
      const { result, before, after } = await runCase(state, c, { secret, dir: state.dir });
      const context = `stdout: ${result.stdout.slice(0, 500)}\nstderr: ${
        result.stderr.slice(0, 500)
      }`;
      assert.equal(result.code, c.expectCode, context);
      // Exit 1 of status --check is a verdict, not an error: it may come without a message.
      if (result.code >= 64) assert.notEqual(result.stderr, "", context);
      if (result.stderr !== "") {
        const lines = result.stderr.replace(/\n$/, "").split("\n");
        assert.ok(lines.length <= 2, `one line and at most one hint: ${context}`);
        // An error, or (for bad input clawauth can do without) a warning.
        assert.match(lines[0], result.code === 0 ? /^warning: \S/ : /^clawauth: \S/, context);
      }
      for (const [name, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
        assert.doesNotMatch(text, /^\s+at /m, `no stack trace on ${name}: ${context}`);
        assert.ok(!leaks(text, secret, SECRET_PREFIX), `the secret leaks on ${name}: ${context}`);
        assert.doesNotMatch(text, CONTROL, `control characters on ${name}`);
      }
      assert.ok(result.stderr.length <= 2000, "the error stays short");
      if (c.stderrMatch) assert.match(result.stderr, new RegExp(c.stderrMatch), context);
      assert.deepEqual(after, before, "the store is byte for byte unchanged");
    },
  });
}
