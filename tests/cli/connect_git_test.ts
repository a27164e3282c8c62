/**
 * git: `clawauth git-credential get|store|erase` (git's key=value protocol)
 * and `clawauth connect git`, tested with the real git against a loopback
 * HTTP server that demands Basic auth and answers `git ls-remote` like a
 * smart-HTTP remote. `GIT_CONFIG_GLOBAL` points git (and connect) at a temp
 * file, so the user's own git config is never read or written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type RunResult, type TempState, tempState, which } from "../helpers.ts";
import { idpFor, loginVia, profilesOf } from "../oauth_helpers.ts";

const gitPath = which("git");
const ignore = gitPath === undefined;
if (ignore) console.error("git tests ignored: git is not on PATH.");

/** git's request on stdin, then the blank line that ends it. */
function request(fields: Record<string, string>): string {
  return `${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("\n")}\n\n`;
}

/** Runs `clawauth git-credential ARGS…` with git's request `fields` on stdin. */
async function helper(
  state: TempState,
  call: { args: string[]; fields: Record<string, string> },
): Promise<RunResult> {
  return await state.run(["git-credential", ...call.args], { stdin: request(call.fields) });
}

async function pasteCopilot(state: TempState): Promise<string> {
  const token = `ghu_${"gitcredential0123456789".repeat(2)}`;
  const pasted = await state.run(["paste-token", "--provider", "github-copilot"], {
    stdin: `${token}\n`,
  });
  assert.equal(pasted.code, 0, pasted.stderr);
  return token;
}

Deno.test("git-credential get answers github.com with the github-copilot token; other hosts and plain http get no answer", async () => {
  await using state = await tempState();
  const token = await pasteCopilot(state);
  const got = await helper(state, {
    args: ["get"],
    fields: { protocol: "https", host: "github.com" },
  });
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, `username=x-access-token\npassword=${token}\n`);
  const named = await helper(state, {
    args: ["get"],
    fields: {
      protocol: "https",
      host: "github.com",
      username: "octocat",
    },
  });
  assert.equal(named.stdout, `username=octocat\npassword=${token}\n`);
  for (
    const fields of [
      { protocol: "https", host: "gitlab.com" },
      { protocol: "http", host: "github.com" },
      { protocol: "ssh", host: "github.com" },
    ]
  ) {
    const none = await helper(state, { args: ["get"], fields });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, "", JSON.stringify(fields));
  }
});

Deno.test("git-credential reads the host map from clawauth.json; --provider/--profile answer a host mapped to that provider, or the one --host names", async () => {
  await using state = await tempState();
  const token = await pasteCopilot(state);
  const key = "sk-proj-gitmap-0123456789abcdefghijklmn";
  assert.equal(
    (await state.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: `${key}\n`,
    })).code,
    0,
  );
  state.writeFile(
    "clawauth.json",
    JSON.stringify({
      git: { hosts: { "git.acme.test": { id: "openai", username: "oauth2" } } },
    }),
  );
  const ask = async (args: string[], host: string, protocol = "https") =>
    (await helper(state, { args: [...args, "get"], fields: { protocol, host } })).stdout;
  assert.equal(await ask([], "git.acme.test:8443"), `username=oauth2\npassword=${key}\n`);
  assert.equal(
    await ask(["--provider", "openai"], "git.acme.test"),
    `username=oauth2\npassword=${key}\n`,
  );
  assert.equal(
    await ask(["--profile", "github-copilot:default"], "github.com"),
    `username=x-access-token\npassword=${token}\n`,
  );
  // An explicit login never answers a host mapped elsewhere, or not at all (an unscoped helper).
  assert.equal(await ask(["--provider", "github-copilot"], "git.acme.test"), "");
  assert.equal(await ask(["--provider", "github-copilot"], "evil.example.test"), "");
  assert.equal(await ask(["--profile", "github-copilot:default"], "evil.example.test"), "");
  // --host scopes the helper to that origin, whatever the map says.
  const scoped = ["--provider", "github-copilot", "--host", "git.acme.test"];
  assert.equal(await ask(scoped, "git.acme.test"), `username=oauth2\npassword=${token}\n`);
  assert.equal(await ask(scoped, "github.com"), "");
  assert.equal(await ask(scoped, "git.acme.test", "http"), "");
  const origin = ["--provider", "github-copilot", "--host", "http://127.0.0.1:8080"];
  assert.equal(
    await ask(origin, "127.0.0.1:8080", "http"),
    `username=x-access-token\npassword=${token}\n`,
  );
  assert.equal(await ask(origin, "127.0.0.1:8081", "http"), "");
  const plain = await helper(state, {
    args: ["--provider", "github-copilot", "--host", "http://git.acme.test", "get"],
    fields: { protocol: "http", host: "git.acme.test" },
  });
  assert.equal(plain.code, 64);
  assert.match(plain.stderr, /plain http/);
  state.writeFile("clawauth.json", JSON.stringify({ git: { hosts: { "x.test": "not an id!" } } }));
  const bad = await helper(state, { args: ["get"], fields: { protocol: "https", host: "x.test" } });
  assert.equal(bad.code, 65);
  assert.match(bad.stderr, /clawauth\.json is not usable: git\.hosts\["x\.test"\]/);
});

Deno.test("git-credential store writes nothing; erase of a password clawauth did not issue changes nothing", async () => {
  await using state = await tempState();
  await pasteCopilot(state);
  const before = state.storeText();
  for (const action of ["store", "erase"]) {
    const result = await helper(state, {
      args: [action],
      fields: {
        protocol: "https",
        host: "github.com",
        username: "me",
        password: "ghp_not-issued-by-clawauth",
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
  }
  assert.equal(state.storeText(), before);
  assert.doesNotMatch(state.storeText(), /not-issued/);
  const usage = await state.run(["git-credential"]);
  assert.equal(usage.code, 64);
  const unknown = await helper(state, { args: ["capability"], fields: {} });
  assert.equal(unknown.code, 0, "gitcredentials(7): unknown operations are ignored");
});

/** A loopback "git remote" that demands Basic auth and serves one ref to ls-remote. */
function gitServer(accept: (password: string) => boolean) {
  const seen: string[] = [];
  const sha = "0123456789abcdef0123456789abcdef01234567";
  const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, "0")}${line}`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const basic = /^Basic (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    const [user, password] = basic ? atob(basic).split(/:(.*)/s) : [];
    if (password !== undefined) seen.push(`${user}:${password}`);
    if (password === undefined || !accept(password)) {
      return new Response("auth required", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="fake git"' },
      });
    }
    const body = pkt("# service=git-upload-pack\n") + "0000" +
      pkt(`${sha} HEAD\0symref=HEAD:refs/heads/main agent=fake/1\n`) +
      pkt(`${sha} refs/heads/main\n`) + "0000";
    return new Response(body, {
      headers: { "content-type": "application/x-git-upload-pack-advertisement" },
    });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return { url, seen, sha, close: () => server.shutdown() };
}

/** Runs the real git with the temp global config and no prompts. */
async function runGit(state: TempState, args: string[], gitconfig: string): Promise<RunResult> {
  const out = await new Deno.Command(gitPath!, {
    args,
    cwd: state.home,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: state.home,
      GIT_CONFIG_GLOBAL: gitconfig,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      DENO_DIR: Deno.env.get("DENO_DIR") ??
        `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

const GITCONFIG = `[user]
\tname = Test User
\temail = test@example.test
[credential]
\thelper = store
`;

Deno.test({
  name:
    "connect git: git ls-remote against a loopback server demanding Basic auth gets the password from git-credential; disconnect restores .gitconfig",
  ignore,
  async fn() {
    await using state = await tempState();
    const token = await pasteCopilot(state);
    const server = gitServer((password) => password === token);
    try {
      const gitconfig = `${state.home}/gitconfig`;
      Deno.writeTextFileSync(gitconfig, GITCONFIG);
      const env = { HOME: state.home, GIT_CONFIG_GLOBAL: gitconfig };
      const connected = await state.run(
        ["connect", "git", "--host", server.url, "--provider", "github-copilot"],
        { env },
      );
      assert.equal(connected.code, 0, connected.stderr);
      const text = Deno.readTextFileSync(gitconfig);
      assert.ok(text.startsWith(GITCONFIG), "the user's lines are untouched");
      assert.match(
        text.slice(GITCONFIG.length),
        new RegExp(
          `^\\[credential "${server.url}"\\]\\n\\thelper = \\n\\thelper = !\\S+ run .* git-credential --state-dir \\S+ --provider github-copilot --host ${server.url}\\n$`,
        ),
      );
      const again = await state.run(
        ["connect", "git", "--host", server.url, "--provider", "github-copilot"],
        { env },
      );
      assert.match(again.stdout, /already connected/);
      assert.equal(Deno.readTextFileSync(gitconfig), text);

      const listed = await runGit(state, ["ls-remote", `${server.url}/repo.git`], gitconfig);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout, `${server.sha}\tHEAD\n${server.sha}\trefs/heads/main\n`);
      assert.deepEqual([...new Set(server.seen)], [`x-access-token:${token}`]);
      // The "store" helper (reset by the empty entry) was never asked to keep the token.
      assert.throws(() => Deno.statSync(`${state.home}/.git-credentials`), Deno.errors.NotFound);

      const undone = await state.run(["disconnect", "git", "--host", server.url], { env });
      assert.equal(undone.code, 0, undone.stderr);
      assert.equal(Deno.readTextFileSync(gitconfig), GITCONFIG);
      assert.equal(Deno.readTextFileSync(`${gitconfig}.clawauth-backup`), text);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "git after a 401: git erases the refused OAuth token, and the next command's get refreshes it",
  ignore,
  async fn() {
    await using state = await tempState();
    const idp = await idpFor(state);
    let refused: string | undefined;
    const server = gitServer((password) => {
      // The remote refuses the first token it sees (revoked early), then takes fresh ones.
      refused ??= password;
      return password !== refused;
    });
    try {
      const id = await loginVia(idp, state);
      const first = String(profilesOf(state)[id].access);
      const gitconfig = `${state.home}/gitconfig`;
      const env = { HOME: state.home, GIT_CONFIG_GLOBAL: gitconfig };
      assert.equal(
        (await state.run(["connect", "git", "--host", server.url, "--profile", id], { env })).code,
        0,
      );
      const failed = await runGit(state, ["ls-remote", `${server.url}/repo.git`], gitconfig);
      assert.notEqual(failed.code, 0);
      assert.equal(refused, first);
      assert.equal(idp.counts().refresh_token, 0);
      const retried = await runGit(state, ["ls-remote", `${server.url}/repo.git`], gitconfig);
      assert.equal(retried.code, 0, retried.stderr);
      assert.equal(idp.counts().refresh_token, 1);
      const fresh = String(profilesOf(state)[id].access);
      assert.notEqual(fresh, first);
      assert.equal(server.seen[server.seen.length - 1], `x-access-token:${fresh}`);
      assert.equal((await state.run(["disconnect", "git", "--host", server.url], { env })).code, 0);
      assert.throws(() => Deno.statSync(gitconfig), Deno.errors.NotFound, "connect created it");
    } finally {
      await server.close();
      await idp.close();
    }
  },
});

Deno.test("connect git refuses a plain-http origin that is not this machine (tokens go over https)", async () => {
  await using state = await tempState();
  const gitconfig = `${state.home}/gitconfig`;
  const result = await state.run(["connect", "git", "--host", "http://git.example.test"], {
    env: { HOME: state.home, GIT_CONFIG_GLOBAL: gitconfig },
  });
  assert.equal(result.code, 64);
  assert.match(result.stderr, /plain http/);
  assert.throws(() => Deno.statSync(gitconfig), Deno.errors.NotFound);
});
