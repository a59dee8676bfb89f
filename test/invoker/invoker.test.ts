import path from "node:path";
import { describe } from "vitest";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { InProcessInvoker } from "../../src/invoker/in-process.js";
import { FIXTURES } from "../helpers/server.js";
import { invokerContract } from "./invoker.contract.js";

const cacheDir = path.join(FIXTURES, "invoker", ".switchboard", "modules");

describe("Invoker contract: InProcessInvoker", () => {
  invokerContract(async () => new InProcessInvoker(new ModuleLoader({ cacheDir })));
});
