import { describe } from "vitest";
import { managementContract } from "../runtime/management.contract.js";

describe("Management contract: Connections (the gateway in process)", () => {
  managementContract(async (app) => app.gateway.management, { sendMany: true });
});
