import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import type { ConnectionRecord, WebSocketContext } from "../../src/runtime/index.js";
import { websocketHandler } from "../../src/runtime/index.js";
import { REPO_ROOT, repoScratchDir } from "../helpers/repo-paths.js";

const run = promisify(execFile);
const TMP = repoScratchDir("typed-rows");
afterAll(() => rm(TMP, { recursive: true, force: true }));

describe("typed connection rows", () => {
  it("a row type given to websocketHandler types ctx.connections", () => {
    type Row = { connectionId: string; user: string; room: string };
    websocketHandler<Row>(async (_event, ctx) => {
      const row = await ctx.connections.get(ctx.connectionId);
      expectTypeOf(row).toEqualTypeOf<Row | undefined>();
      expectTypeOf(await ctx.connections.query("room", "lobby")).toEqualTypeOf<Row[]>();
      // @ts-expect-error: a row without the declared fields
      await ctx.connections.put({ connectionId: ctx.connectionId });
      // @ts-expect-error: not a field of the row
      await ctx.connections.query("colour", "red");
    });
    // Without one, rows stay records whose fields are unknown.
    type Got = Awaited<ReturnType<WebSocketContext["connections"]["get"]>>;
    expectTypeOf<NonNullable<Got>["user"]>().toEqualTypeOf<unknown>();
    expectTypeOf<NonNullable<Got>>().toExtend<ConnectionRecord>();
  });

  it("a row declared once (declare module) types every handler", async () => {
    // Compiled on its own: the declaration would otherwise reach every file of this project.
    await mkdir(TMP, { recursive: true });
    const runtime = path.join(REPO_ROOT, "src", "runtime", "index.ts");
    await writeFile(
      path.join(TMP, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [path.join(REPO_ROOT, "node_modules", "@types")],
          allowImportingTsExtensions: true,
          paths: { "switchboard/runtime": [runtime] },
        },
        files: ["rows.ts"],
      }),
    );
    await writeFile(
      path.join(TMP, "rows.ts"),
      `import { websocketHandler } from "switchboard/runtime";
declare module "switchboard/runtime" {
  interface ConnectionRow { user: string; room: string }
}
export const handler = websocketHandler(async (_event, ctx) => {
  const row = await ctx.connections.get(ctx.connectionId);
  const user: string | undefined = row?.user;
  // @ts-expect-error: a number is not the declared string
  const room: number | undefined = row?.room;
  // @ts-expect-error: the declared fields are required
  await ctx.connections.put({ connectionId: ctx.connectionId });
  return { statusCode: 200, body: String(user) + String(room) };
});
`,
    );
    const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", TMP], { cwd: TMP }).then(
      () => "ok",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe("ok");
  }, 60_000);
});
