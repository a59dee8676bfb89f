import { Command } from "commander";
import { registerBuildCommand } from "./build.js";
import { registerConnectCommand } from "./connect.js";
import { registerDeployCommand } from "./deploy.js";
import { registerDevCommand } from "./dev.js";
import { registerInitCommand } from "./init.js";
import { registerRoutesCommand } from "./routes.js";
import { registerStartCommand } from "./start.js";
import { registerValidateCommand } from "./validate.js";

const VERSION = "0.1.0";

export { formatRoutes } from "./routes.js";

/** Build the `switchboard` command line: one file per command, registered here. */
export function createProgram(): Command {
  const program = new Command("switchboard")
    .description("Serverless WebSocket APIs: define, run locally like API Gateway, ship.")
    .version(VERSION);
  registerDevCommand(program);
  registerRoutesCommand(program);
  registerValidateCommand(program);
  registerConnectCommand(program);
  registerBuildCommand(program);
  registerDeployCommand(program);
  registerStartCommand(program);
  registerInitCommand(program);
  return program;
}

/** Entry point of the `switchboard` binary. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  await createProgram().parseAsync([...argv]);
}
