/**
 * `scripts/install.sh` against a loopback HTTP server serving fake release
 * assets: a good checksum installs the binary, a bad one (or a missing
 * asset) installs nothing. Plus the release workflow that publishes what
 * the script downloads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "../helpers.ts";

/** The asset name install.sh picks on this machine. */
function assetName(): string {
  const cpu = Deno.build.arch;
  return Deno.build.os === "darwin"
    ? `clawauth-${cpu}-apple-darwin`
    : `clawauth-${cpu}-unknown-linux-gnu`;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Serves `files` on `hostname` (default 127.0.0.1); anything else is 404. */
function assetServer(
  files: Record<string, Uint8Array<ArrayBuffer> | string>,
  hostname = "127.0.0.1",
) {
  const requested: string[] = [];
  const server = Deno.serve({ hostname, port: 0, onListen: () => {} }, (req) => {
    const name = new URL(req.url).pathname.replace(/^\/releases\/v9\//, "");
    requested.push(name);
    return Object.hasOwn(files, name)
      ? new Response(files[name])
      : new Response("not found", { status: 404 });
  });
  return {
    base: `http://${hostname}:${server.addr.port}/releases/v9`,
    port: server.addr.port,
    requested,
    close: () => server.shutdown(),
  };
}

/** How {@linkcode install} runs the script beyond `--dir DIR` and the download base. */
interface InstallOptions {
  /** The arguments instead of `--dir DIR`. */
  args?: string[];
  /** The environment instead of PATH, HOME and CLAWAUTH_DOWNLOAD_BASE. */
  env?: Record<string, string>;
  /** Words before the script that must `exec sh "$@"` (so the script keeps their PID). */
  wrap?: string[];
}

async function install(base: string, dir: string, opts: InstallOptions = {}) {
  const script = [`${ROOT}/scripts/install.sh`, ...opts.args ?? ["--dir", dir]];
  const [program, ...args] = opts.wrap ? [...opts.wrap, ...script] : ["sh", ...script];
  const out = await new Deno.Command(program, {
    args,
    clearEnv: true,
    env: opts.env ?? { PATH: "/usr/bin:/bin", HOME: dir, CLAWAUTH_DOWNLOAD_BASE: base },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** The names in `dir`, none when it does not exist. */
function entries(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

const FAKE_BINARY = new TextEncoder().encode(
  '#!/bin/sh\necho "clawauth 9.9.9 (fake release asset)"\n',
);

Deno.test("install.sh downloads clawauth-<target> and SHA256SUMS, checks the sum, and installs into --dir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clawauth-install-" });
  const asset = assetName();
  const server = assetServer({
    [asset]: FAKE_BINARY,
    SHA256SUMS: `${"0".repeat(64)}  clawauth-other-target\n${await sha256(
      FAKE_BINARY,
    )}  ${asset}\n`,
  });
  try {
    const result = await install(server.base, `${dir}/bin`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/bin/clawauth`), FAKE_BINARY);
    assert.equal(Deno.statSync(`${dir}/bin/clawauth`).mode! & 0o111, 0o111, "executable");
    assert.match(result.stderr, /installed .*\/bin\/clawauth \(clawauth 9\.9\.9/);
    assert.match(result.stderr, /is not on PATH/);
    assert.deepEqual(server.requested, [asset, "SHA256SUMS"]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/bin`)].map((e) => e.name), ["clawauth"]);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh refuses a checksum mismatch, a SHA256SUMS without the asset and a missing asset: nothing is installed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clawauth-install-" });
  const asset = assetName();
  const tampered = new TextEncoder().encode('#!/bin/sh\necho "not what was published"\n');
  const cases: [string, Record<string, Uint8Array<ArrayBuffer> | string>, RegExp][] = [
    [
      "mismatch",
      { [asset]: tampered, SHA256SUMS: `${await sha256(FAKE_BINARY)}  ${asset}\n` },
      /checksum mismatch for clawauth-.*nothing installed/,
    ],
    [
      "unlisted",
      { [asset]: FAKE_BINARY, SHA256SUMS: `${await sha256(FAKE_BINARY)}  clawauth-else\n` },
      /SHA256SUMS lists no clawauth-.*nothing installed/,
    ],
    ["missing", { SHA256SUMS: `${await sha256(FAKE_BINARY)}  ${asset}\n` }, /could not download/],
  ];
  try {
    for (const [name, files, message] of cases) {
      const server = assetServer(files);
      try {
        const result = await install(server.base, `${dir}/${name}`);
        assert.equal(result.code, 1, `${name}: ${result.stderr}`);
        assert.match(result.stderr, message, name);
        assert.deepEqual(entries(`${dir}/${name}`), [], `${name}: nothing installed`);
      } finally {
        await server.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A release whose sums are right, served on `hostname`. */
async function goodRelease(hostname?: string) {
  const asset = assetName();
  return assetServer(
    { [asset]: FAKE_BINARY, SHA256SUMS: `${await sha256(FAKE_BINARY)}  ${asset}\n` },
    hostname,
  );
}

Deno.test("install.sh refuses a CLAWAUTH_DOWNLOAD_BASE over plain http off the loopback names (64), asking nothing of it; localhost is fine", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clawauth-install-" });
  // 127.0.0.2 is this machine too, but not a name the rule trusts: it stands in for a remote host.
  const other = await goodRelease("127.0.0.2");
  const local = await goodRelease();
  try {
    const bases = [
      other.base,
      `http://127.0.0.1:${local.port}@127.0.0.2:${other.port}/releases/v9`,
      `http://localhost.:${other.port}/releases/v9`,
      `file://${dir}`,
    ];
    for (const base of bases) {
      const result = await install(base, `${dir}/bin`);
      assert.equal(result.code, 64, `${base}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /CLAWAUTH_DOWNLOAD_BASE must be https \(plain http only to 127\.0\.0\.1, localhost or \[::1\]\).*nothing downloaded/,
      );
      assert.deepEqual(entries(`${dir}/bin`), [], base);
    }
    assert.deepEqual(other.requested, []);
    assert.deepEqual(local.requested, []);
    const named = await install(`http://localhost:${local.port}/releases/v9`, `${dir}/bin`);
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/bin/clawauth`), FAKE_BINARY);
  } finally {
    await other.close();
    await local.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh writes through a fresh temp file and a rename: a link planted at the old temp name or at clawauth itself is never written through", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clawauth-install-" });
  const server = await goodRelease();
  const victim = `${dir}/victim`;
  const kept = "the victim's own bytes\n";
  try {
    Deno.mkdirSync(`${dir}/bin`);
    Deno.writeTextFileSync(victim, kept);
    Deno.symlinkSync(victim, `${dir}/bin/clawauth`);
    // The wrapper plants a link at the name the script used to write through,
    // `.clawauth.$$.tmp`, and execs it, so the script's $$ is the wrapper's.
    const plant = ["sh", "-c", 'ln -s "$VICTIM" "$DIR/.clawauth.$$.tmp" && exec sh "$@"', "sh"];
    const result = await install(server.base, `${dir}/bin`, {
      wrap: plant,
      env: {
        PATH: "/usr/bin:/bin",
        HOME: dir,
        CLAWAUTH_DOWNLOAD_BASE: server.base,
        VICTIM: victim,
        DIR: `${dir}/bin`,
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(Deno.readTextFileSync(victim), kept);
    assert.ok(Deno.lstatSync(`${dir}/bin/clawauth`).isFile, "the link is replaced, not followed");
    assert.deepEqual(await Deno.readFile(`${dir}/bin/clawauth`), FAKE_BINARY);
    const left = entries(`${dir}/bin`).filter((name) => name !== "clawauth");
    assert.equal(left.length, 1, `only the planted link is left: ${left}`);
    assert.match(left[0], /^\.clawauth\.\d+\.tmp$/);
    assert.ok(Deno.lstatSync(`${dir}/bin/${left[0]}`).isSymlink);

    Deno.removeSync(`${dir}/bin/clawauth`);
    Deno.mkdirSync(`${dir}/bin/clawauth`);
    const intoDir = await install(server.base, `${dir}/bin`);
    assert.equal(intoDir.code, 1);
    assert.match(intoDir.stderr, /bin\/clawauth is a directory; nothing installed/);
    assert.deepEqual(entries(`${dir}/bin/clawauth`), []);
    assert.deepEqual(entries(`${dir}/bin`).filter((n) => !n.endsWith(".tmp")), ["clawauth"]);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh without HOME and without --dir, or with an empty --dir, refuses (64) before downloading", async () => {
  // Every asset is missing: were the refusal to fail, the script would stop at the download.
  const server = assetServer({});
  try {
    const noHome = await install(server.base, "", {
      args: [],
      env: { PATH: "/usr/bin:/bin", CLAWAUTH_DOWNLOAD_BASE: server.base },
    });
    assert.equal(noHome.code, 64, noHome.stderr);
    assert.match(
      noHome.stderr,
      /HOME is not set, so there is no ~\/\.local\/bin: pass --dir DIR\./,
    );
    const empty = await install(server.base, "", { args: ["--dir", ""] });
    assert.equal(empty.code, 64, empty.stderr);
    assert.match(empty.stderr, /no install dir: --dir is empty; pass --dir DIR\./);
    assert.deepEqual(server.requested, []);
  } finally {
    await server.close();
  }
});

Deno.test("the release workflow builds every target on a tag and attaches the binaries, install.sh and SHA256SUMS", () => {
  const workflow = Deno.readTextFileSync(`${ROOT}/.github/workflows/release.yml`);
  assert.match(workflow, /on:\n {2}push:\n {4}tags: \["v\*"\]/);
  assert.match(workflow, /deno task compile --all --out dist/);
  assert.match(workflow, /sha256sum clawauth-\* install\.sh > SHA256SUMS/);
  assert.match(
    workflow,
    /gh release create "\$GITHUB_REF_NAME" .*\n\s+dist\/clawauth-\* dist\/install\.sh dist\/SHA256SUMS/,
  );
});
