// Pushpin as a benchmark peer: the echo backend (backend.mjs) in this process, and `pushpin`
// (condure + pushpin-proxy + pushpin-handler) as its child, with a configuration of its own in a
// temporary folder (run and log directories, internal ports shifted by --port-offset), routing
// every path to the backend over WebSocket-over-HTTP (`over_http`). The harness measures this
// process's tree: backend and Pushpin together.
//
//   node bench/peers/pushpin/run.mjs --port <p> --backend-port <b> --port-offset <n>
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBackend } from "./backend.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "backend-port": { type: "string" },
    "port-offset": { type: "string", default: "0" },
  },
});
const port = Number(values.port);
const backendPort = Number(values["backend-port"]);
await startBackend(backendPort);

const dir = mkdtempSync(join(tmpdir(), "sb-bench-pushpin-"));
for (const sub of ["run", "log"]) mkdirSync(join(dir, sub));
const conf = readFileSync("/etc/pushpin/pushpin.conf", "utf8")
  .replace(/^rundir=.*$/m, `rundir=${join(dir, "run")}`)
  .replace(/^logdir=.*$/m, `logdir=${join(dir, "log")}`)
  .replace(/^port_offset=.*$/m, `port_offset=${Number(values["port-offset"])}`)
  .replace(/^routesfile=.*$/m, `routesfile=${join(dir, "routes")}`)
  .replace(/^log_level=.*$/m, `log_level=${process.env.PUSHPIN_LOG_LEVEL ?? "1"}`)
  // The proxy reaches backends through zurl: the runner starts one of its own in the run
  // directory (the Debian package expects a system zurl at /var/run/zurl otherwise).
  .replace(/^services=.*$/m, "services=condure,zurl,pushpin-proxy,pushpin-handler")
  .replace(
    /^\[proxy\]$/m,
    [
      "[proxy]",
      "zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in",
      "zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream",
      "zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out",
    ].join("\n"),
  );
writeFileSync(join(dir, "pushpin.conf"), conf);
writeFileSync(join(dir, "routes"), `* 127.0.0.1:${backendPort},over_http\n`);

const child = spawn(
  "pushpin",
  ["--config", join(dir, "pushpin.conf"), "--port", `127.0.0.1:${port}`, "--merge-output"],
  { stdio: "inherit" },
);
const stop = () => child.kill("SIGTERM");
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
child.on("exit", (code) => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? 0);
});
