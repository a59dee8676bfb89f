import path from "node:path";
import { describe } from "vitest";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { IsolatedInvoker } from "../../src/invoker/isolated.js";
import { FIXTURES } from "../helpers/server.js";
import { invokerContract } from "./invoker.contract.js";

const cacheDir = path.join(FIXTURES, "invoker", ".switchboard", "modules");

describe("Invoker contract: IsolatedInvoker (worker threads)", () => {
  invokerContract(async () => new IsolatedInvoker(new ModuleLoader({ cacheDir }), { cacheDir }));
});
