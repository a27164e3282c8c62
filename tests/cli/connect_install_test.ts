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

/** Serves `files` on 127.0.0.1; anything else is 404. */
function assetServer(files: Record<string, Uint8Array<ArrayBuffer> | string>) {
  const requested: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const name = new URL(req.url).pathname.replace(/^\/releases\/v9\//, "");
    requested.push(name);
    return Object.hasOwn(files, name)
      ? new Response(files[name])
      : new Response("not found", { status: 404 });
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}/releases/v9`,
    requested,
    close: () => server.shutdown(),
  };
}

async function install(base: string, dir: string) {
  const out = await new Deno.Command("sh", {
    args: [`${ROOT}/scripts/install.sh`, "--dir", dir],
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", HOME: dir, CLAWAUTH_DOWNLOAD_BASE: base },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
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
        let entries: string[] = [];
        try {
          entries = [...Deno.readDirSync(`${dir}/${name}`)].map((e) => e.name);
        } catch { /* never created */ }
        assert.deepEqual(entries, [], `${name}: nothing installed`);
      } finally {
        await server.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
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
